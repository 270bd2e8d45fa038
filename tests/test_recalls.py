"""Recalls (撤回) that name their message: it stops counting — the message and speaking counters,
the speaking points of its day, its check-in (and the check-in's points), the keyword tags it
gave — once, however often the recall comes, and never below what the day's other messages earn."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.harness import ADMIN, ROOM, Bot, texts

T = datetime.fromisoformat("2026-11-20T09:00:00+08:00")
A = "wxid_a"


def message(bot: Bot, id: str, text: str, at: datetime) -> dict:
    return {"type": "message", "id": id, "ts": at.isoformat(), "room": ROOM, "room_name": "读书群",
            "sender": A, "sender_name": "Alice", "text": text}


def recall(id: str, message: str, at: datetime) -> dict:
    return {"type": "recall", "id": id, "ts": at.isoformat(), "member": A, "room": ROOM, "message": message}


def chat(bot: Bot, n: int, start: datetime = T, prefix: str = "m") -> list[str]:
    """n counted messages of A, two minutes apart (each passes anti-farming)."""
    ids = [f"{prefix}{i}" for i in range(n)]
    for i, id in enumerate(ids):
        bot.feed(message(bot, id, f"今天读到第{i}章，很有收获", start + timedelta(minutes=2 * i)))
    return ids


def points(bot: Bot) -> int:
    return bot.scalar("SELECT points FROM member WHERE id = :m", m=A)


def counters(bot: Bot) -> list[tuple]:
    return bot.rows("SELECT messages, counted, checkins FROM dailyactivity WHERE member = :m", m=A)


def speaking_ledger(bot: Bot) -> int:
    return bot.scalar("SELECT COALESCE(SUM(delta), 0) FROM pointsentry WHERE member = :m AND kind = 'speaking'", m=A)


def test_a_recalled_message_takes_back_its_speaking_point_once(bot: Bot):
    ids = chat(bot, 3)
    assert (points(bot), counters(bot)) == (3, [(3, 3, 0)])
    later = T + timedelta(hours=1)
    bot.feed(recall("rc1", ids[1], later))
    assert (points(bot), counters(bot)) == (2, [(2, 2, 0)])
    assert bot.scalar("SELECT kind FROM eventlog WHERE id = :m", m=ids[1]) == "recalled"
    # the same recall again, and another recall of the same message: nothing more
    bot.feed(recall("rc1", ids[1], later))
    bot.feed(recall("rc2", ids[1], later + timedelta(minutes=1)))
    assert (points(bot), counters(bot), speaking_ledger(bot)) == (2, [(2, 2, 0)], 2)
    reasons = bot.rows("SELECT delta, reason FROM pointsentry WHERE member = :m AND delta < 0", m=A)
    assert reasons == [(-1, "撤回了一条发言，当天发言积分随之调整")]
    # the day goes on: the next counted message pays as usual
    bot.feed(message(bot, "m9", "继续读第四章", later + timedelta(minutes=5)))
    assert (points(bot), counters(bot)) == (3, [(3, 3, 0)])


def test_a_day_over_the_cap_keeps_its_points_until_the_recalls_bring_it_under(bot: Bot):
    ids = chat(bot, 22)  # 22 counted messages: the daily cap of 20 speaking points is reached
    assert points(bot) == 20
    bot.feed(recall("rc1", ids[0], T + timedelta(hours=2)))
    bot.feed(recall("rc2", ids[5], T + timedelta(hours=2, minutes=1)))
    assert (points(bot), counters(bot)) == (20, [(20, 20, 0)])  # the other 20 still earn the cap
    bot.feed(recall("rc3", ids[21], T + timedelta(hours=2, minutes=2)))
    assert (points(bot), counters(bot), speaking_ledger(bot)) == (19, [(19, 19, 0)], 19)


def test_a_message_that_did_not_count_as_speaking_takes_no_points(bot: Bot):
    chat(bot, 2)
    bot.feed(message(bot, "quick", "马上就到第二章了", T + timedelta(minutes=2, seconds=20)))  # within a minute
    bot.feed(message(bot, "face", "[微笑]", T + timedelta(minutes=10)))  # says nothing
    assert (points(bot), counters(bot)) == (2, [(4, 2, 0)])
    bot.feed(recall("rc1", "quick", T + timedelta(hours=1)))
    bot.feed(recall("rc2", "face", T + timedelta(hours=1, minutes=1)))
    assert (points(bot), counters(bot)) == (2, [(2, 2, 0)])
    # the message after the quick one still counted: recalling it takes its point
    bot.feed(recall("rc3", "m1", T + timedelta(hours=1, minutes=2)))
    assert (points(bot), counters(bot)) == (1, [(1, 1, 0)])


def test_a_recall_in_the_batch_of_later_messages_leaves_the_day_at_its_worth(bot: Bot):
    """The speaking hook still holds the day's count from before the recall for the rest of the
    batch: the recall's settlement at the batch's flush gives back what those messages earned."""
    ids = chat(bot, 20)
    assert points(bot) == 20
    later = T + timedelta(hours=2)
    bot.feed(recall("rc1", ids[3], later), message(bot, "n1", "又想到一个问题", later + timedelta(minutes=2)),
             message(bot, "n2", "关于第五章的结尾", later + timedelta(minutes=4)))
    assert counters(bot) == [(21, 21, 0)]
    assert (points(bot), speaking_ledger(bot)) == (20, 20)


def test_a_recall_in_the_same_batch_as_its_message(bot: Bot):
    bot.feed(message(bot, "m0", "第一条很认真的发言", T),
             message(bot, "m1", "第二条也很认真", T + timedelta(minutes=2)),
             recall("rc1", "m1", T + timedelta(minutes=3)),
             message(bot, "m2", "第三条依然认真", T + timedelta(minutes=5)))
    assert (points(bot), counters(bot), speaking_ledger(bot)) == (2, [(2, 2, 0)], 2)


def test_a_recalled_check_in_takes_its_check_in_its_points_and_its_notes_speaking(bot: Bot):
    chat(bot, 2)
    before = points(bot)
    out = bot.say(A, "打卡 今天读了20页，收获很大", name="Alice", ts=T + timedelta(minutes=30), id="ck")
    assert "成功" in texts(out)
    assert bot.rows("SELECT member FROM checkin") == [(A,)]
    assert counters(bot) == [(2, 3, 1)]  # the note counts as speaking
    gained = points(bot) - before
    assert gained > 1
    bot.feed(recall("rc1", "ck", T + timedelta(hours=1)))
    assert bot.rows("SELECT member FROM checkin") == []
    assert (points(bot), counters(bot)) == (before, [(2, 2, 0)])
    # the day's other speech is untouched, and a new check-in is possible again
    out = bot.say(A, "打卡 补上今天的", name="Alice", ts=T + timedelta(hours=2), id="ck2")
    assert "成功" in texts(out)
    assert bot.rows("SELECT member FROM checkin") == [(A,)]


def tags(bot: Bot) -> list[str]:
    return [t for t, in bot.rows("SELECT tag FROM membertag WHERE member = :m ORDER BY tag", m=A)]


def test_a_recalled_message_takes_the_keyword_tags_it_gave(bot: Bot):
    bot.say(ADMIN, "/rule add keyword 咨询 多少钱", ts=T)
    bot.say(ADMIN, "/rule add keyword 意向 报名 hits=2 days=3", ts=T)
    bot.feed(message(bot, "ask", "这个课多少钱", T + timedelta(minutes=1)),
             message(bot, "h1", "怎么报名呀", T + timedelta(minutes=3)),
             message(bot, "h2", "报名截止是哪天", T + timedelta(minutes=5)))
    assert tags(bot) == ["咨询", "意向"]
    # a one-hit rule's tag goes with its message
    bot.feed(recall("rc1", "ask", T + timedelta(minutes=10)))
    assert tags(bot) == ["意向"]
    # a two-hit rule's tag goes when a hit it needed is recalled, even not the last one
    bot.feed(recall("rc2", "h1", T + timedelta(minutes=11)))
    assert tags(bot) == []
    assert bot.scalar("SELECT COUNT(*) FROM keywordhit WHERE member = :m", m=A) == 1
    # saying it again tags again (the rules' caches were let go), and recalling that untags again
    bot.feed(message(bot, "h3", "我也想报名", T + timedelta(minutes=20)),
             message(bot, "ask2", "请问多少钱", T + timedelta(minutes=22)))
    assert tags(bot) == ["咨询", "意向"]
    bot.feed(recall("rc3", "h3", T + timedelta(minutes=30)))
    assert tags(bot) == ["咨询"]


def test_a_recall_of_an_unknown_message_is_recorded_and_changes_nothing(bot: Bot):
    chat(bot, 2)
    bot.feed(recall("rc1", "never-seen", T + timedelta(hours=1)))
    assert (points(bot), counters(bot)) == (2, [(2, 2, 0)])
    assert bot.rows("SELECT type, text FROM eventlog WHERE id = 'rc1'") == [("recall", "never-seen")]
