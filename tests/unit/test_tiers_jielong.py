"""接龙 lists: parsing, the task a list is for, which entry a version adds, and its note."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiers.checkin import CheckinTask
from tiers.jielong import Entry, entry_note, is_absence, parse, senders_entry, task_of

HEADER = "@班长  打卡#接龙\n\n12月2日打卡 一起加油💪\n例 打卡第n天 内容\n"
ENTRIES = ["阿青-读书", "小舟 打卡第3天，读完《人类简史》第二章", "木木 打卡第一天 跑步3公里"]
TASKS = [CheckinTask(1, "打卡", ("打卡", "签到")), CheckinTask(2, "早起打卡", ("早起打卡",)),
         CheckinTask(3, "读书", ("读书打卡",), room="r2@chatroom")]


def version(*entries: str, header: str = HEADER) -> str:
    return header + "\n" + "\n".join(f"{i}. {e}" for i, e in enumerate(entries, 1))


def test_a_list_as_wechat_shows_it() -> None:
    j = parse(version(*ENTRIES))
    assert j is not None
    assert j.header == ("@班长  打卡#接龙", "12月2日打卡 一起加油💪", "例 打卡第n天 内容")
    assert j.title == "12月2日打卡 一起加油💪"
    assert [e.n for e in j.entries] == [1, 2, 3] and j.entries[2].text == "木木 打卡第一天 跑步3公里"


def test_an_entry_on_several_lines_and_a_template_entry() -> None:
    j = parse(HEADER + "\n1. 阿青 读书\n今天读了两章\n2. 例 打卡第X天 内容")
    assert j is not None and j.entries == (Entry(1, "阿青 读书\n今天读了两章"),)


def test_the_key_is_the_same_for_every_version_and_differs_between_lists() -> None:
    one, two = parse(version(ENTRIES[0])), parse(version(*ENTRIES))
    other = parse(version(*ENTRIES, header="早起打卡#接龙\n\n12月3日早起\n"))
    assert one and two and other and one.key == two.key != other.key


@pytest.mark.parametrize(("header", "room", "task"), [
    (HEADER, None, 1),
    ("#接龙\n\n早起打卡 12月2日\n", None, 2),  # the longest name wins
    ("#接龙\n\n12月2日 读书打卡\n", "r2@chatroom", 3),  # a task of that room
    ("#接龙\n\n12月2日 读书打卡\n", "r1@chatroom", 1),  # not this room's: 打卡 inside it
    ("#接龙\n\n周末聚餐报名\n", None, None),
])
def test_the_task_the_header_names(header: str, room: str | None, task: int | None) -> None:
    j = parse(version("小舟 好", header=header))
    assert j is not None
    found = task_of(j, TASKS, room)
    assert (found.id if found else None) == task


def test_the_new_entry_with_the_senders_name_is_theirs() -> None:
    before, after = parse(version(*ENTRIES[:2])), parse(version(*ENTRIES))
    assert before and after
    assert senders_entry(before, after, ["木木"]) == Entry(3, ENTRIES[2])
    assert senders_entry(before, after, ["Momo"]) == Entry(3, ENTRIES[2])  # appended: theirs


def test_a_list_sent_again_adds_nothing() -> None:
    j = parse(version(*ENTRIES))
    assert j and senders_entry(j, j, ["木木"]) is None and senders_entry(j, j, ["路人"]) is None


def test_an_entry_someone_else_edits_is_not_theirs() -> None:
    before = parse(version(*ENTRIES))
    edited = parse(version(ENTRIES[0], ENTRIES[1] + "，还做了笔记", ENTRIES[2]))
    assert before and edited
    assert senders_entry(before, edited, ["木木"]) is None
    assert senders_entry(before, edited, ["路人"]) is None
    assert senders_entry(before, edited, ["小舟"]) == Entry(2, ENTRIES[1] + "，还做了笔记")


def test_the_starters_template_alone_has_no_entry() -> None:
    j = parse(HEADER)
    assert j is not None and j.entries == () and senders_entry(None, j, ["班长"]) is None


def test_the_first_version_seen_takes_the_senders_name_else_the_last_entry() -> None:
    j = parse(version(*ENTRIES))
    assert j is not None
    assert senders_entry(None, j, ["小舟"]) == Entry(2, ENTRIES[1])
    assert senders_entry(None, j, ["路人"]) == Entry(3, ENTRIES[2])


@pytest.mark.parametrize(("entry", "names", "note"), [
    ("小舟 打卡第3天，读完第二章", ["小舟"], "打卡第3天，读完第二章"),
    ("阿青-读书", ["阿青"], "读书"),
    ("【木木】跑步3公里", ["木木"], "跑步3公里"),
    ("木木", ["木木"], None),
    ("跑步3公里", ["木木"], "跑步3公里"),
])
def test_the_note_is_the_entry_without_the_senders_name(entry: str, names: list[str], note: str | None) -> None:
    assert entry_note(Entry(1, entry), names) == note


@pytest.mark.parametrize(("note", "absent"), [("请假", True), ("今天未完成", True), ("跑步3公里", False),
                                              (None, False)])
def test_an_absence(note: str | None, absent: bool) -> None:
    assert is_absence(note) is absent


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_parse_never_fails(text: str) -> None:
    j = parse(text)
    if j is not None:
        assert all(e.text for e in j.entries)
        senders_entry(None, j, ["小舟"])
