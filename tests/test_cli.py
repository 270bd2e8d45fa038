"""`qunguan replay` and `report` as a user runs them: real processes on real files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

QUNGUAN = [sys.executable, "-m", "bot.cli"]


def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*QUNGUAN, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def write(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
                              for x in lines) + "\n", encoding="utf-8")
    return path


def msg(i: int, text: str = "今天读完了第三章", sender: str = "wxid_a", **kw) -> dict:
    return {"type": "message", "id": f"m{i}", "ts": 1793498400 + i * 90, "room": "r1@chatroom",
            "room_name": "读书群", "sender": sender, "sender_name": "Alice", "text": text, **kw}


def report(db: Path, *extra: str) -> dict:
    res = run("report", "--json", "--db", str(db), *extra)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_bad_lines_are_reported_and_the_rest_processed(tmp_path):
    events = write(tmp_path / "e.jsonl", [
        msg(1),
        "{not json",
        {"type": "message", "id": "m2", "ts": "2026-11-01 08:00", "sender": "a", "text": "x"},
        {"type": "nudge", "id": "n1", "ts": 1793498400},
        {"type": "message", "id": "m3", "ts": 1793498400, "sender": "a"},
        msg(4, text="长" * 6000),
        msg(5),
    ])
    res = run("replay", str(events), "--db", str(tmp_path / "q.db"), "--silent")
    assert res.returncode == 1
    for n, why in [(2, "JSON 格式错误"), (3, "缺少时区"), (4, "未知的事件类型"), (5, "缺少字段 text"),
                   (6, "太长")]:
        assert f"e.jsonl:{n}: 已跳过：" in res.stderr and why in res.stderr
    assert "5 行被跳过" in res.stderr
    [alice] = report(tmp_path / "q.db")["members"]
    assert alice["messages"] == 2


def test_rosters_in_a_replay_and_a_bad_roster_line(tmp_path):
    roster = {"type": "roster", "id": "ro1", "ts": 1793498000, "room": "r1@chatroom", "room_name": "读书群",
              "members": [{"id": "wxid_a", "name": "Alice"}, {"id": "wxid_b"}, {"id": "wxid_c", "name": "Carol"}]}
    events = write(tmp_path / "e.jsonl", [
        roster,
        {**roster, "id": "ro2", "members": []},
        {**roster, "id": "ro3", "members": [{"name": "no id"}]},
        msg(1),
    ])
    res = run("replay", str(events), "--db", str(tmp_path / "q.db"), "--silent")
    assert res.returncode == 1
    assert "e.jsonl:2: 已跳过：" in res.stderr and "不能为空" in res.stderr
    assert "e.jsonl:3: 已跳过：" in res.stderr and "第 1 项缺少 id" in res.stderr
    rows = {r["id"]: r for r in report(tmp_path / "q.db")["members"]}
    assert set(rows) == {"wxid_a", "wxid_b", "wxid_c"}
    assert (rows["wxid_b"]["type"], rows["wxid_c"]["type"]) == ("dormant", "dormant")


def test_replay_twice_gives_the_same_counts(tmp_path):
    events = write(tmp_path / "e.jsonl", [msg(i) for i in range(50)] + [
        {"type": "visit", "id": "v1", "ts": 1793498400 + 86400, "member": "wxid_a"}])
    db = tmp_path / "q.db"
    assert run("replay", str(events), "--db", str(db), "--silent").returncode == 0
    first = report(db)
    assert run("replay", str(events), "--db", str(db), "--silent").returncode == 0
    assert report(db) == first
    assert first["members"][0]["messages"] == 50 and first["members"][0]["login_days"] == 2


def test_replies_go_to_the_replies_file_once(tmp_path):
    events = write(tmp_path / "e.jsonl", [msg(1, text="帮助"), msg(2, text="/help", room=None)])
    db, out = tmp_path / "q.db", tmp_path / "out.jsonl"
    assert run("replay", str(events), "--db", str(db), "--replies", str(out)).returncode == 0
    replies = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["room"], r["to"], r["mentions"], r["reply_to"]) for r in replies] == [
        ("r1@chatroom", "wxid_a", ["wxid_a"], "m1"), (None, "wxid_a", [], "m2")]
    assert all("帮助" in r["text"] for r in replies)
    assert run("replay", str(events), "--db", str(db), "--replies", str(out)).returncode == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2  # nothing answered twice


def test_silent_replay_sends_nothing(tmp_path):
    events = write(tmp_path / "e.jsonl", [msg(1, text="帮助")])
    out = tmp_path / "out.jsonl"
    res = run("replay", str(events), "--db", str(tmp_path / "q.db"), "--silent", "--replies", str(out))
    assert res.returncode == 0
    assert out.read_text() == ""


@pytest.mark.slow
def test_kill_mid_run_and_rerun_gives_the_clean_counts(tmp_path):
    from bot.demo.sample import generate_messages, write_jsonl

    events = tmp_path / "big.jsonl"
    write_jsonl(generate_messages(60_000, seed=3, members=300, rooms=4), events)
    clean, crashed = tmp_path / "clean.db", tmp_path / "crashed.db"
    assert run("replay", str(events), "--db", str(clean), "--silent").returncode == 0

    proc = subprocess.Popen([*QUNGUAN, "replay", str(events), "--db", str(crashed), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline and seen < 5_000:
        time.sleep(0.05)
        if crashed.exists():
            try:
                with sqlite3.connect(crashed, timeout=1) as c:
                    seen = c.execute("SELECT count(*) FROM eventlog").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < seen < 60_000, "the kill must land mid-run"
    with sqlite3.connect(crashed) as c:
        partial = c.execute("SELECT count(*) FROM eventlog").fetchone()[0]
    assert partial < 60_000
    assert run("replay", str(events), "--db", str(crashed), "--silent").returncode == 0
    assert report(crashed) == report(clean)
    with sqlite3.connect(crashed) as a, sqlite3.connect(clean) as b:
        q = "SELECT member, room, day, messages, counted, checkins, commands, visits FROM dailyactivity ORDER BY 1,2,3"
        assert a.execute(q).fetchall() == b.execute(q).fetchall()


def test_report_window_and_room(tmp_path):
    day = 86400
    events = write(tmp_path / "e.jsonl", [
        msg(1, ts=1793498400),
        msg(2, ts=1793498400 + 10 * day),
        msg(3, ts=1793498400 + 10 * day, room="r2@chatroom", room_name="打卡营"),
        {"type": "visit", "id": "v1", "ts": 1793498400 + 11 * day, "member": "wxid_a"},
    ])
    db = tmp_path / "q.db"
    assert run("replay", str(events), "--db", str(db), "--silent").returncode == 0
    [a] = report(db)["members"]
    assert (a["messages"], a["login_days"], a["rooms"]) == (3, 3, ["r1@chatroom", "r2@chatroom"])
    [a] = report(db, "--window", "2")["members"]
    assert (a["messages"], a["login_days"]) == (2, 2)
    [a] = report(db, "--room", "r2@chatroom")["members"]
    assert (a["messages"], a["login_days"]) == (1, 2)  # the visit is presence in every room
    [a] = report(db, "--at", "2026-11-02T00:00:00+08:00")["members"]
    assert (a["messages"], a["login_days"]) == (1, 1)


@pytest.mark.parametrize("args, why", [
    (["report", "--window", "0"], "正整数"),
    (["report", "--at", "tomorrow"], "ISO 8601"),
])
def test_bad_cli_arguments(tmp_path, args, why):
    res = run(*args, "--db", str(tmp_path / "q.db"))
    assert res.returncode == 2 and why in res.stderr


def test_run_without_a_token_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHATY_")}
    res = subprocess.run([*QUNGUAN, "run", "--db", str(tmp_path / "q.db")], capture_output=True,
                         text=True, timeout=60, env=env, check=False)
    assert res.returncode == 2
    assert "WECHATY_PUPPET_SERVICE_TOKEN" in res.stderr and "scripts/demo" in res.stderr
    assert "qunguan chat" in res.stderr


def test_replayed_orders_and_a_refund_of_an_unknown_order(tmp_path):
    events = write(tmp_path / "o.jsonl", [
        msg(1),
        {"type": "order", "id": "o1", "ts": 1793498500, "member": "wxid_a", "amount": 199, "item": "训练营"},
        {"type": "order", "id": "o2", "ts": 1793498600, "member": "wxid_a", "amount": -199, "refund_of": "o9"},
        {"type": "order", "id": "o3", "ts": 1793498700, "member": "wxid_a", "amount": -9},
    ])
    res = run("replay", str(events), "--db", str(tmp_path / "q.db"), "--silent")
    assert res.returncode == 1
    assert "o.jsonl:4: 已跳过：" in res.stderr and "必须是退款" in res.stderr
    assert "事件 o2 未记录：退款 o2 对应的订单 o9 不存在" in res.stderr and "2 行被跳过" in res.stderr
    [alice] = report(tmp_path / "q.db")["members"]
    assert alice["orders"]["count"] == 1 and alice["orders"]["amount"] == 199.0
    assert alice["segment"] and alice["stage"] and alice["grade"] in "ABCD"
