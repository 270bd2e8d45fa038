"""Names as WeChat users write them never drop an event, and are shown safely wherever shown."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.core.events import MAX_NAME, EventError, Message, parse_event, validate
from bot.core.names import NAMELESS, display

NOW = datetime(2026, 11, 2, tzinfo=UTC)
ROOM = "r1@chatroom"
# Names people really pick: ZWJ emoji sequences, flags with variation selectors, an invisible
# name of zero-width spaces, an RTL override, a Hangul filler, a name with a newline.
NAMES = ["👩‍💻小美", "彩虹🏳️‍🌈", "🧑‍🎓", "\u200b\u200b", "\u202e小明", "ㅤ", "A\u200dB", "بشرى",
         "家庭👨‍👩‍👧‍👦", "\ufe0f", "第一行\n第二行"]


def _msg(**kw):
    return {"type": "message", "id": "m1", "ts": 1761955200, "sender": "wxid_a", "text": "打卡",
            "room": ROOM, **kw}


@pytest.mark.parametrize("name", NAMES)
def test_every_name_field_takes_any_name_and_keeps_it(name):
    assert parse_event(_msg(sender_name=name, room_name=name), not_after=NOW).sender_name == name.strip() or None
    join = parse_event({"type": "join", "id": "j", "ts": 1761955200, "room": ROOM, "member": "wxid_b",
                        "member_name": name, "room_name": name}, not_after=NOW)
    assert join.member_name == (name.strip() or None)
    roster = parse_event({"type": "roster", "id": "r", "ts": 1761955200, "room": ROOM,
                          "members": [{"id": "wxid_b", "name": name, "room_alias": name}]}, not_after=NOW)
    assert roster.members[0].name == (name.strip() or None)


def test_long_names_are_cut_nul_and_lone_surrogates_replaced_non_text_ignored():
    long = parse_event(_msg(sender_name="龙" * (MAX_NAME - 1) + "👩‍💻"), not_after=NOW)
    assert len(long.sender_name) <= MAX_NAME and not long.sender_name.endswith("\u200d")
    assert parse_event(_msg(sender_name="a\x00b\udfff"), not_after=NOW).sender_name == "a\ufffdb\ufffd"
    assert parse_event(_msg(sender_name=3, room_name={"x": 1}), not_after=NOW).sender_name is None
    roster = parse_event({"type": "roster", "id": "r", "ts": 1761955200, "room": ROOM,
                          "members": [{"id": "wxid_a", "name": 3}]}, not_after=NOW)
    assert roster.members[0].name is None


@pytest.mark.parametrize("bad", ["wxid_\u200b", "wxid\u202e", "a\nb", "", "x" * 201])
def test_ids_keep_their_strict_rules(bad):
    with pytest.raises(EventError):
        parse_event(_msg(sender=bad), not_after=NOW)


def test_an_adapter_event_with_an_emoji_name_passes_the_same_validator():
    msg = Message(id="m", ts=NOW, sender="wxid_a", text="hi", sender_name="👩‍💻小美\u200b", room=ROOM,
                  room_name="彩虹🏳️‍🌈群")
    assert validate(msg, not_after=NOW) == msg


@pytest.mark.parametrize(("name", "ident", "shown"), [
    ("👩‍💻小美", "wxid_abcd1234", "👩‍💻小美"),
    ("彩虹🏳️‍🌈", "wxid_a", "彩虹🏳️‍🌈"),
    ("\u200b\u200b", "wxid_abcd1234", f"{NAMELESS}［id 尾号 1234］"),
    ("ㅤ", "wxid_x9y8", f"{NAMELESS}［id 尾号 x9y8］"),
    ("\ufe0f\u200d", "wxid_x9y8", f"{NAMELESS}［id 尾号 x9y8］"),
    ("", "wxid_x9y8", f"{NAMELESS}［id 尾号 x9y8］"),
    ("\u202e小明\u202c", "wxid_a", "小明"),  # an override cannot turn the rest of the line around
    ("a\u2066b\u2069c\u200f", "wxid_a", "abc"),
    ("第一行\n第二行", "wxid_a", "第一行 第二行"),
    ("بشرى", "wxid_a", "\u2068بشرى\u2069"),  # right-to-left letters are isolated
])
def test_display_is_safe(name, ident, shown):
    assert display(name, ident) == shown


def _jsonl(path, events):
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path


def test_replay_stores_every_name_and_reports_show_them_safely(tmp_path, capsys):
    events = [_msg(id=f"m{i}", ts=1761955200 + i, sender=f"wxid_{i:04d}", sender_name=n, room_name="彩虹🏳️‍🌈群")
              for i, n in enumerate(NAMES)]
    db = tmp_path / "q.db"
    assert main(["replay", str(_jsonl(tmp_path / "e.jsonl", events)), "--silent", "--db", str(db)]) == 0
    capsys.readouterr()
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT id, name FROM member").fetchall())
        assert conn.execute("SELECT count(*) FROM checkin").fetchone() == (len(NAMES),)
    assert stored["wxid_0000"] == "👩‍💻小美" and stored["wxid_0003"] == "\u200b\u200b"
    assert main(["report", "--json", "--db", str(db), "--at", "2026-11-01T12:00:00+08:00"]) == 0
    report = {m["id"]: m["name"] for m in json.loads(capsys.readouterr().out)["members"]}
    assert report["wxid_0000"] == "👩‍💻小美"
    assert report["wxid_0003"] == f"{NAMELESS}［id 尾号 0003］"
    assert report["wxid_0004"] == "小明"


def test_qunguan_chat_as_a_member_with_a_zwj_name(tmp_path):
    import subprocess
    import sys
    typed = "/as 👩‍💻小美@彩虹🏳️‍🌈群\n打卡\n我的等级\n/quit\n"
    res = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--db", str(tmp_path / "q.db")],
                         input=typed.encode(), capture_output=True, timeout=120)
    out, err = res.stdout.decode(), res.stderr.decode()
    assert res.returncode == 0, err
    assert "现在你是 👩‍💻小美，在「彩虹🏳️‍🌈群」里说话" in out
    assert "「打卡」成功" in out and "Lv1" in out
    with sqlite3.connect(tmp_path / "q.db") as conn:
        assert conn.execute("SELECT name FROM member WHERE name = '👩‍💻小美'").fetchall() == [("👩‍💻小美",)]
