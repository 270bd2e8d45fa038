"""What speaking stores on a member's row: the last counted time (anti-farming's gap, read back
after a restart) and the points total, written together where an award moves the total."""

from __future__ import annotations

from datetime import datetime

from tests.harness import ROOM, Bot


def _message(i: int, sender: str, ts: str) -> dict:
    return {"type": "message", "id": f"sp{i}", "ts": ts, "sender": sender, "sender_name": sender,
            "text": f"今天读书的第{i}条笔记", "room": ROOM, "room_name": "读书群"}


def _at(ts: str) -> int:
    return int(datetime.fromisoformat(ts).timestamp())


def test_the_last_counted_time_is_stored_whether_the_message_paid_or_not(tmp_path, db_url):
    bot = Bot(tmp_path, database_url=db_url)
    # A day's speaking cap (20 points) reached in one batch ...
    bot.feed(*[_message(i, "capper", f"2026-11-02T08:{2 * i:02d}:00+08:00") for i in range(20)])
    # ... then a batch where the capper's counted message pays nothing and two others' pay a point.
    late, b_at, c_at = "2026-11-02T09:01:00+08:00", "2026-11-02T09:02:00+08:00", "2026-11-02T09:03:00+08:00"
    bot.feed(_message(20, "capper", late), _message(21, "b", b_at), _message(22, "c", c_at))
    rows = bot.rows("SELECT id, points, last_counted_at FROM member WHERE id IN ('capper', 'b', 'c') ORDER BY id")
    assert rows == [("b", 1, _at(b_at)), ("c", 1, _at(c_at)), ("capper", 20, _at(late))]
    ledger = dict(bot.rows("SELECT member, sum(delta) FROM pointsentry GROUP BY member"))
    assert ledger == {"b": 1, "c": 1, "capper": 20}
    # A new process reads the times back: 30 seconds later is inside the gap, for each of them.
    again = Bot(tmp_path, database_url=db_url)
    again.feed(_message(30, "capper", "2026-11-02T09:01:30+08:00"), _message(31, "b", "2026-11-02T09:02:30+08:00"),
               _message(32, "c", "2026-11-02T09:03:30+08:00"))
    counted = dict(again.rows("SELECT member, sum(counted) FROM dailyactivity GROUP BY member"))
    assert counted == {"b": 1, "c": 1, "capper": 21}
