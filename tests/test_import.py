"""`qunguan import`: hand-made exports in each format (written from the notes on the
exporters, not by our own code) through the real pipeline into a real SQLite store."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.events import Message
from bot.importer.progress import Progress

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
GROUP_CSV = EXPORTS / "读书群_utf8.csv"
DM_CSV = EXPORTS / "王五_utf8.csv"
ROOM = "10001@chatroom"
CONFIG = Path(__file__).parents[1] / "bot" / "example_config.toml"
HEADER = "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender"


def qunguan(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def members(capsys, db: Path, *extra: str) -> dict[str, dict]:
    code, out, err = qunguan(capsys, "report", "--json", "--db", str(db), *extra)
    assert code == 0, err
    return {m["id"]: m for m in json.loads(out)["members"]}


def counts(db: Path) -> dict[str, object]:
    """Everything an import decides, read straight from the store."""
    with sqlite3.connect(db) as conn:
        q = lambda sql: sorted(conn.execute(sql).fetchall())  # noqa: E731
        return {
            "daily": q("SELECT member, room, day, messages, counted, checkins, commands FROM dailyactivity"),
            "checkins": q("SELECT member, task_id, day FROM checkin"),
            "points": q("SELECT id, points FROM member"),
            "ledger": q("SELECT member, delta, kind, day FROM pointsentry"),
            "tags": q("SELECT member, tag, message_id, excerpt FROM membertag"),
            "memberships": q("SELECT room, member, joined_at, left_at, active FROM membership"),
            "referrals": q("SELECT room, member, inviter FROM referral"),
            "events": q("SELECT count(*) FROM eventlog"),
        }


def test_a_group_csv_is_scored_as_if_the_bot_had_been_there(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out, err = qunguan(capsys, "import", str(GROUP_CSV), "--room", ROOM, "--db", str(db),
                             "--config", str(CONFIG))
    assert code == 0, out + err
    assert "文件 1 个：读书群_utf8.csv（留痕 CSV 2024 版）" in out
    assert "消息 14 条" in out and "入群 3 次，移出 1 次" in out
    assert "时间 2026-10-01 07:58 至 2026-10-03 08:01" in out
    assert "对不上成员的昵称" in out and "小明" in out  # two members are called 小明
    rows = members(capsys, db, "--at", "2026-10-03T12:00:00+08:00")
    zhang, li, wang = rows["wxid_zhangsan"], rows["wxid_lisi"], rows["wxid_wangwu"]
    # Three check-ins, one a day, recognised as written (with a note over two lines, 「#打卡 第3天：…」).
    # 3 check-ins, and speaking points for 大家早上好 and the two check-ins with a note (main f21d521).
    assert zhang["streak"] == 3 and zhang["points"] == 3 * 10 + 3
    assert zhang["name"] == "张三"  # the nickname: a remark is the exporter's own, never shown
    # A photo, a voice message and a quoted reply count as speaking; media has no text to tag.
    assert li["messages"] == 4
    [lead] = wang["tags"]
    assert lead["name"] == "意向" and "「请问课程多少钱」" in lead["reason"] and "10-01 08:07" in lead["reason"]
    assert wang["messages"] == 2
    assert rows["wxid_zhaoliu"]["rooms"] == []  # removed on the 3rd
    c = counts(db)
    assert (ROOM, "wxid_lisi", "wxid_zhangsan") in c["referrals"]  # 「张三」邀请「李四」
    assert (ROOM, "wxid_wangwu", "wxid_zhangsan") in c["referrals"]  # scanned 张三's QR code
    assert not any(r[1] == "wxid_zhaoliu" for r in c["referrals"])  # a QR code with no sharer named
    with sqlite3.connect(db) as conn:  # silent: nothing was queued to send
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)


def test_a_one_to_one_csv_holds_the_contacts_messages_and_the_operators(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out, _ = qunguan(capsys, "import", str(DM_CSV), "--db", str(db))
    assert code == 0
    assert "导出账号自己在私聊里发的 1 条是运营的消息" in out
    rows = members(capsys, db)
    assert set(rows) == {"wxid_wangwu"}  # the operator (wxid_me) is no member
    assert rows["wxid_wangwu"]["messages"] == 3 and rows["wxid_wangwu"]["rooms"] == []


def test_reimporting_changes_nothing(tmp_path, capsys):
    db = tmp_path / "q.db"
    qunguan(capsys, "import", str(GROUP_CSV), "--room", ROOM, "--db", str(db))
    before = counts(db)
    code, out, _ = qunguan(capsys, "import", str(GROUP_CSV), "--room", ROOM, "--db", str(db))
    assert code == 0 and "新写入 0 条事件" in out
    assert counts(db) == before


def _rows() -> list[str]:
    lines = GROUP_CSV.read_text(encoding="utf-8-sig").splitlines(keepends=True)[1:]
    records: list[str] = []
    for line in lines:  # a record with a quoted newline spans two lines
        if records and records[-1].count('"') % 2:
            records[-1] += line
        else:
            records.append(line)
    return records


def _csv(path: Path, records: list[str], renumber: int = 0) -> Path:
    out = []
    for r in records:
        local_id, rest = r.split(",", 1)
        out.append(f"{int(local_id) + renumber},{rest}")
    path.write_text("\ufeff" + HEADER + "\n" + "".join(out), encoding="utf-8")
    return path


def test_two_overlapping_exports_count_as_one_clean_import(tmp_path, capsys):
    records = _rows()
    assert len(records) == 21
    folder = tmp_path / "exports"
    folder.mkdir()
    # Taken apart in time and from another computer (other local ids), sharing ten records;
    # the later one comes first in the folder.
    _csv(folder / "a_early.csv", records[:15])
    _csv(folder / "0_late.csv", records[5:], renumber=1000)
    one = tmp_path / "one.db"
    both = tmp_path / "both.db"
    assert qunguan(capsys, "import", str(GROUP_CSV), "--room", ROOM, "--db", str(one), "--config", str(CONFIG))[0] == 0
    assert qunguan(capsys, "import", str(folder), "--room", ROOM, "--db", str(both), "--config", str(CONFIG))[0] == 0
    assert counts(both) == counts(one)


def test_memotrace_txt_knows_members_by_name_only(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out, _ = qunguan(capsys, "import", str(EXPORTS / "读书群.txt"), "--room", ROOM, "--db", str(db))
    assert code == 0
    assert "只有昵称、没有 wxid" in out and "入群 1 次" in out
    rows = {m["name"]: m for m in members(capsys, db).values()}
    assert set(rows) == {"张三", "李四"}
    assert rows["张三"]["streak"] == 1  # 「打卡 今天读了20页」 with a blank line inside the note
    assert rows["李四"]["messages"] == 2  # the photo and the question
    assert all(m.startswith("name:") for m in (r["id"] for r in rows.values()))
    # The same names in the same room give the same ids on another import.
    again = tmp_path / "again.db"
    qunguan(capsys, "import", str(EXPORTS / "读书群.txt"), "--room", ROOM, "--db", str(again))
    assert set(members(capsys, again)) == {r["id"] for r in rows.values()}


def test_chatlab_json_suggests_admins_and_resolves_group_nicknames(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out, _ = qunguan(capsys, "import", str(EXPORTS / "读书群.json"), "--db", str(db))
    assert code == 0, out
    assert "wxid_zhangsan（群主）" in out and "wxid_lisi（管理员）" in out
    assert "QUNGUAN_ADMINS=wxid_lisi,wxid_zhangsan" in out
    assert "消息 5 条" in out  # the recall is not a message
    c = counts(db)
    # 「"张老师"邀请"王五"加入了群聊」: the inviter named by group nickname.
    assert c["referrals"] == [("20001@chatroom", "wxid_wangwu", "wxid_zhangsan")]
    assert members(capsys, db)["wxid_wangwu"]["messages"] == 2


def test_chatlab_jsonl_skips_bad_lines_and_imports_the_rest(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out, _ = qunguan(capsys, "import", str(EXPORTS / "读书群.jsonl"), "--db", str(db))
    assert code == 1  # something was skipped
    assert "读书群.jsonl:9" in out and "文件可能被截断" in out
    assert "读书群.jsonl:10" in out and "时间戳超出范围" in out
    rows = members(capsys, db)
    assert rows["wxid_lisi"]["streak"] == 1 and rows["wxid_lisi"]["messages"] == 1  # the sticker
    assert rows["wxid_wangwu"]["messages"] == 1


def test_a_chatlab_private_chat_holds_the_contacts_messages_and_the_operators(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out, _ = qunguan(capsys, "import", str(EXPORTS / "王五_private.jsonl"), "--db", str(db))
    assert code == 0 and "导出账号自己在私聊里发的 1 条是运营的消息" in out
    rows = members(capsys, db)
    assert set(rows) == {"wxid_wangwu"}
    assert rows["wxid_wangwu"]["messages"] == 2 and rows["wxid_wangwu"]["rooms"] == []


def test_json_and_jsonl_of_one_chat_overlap_without_counting_twice(tmp_path, capsys):
    db = tmp_path / "q.db"
    qunguan(capsys, "import", str(EXPORTS / "读书群.json"), str(EXPORTS / "读书群.jsonl"), "--db", str(db))
    rows = members(capsys, db)
    # 「大家早上好」 and 「请问课程多少钱」 are in both files.
    assert rows["wxid_wangwu"]["messages"] == 2
    assert rows["wxid_zhangsan"]["messages"] == 1


def test_dry_run_writes_nothing(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out, _ = qunguan(capsys, "import", str(EXPORTS), "--room", ROOM, "--dry-run", "--db", str(db))
    assert "试运行" in out and "文件 6 个" in out
    assert code == 1  # the JSONL file's bad lines
    assert not db.exists()


# ---- bad input ------------------------------------------------------------------------------

def test_a_group_csv_without_room_says_so_and_the_rest_is_imported(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out, _ = qunguan(capsys, "import", str(GROUP_CSV), str(DM_CSV), "--db", str(db))
    assert code == 1
    assert "读书群_utf8.csv：这是群聊导出" in out and "--room" in out
    assert set(members(capsys, db)) == {"wxid_wangwu"}


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("notes.md", "# 会议记录\n今天讨论了……\n", "无法识别的文件格式"),
    ("wrong.csv", "id,time,sender,text\n1,1790812700,wxid_a,你好\n", "无法识别的文件格式"),
    ("columns.csv", "localId,TalkerId,Type,CreateTime,StrContent\n1,2,1,1790812700,你好\n", "表头不对"),
    ("broken.json", '{"chatlab": {"version": "0.0.2"}, "meta": {"name": "x", "groupId": "g@chatroom"}, '
                    '"messages": [{"sender"', "文件可能不完整"),
])
def test_files_we_cannot_read_say_what_was_expected(tmp_path, capsys, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, out, _ = qunguan(capsys, "import", str(path), "--room", ROOM, "--db", str(tmp_path / "q.db"))
    assert code == 1
    assert f"{path}：" in out and expected in out
    if "无法识别" in expected:
        assert "留痕/MemoTrace CSV" in out and "ChatLab" in out


def test_a_truncated_csv_keeps_what_came_before(tmp_path, capsys):
    records = _rows()
    path = _csv(tmp_path / "cut.csv", records[:3])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('4,12,1,0,0,1790812920,0,"打卡 今天读了')  # the export stopped mid-message
    code, out, _ = qunguan(capsys, "import", str(path), "--room", ROOM, "--db", str(tmp_path / "q.db"))
    assert code == 1
    assert "cut.csv:5" in out and "没有闭合" in out
    assert "消息 2 条" in out


def test_rows_with_bad_fields_are_skipped_with_their_line(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("\ufeff" + HEADER + "\n"
                    "1,12,1,0,0,1790812700,0,你好,2026-10-01 07:58:20,,张三,wxid_a\n"
                    "2,12,1,0,0,1790812700000,0,毫秒时间戳,2026-10-01 07:58:20,,张三,wxid_a\n"
                    "3,12,文本,0,0,1790812700,0,类型错了,2026-10-01 07:58:20,,张三,wxid_a\n"
                    "4,12,1,0,0,1790812760\n"
                    "5,12,1,0,0,1790812800,0,你好呀,2026-10-01 08:00:00,,李四,wxid_b\n", encoding="utf-8")
    code, out, _ = qunguan(capsys, "import", str(path), "--room", ROOM, "--db", str(tmp_path / "q.db"))
    assert code == 1
    assert "bad.csv:3" in out and "不是毫秒" in out
    assert "bad.csv:4" in out and "不是数字" in out
    assert "bad.csv:5" in out and "列数不对" in out
    assert "消息 2 条" in out and "跳过 3 行" in out


def test_a_gbk_file_is_decoded_and_the_summary_says_how_to_convert(tmp_path, capsys):
    path = tmp_path / "gbk.csv"
    text = GROUP_CSV.read_text(encoding="utf-8-sig")
    path.write_bytes(text.encode("gbk"))
    db = tmp_path / "q.db"
    code, out, _ = qunguan(capsys, "import", str(path), "--room", ROOM, "--db", str(db))
    assert code == 0
    assert "按 GBK" in out and "iconv -f GBK -t UTF-8" in out
    assert members(capsys, db)["wxid_zhangsan"]["name"] == "张三"


def test_a_mixed_folder_imports_each_file_by_its_own_format(tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("读书群_utf8.csv", "读书群.json"):
        (folder / name).write_bytes((EXPORTS / name).read_bytes())
    code, out, _ = qunguan(capsys, "import", str(folder), "--room", ROOM, "--dry-run")
    assert code == 0 and "读书群_utf8.csv（留痕 CSV 2024 版）" in out and "读书群.json（ChatLab JSON/JSONL）" in out
    code, out, _ = qunguan(capsys, "import", str(folder), "--room", ROOM, "--format", "memotrace-csv", "--dry-run")
    assert code == 1
    assert "读书群.json：这是ChatLab JSON/JSONL文件，不是 --format memotrace-csv" in out


def test_history_newer_than_the_first_live_event_is_refused_unless_overlap_ok(tmp_path, capsys):
    db = tmp_path / "q.db"
    live = tmp_path / "live.jsonl"
    # The bot joined the room on 10-02 at 08:00: from then on it saw everything itself.
    live.write_text(json.dumps({"type": "message", "id": "wechat-1", "ts": 1790899200, "room": ROOM,
                                "sender": "wxid_lisi", "text": "早"}) + "\n", encoding="utf-8")
    assert qunguan(capsys, "replay", str(live), "--silent", "--db", str(db))[0] == 0
    code, out, _ = qunguan(capsys, "import", str(GROUP_CSV), "--room", ROOM, "--db", str(db))
    assert code == 1
    assert "有 4 条晚于机器人在该群的第一条实时记录" in out and "--overlap-ok" in out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM checkin").fetchone() == (1,)  # only 10-01's
    code, out, _ = qunguan(capsys, "import", str(GROUP_CSV), "--room", ROOM, "--db", str(db), "--overlap-ok")
    assert code == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM checkin").fetchone() == (3,)


def test_progress_is_a_line_every_ten_seconds_off_a_terminal():
    now = [0.0]
    out = io.StringIO()
    progress = Progress(3000, terminal=False, out=out, clock=lambda: now[0])
    ts = datetime(2026, 10, 1, tzinfo=UTC)

    def events():
        for i in range(2048):
            now[0] = i * 0.01  # 2048 messages over 20.5 s
            yield Message(id=f"m{i}", ts=ts, sender="a", text="x")

    assert sum(1 for _ in progress.track(progress.labelled("a.csv", events()))) == 2048
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("导入中：a.csv，已读 1024 条消息，每秒 100 条")
    assert "约还需" in lines[0]


def test_the_demo_imports_a_generated_memotrace_export(tmp_path, capsys):
    code, out, _ = qunguan(capsys, "demo", "--dir", str(tmp_path))
    assert code == 0
    assert "历史聊天记录：读书群_utf8.csv（留痕 CSV 2024 版）导入到「读书群」：3000 条消息" in out
    with sqlite3.connect(tmp_path / "qunguan.db") as conn:
        imported, first_live = conn.execute(
            "SELECT sum(id LIKE 'imp:%'), min(CASE WHEN id NOT LIKE 'imp:%' AND type = 'message' THEN ts END) "
            "FROM eventlog WHERE room = 'r1@chatroom'").fetchone()
        last_imported = conn.execute("SELECT max(ts) FROM eventlog WHERE id LIKE 'imp:%'").fetchone()[0]
    assert imported >= 3000 and last_imported < first_live  # history, then the month the bot saw
    with sqlite3.connect(tmp_path / "qunguan.db") as conn:
        waiting, sent = conn.execute("SELECT sum(status = 'pending'), sum(status = 'sent') FROM outbox").fetchone()
    written = sum(1 for line in open(tmp_path / "replies.jsonl", encoding="utf-8") if line.strip())
    assert waiting == 0 and sent == written > 0  # what the demo wrote out is not left queued
    # the first list holds what is urgent, and says how many routine visits wait for room
    # (it listed every member of a graded community as 分级回访 at once)
    first = out[out.index("明早 09:00 会收到的跟进清单"):]
    waiting_visits = re.search(r"分级回访还有 (\d+) 项在排队，按到期先后每天补进清单（补满每天 20 项为止）", first)
    assert waiting_visits and int(waiting_visits.group(1)) > 0
    # the summary shows the stage distribution moving over the demo's weeks
    weeks = out[out.index("每周变化"):].splitlines()[1:6]
    assert [w[2:7] for w in weeks] == ["10-26", "11-02", "11-09", "11-16", "11-23"]
    counts = [re.findall(r"(潜在|新|成长|成熟|衰退|流失) (\d+)", w) for w in weeks]
    assert all(len(c) == 6 for c in counts)
    assert counts[0] != counts[-1] and all("（" in w for w in weeks[1:])
    now = re.findall(r"(潜在|新|成长|成熟|衰退|流失) (\d+)", out[out.index("生命周期："):].splitlines()[0])
    assert counts[-1] == now  # the last week ends where the report stands


def test_progress_on_a_terminal_is_a_bar_with_the_file_and_the_rate():
    out = io.StringIO()
    progress = Progress(1024, terminal=True, out=out)
    ts = datetime(2026, 10, 1, tzinfo=UTC)
    events = (Message(id=f"m{i}", ts=ts, sender="a", text="x") for i in range(1024))
    assert sum(1 for _ in progress.track(progress.labelled("读书群_utf8.csv", events))) == 1024
    progress.close()
    bar = out.getvalue()
    assert "导入" in bar and "读书群_utf8.csv" in bar and "1.02k/1.02k" in bar and "条/s" in bar


def test_notice_names_resolve_against_members_the_store_already_knows(tmp_path, capsys):
    db = tmp_path / "q.db"
    live = tmp_path / "live.jsonl"
    # The bot has seen 周七 in the room (live, later); the export only names her in a notice.
    live.write_text(json.dumps({"type": "message", "id": "wechat-9", "ts": 1791594000, "room": ROOM,
                                "sender": "wxid_zhouqi", "sender_name": "周七", "text": "大家好"}) + "\n",
                    encoding="utf-8")
    assert qunguan(capsys, "replay", str(live), "--silent", "--db", str(db))[0] == 0
    path = tmp_path / "notice.csv"
    path.write_text("\ufeff" + HEADER + "\n"
                    "1,12,1,0,0,1790812700,0,大家早上好,2026-10-01 07:58:20,,张三,wxid_zhangsan\n"
                    '2,12,10000,0,0,1790812800,0,"""张三""邀请""周七""加入了群聊",2026-10-01 08:00:00,,,\n'
                    "3,12,1,0,0,1790812900,0,欢迎欢迎,2026-10-01 08:01:40,,李四,wxid_lisi\n",
                    encoding="utf-8")
    code, out, _ = qunguan(capsys, "import", str(path), "--room", ROOM, "--db", str(db))
    assert code == 0 and "入群 1 次" in out and "对不上" not in out
    assert counts(db)["referrals"] == [(ROOM, "wxid_zhouqi", "wxid_zhangsan")]
