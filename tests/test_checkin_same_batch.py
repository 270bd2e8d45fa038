"""What an earlier event of a batch changed counts for the check-ins after it in the same batch
(several messages arriving together, live or replayed): the check-in hook tests each message
for a trigger word once per batch and reads members' stored names once, and must test again
once a command changed the tasks, and read again the names the batch wrote."""

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


def test_a_name_the_batch_stored_leads_a_later_check_in_in_it(bot: Bot):
    """A replayed history where a member renamed: within one batch, the name stored by an earlier
    check-in (what the batch wrote) is one the member may put before a later check-in."""
    bot.say(ADMIN, "/task add 晨读 triggers=晨读", ts="2026-11-02T05:00:00+08:00")
    bot.say("wxid_a", "大家好", name="旧名", ts="2026-11-02T05:10:00+08:00")
    bot.feed({**_message(4, "wxid_a", "旧名 打卡", "2026-11-02T07:00:00+08:00"), "sender_name": "新名"},
             {**_message(5, "wxid_a", "新名 晨读", "2026-11-02T07:05:00+08:00"), "sender_name": "第三名"})
    rows = bot.rows("SELECT t.name FROM checkin c JOIN checkintask t ON t.id = c.task_id ORDER BY c.ts")
    assert rows == [("打卡",), ("晨读",)]


def test_a_check_in_pays_its_members_speaking_of_the_batch_first(bot: Bot):
    """A check-in's award comes after what its member earned by speaking earlier in the batch,
    and another member's speaking waits for the batch's end (or the flush at a new hour): the
    ledger's rows in the order they were written."""
    bot.say(ADMIN, "/task add 晨读 triggers=晨读", ts="2026-11-01T20:00:00+08:00")
    bot.feed(_message(1, "wxid_a", "今天读完了第一章", "2026-11-01T23:50:00+08:00"),
             _message(2, "wxid_b", "我也读完了", "2026-11-01T23:55:00+08:00"),
             _message(3, "wxid_a", "早上好我起来了", "2026-11-02T07:01:00+08:00"),
             _message(4, "wxid_a", "打卡", "2026-11-02T07:03:00+08:00"),
             _message(5, "wxid_a", "第二章开始读", "2026-11-02T07:10:00+08:00"),
             _message(6, "wxid_a", "晨读", "2026-11-02T07:20:00+08:00"),
             _message(7, "wxid_b", "早上好呀大家", "2026-11-02T07:30:00+08:00"))
    rows = bot.rows("SELECT member, kind, day FROM pointsentry WHERE member IN ('wxid_a', 'wxid_b') ORDER BY id")
    assert rows == [
        ("wxid_a", "speaking", "2026-11-01"), ("wxid_b", "speaking", "2026-11-01"),  # written at a new hour
        ("wxid_a", "speaking", "2026-11-02"), ("wxid_a", "checkin", "2026-11-02"),  # speaking first
        ("wxid_a", "speaking", "2026-11-02"), ("wxid_a", "checkin", "2026-11-02"),  # again, after the first
        ("wxid_b", "speaking", "2026-11-02"),  # at the batch's end
    ]
