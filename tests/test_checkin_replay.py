"""A check-in group's day as `qunguan replay` reads it from a file: a 接龙 passed along, names
first, photos, a review; the same answer on a second run."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tests.test_cli import run, write

ROOM = "r1@chatroom"
OP = "wxid_op"
ADMIN = "wxid_admin"
START = datetime.fromisoformat("2026-12-02T06:00:00+08:00")
HEADER = "@班长 打卡#接龙\n\n12月2日打卡\n例 打卡第n天 内容\n"


def day() -> list[dict]:
    n = iter(range(1000))

    def ev(minutes: float, sender: str, name: str, text: str = "", **kw) -> dict:
        return {"type": "message", "id": f"e{next(n)}", "ts": (START + timedelta(minutes=minutes)).isoformat(),
                "room": ROOM, "room_name": "健身群", "sender": sender, "sender_name": name, "text": text, **kw}

    members = {f"wxid_{i}": name for i, name in enumerate(["阿青", "小舟", "木木", "Lily", "大熊"])}
    out = [{"type": "roster", "id": "ro", "ts": (START - timedelta(hours=1)).isoformat(), "room": ROOM,
            "room_name": "健身群", "members": [{"id": OP, "name": "班长"},
                                               *({"id": m, "name": n} for m, n in members.items())]},
           ev(0, ADMIN, "群主", "/operator @班长", mentions=[OP]),
           ev(1, ADMIN, "群主", "/task add 跑步 triggers=跑步打卡 media=image")]
    entries: list[str] = []
    for i, (m, name) in enumerate(list(members.items())[:3]):
        entries.append(f"{name} 打卡第{i + 3}天 深蹲{(i + 1) * 10}个")
        out.append(ev(10 + i, m, name, HEADER + "\n" + "\n".join(f"{k}. {e}" for k, e in enumerate(entries, 1)),
                      kind="jielong"))
    out.append(ev(20, "wxid_3", "Lily", "Lily-减脂 打卡第2⃣️天 跳绳500下"))  # names first, keycap day
    out.append(ev(21, "wxid_4", "大熊", "", kind="image"))  # a photo: the 跑步 check-in
    out.append(ev(22, "wxid_4", "大熊", "早上好，打卡"))
    out.append(ev(30, OP, "班长", "优秀 动作很标准", kind="quote", quote_of="e3"))  # 小舟's version of the 接龙
    return out


def test_a_day_of_a_checkin_group_replayed_twice(tmp_path: Path):
    events = write(tmp_path / "day.jsonl", day())
    db, replies = tmp_path / "q.db", tmp_path / "replies.jsonl"
    env = {"QUNGUAN_ADMINS": ADMIN}
    res = run("replay", str(events), "--db", str(db), "--replies", str(replies), env=env)
    assert res.returncode == 0, res.stderr
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT c.member, t.name, c.note FROM checkin c JOIN checkintask t ON t.id = c.task_id"
                            " ORDER BY c.ts").fetchall()
        points = conn.execute("SELECT member, sum(delta) FROM pointsentry GROUP BY member ORDER BY member").fetchall()
    assert rows == [("wxid_0", "打卡", "打卡第3天 深蹲10个"), ("wxid_1", "打卡", "打卡第4天 深蹲20个"),
                    ("wxid_2", "打卡", "打卡第5天 深蹲30个"), ("wxid_3", "打卡", "第2天 跳绳500下"),
                    ("wxid_4", "跑步", "图片打卡"), ("wxid_4", "打卡", None)]
    said = [json.loads(line) for line in replies.read_text(encoding="utf-8").splitlines()]
    assert sum("成功" in r["text"] for r in said) == 6
    [star] = [r for r in said if "优秀打卡" in r["text"]]
    assert star["mentions"] == ["wxid_1"] and "+20 积分" in star["text"]
    # the same file again changes nothing already counted
    assert run("replay", str(events), "--db", str(db), "--silent", env=env).returncode == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT member, sum(delta) FROM pointsentry GROUP BY member ORDER BY member"
                            ).fetchall() == points
        assert conn.execute("SELECT count(*) FROM checkin").fetchone() == (6,)
