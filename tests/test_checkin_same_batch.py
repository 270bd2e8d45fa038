"""A task made by a command counts for the check-ins after it in the same batch (several
messages arriving together, live or replayed): the check-in hook tests each message for a
trigger word once per batch, and must test again once a command changed the tasks."""

from __future__ import annotations

from tests.harness import ADMIN, ROOM, Bot


def _message(i: int, sender: str, text: str, ts: str) -> dict:
    return {"type": "message", "id": f"same{i}", "ts": ts, "sender": sender, "sender_name": sender,
            "text": text, "room": ROOM, "room_name": "读书群"}


def test_a_task_added_earlier_in_the_batch_takes_the_check_ins_after_it(bot: Bot):
    bot.feed(_message(1, "wxid_a", "晨读", "2026-11-02T05:50:00+08:00"),  # no such task yet
             _message(2, ADMIN, "/task add 晨读 triggers=晨读", "2026-11-02T06:00:00+08:00"),
             _message(3, "wxid_b", "晨读", "2026-11-02T06:10:00+08:00"))
    rows = bot.rows("SELECT c.member, t.name FROM checkin c JOIN checkintask t ON t.id = c.task_id ORDER BY c.ts")
    assert rows == [("wxid_b", "晨读")]
