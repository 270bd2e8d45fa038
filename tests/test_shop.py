"""The points shop: items, redemptions through the ledger, fulfilment on the follow-up list,
refunds; two redemptions at once never take points or stock below zero."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from bot.core.events import parse_event
from bot.core.settings import Settings
from bot.features.followup.service import build_items
from bot.wiring import build
from tests.harness import ADMIN, ROOM, Bot, texts

OP = "wxid_op"


def points(bot: Bot, member: str) -> int:
    return bot.scalar("SELECT points FROM member WHERE id = :m", m=member)


def test_add_list_redeem_and_the_bad_input(bot: Bot):
    bot.join("m", name="小明", ts="2026-11-01T10:00:00+08:00")
    assert "积分商城还没有商品" in texts(bot.say("m", "积分商城"))
    assert "已上架「专属资料包」：100 分，库存 1。" in texts(bot.say(ADMIN, "/shop add 专属资料包 100 1"))
    assert "已上架「答疑券」：30 分，不限库存。" in texts(bot.say(ADMIN, "/shop add 答疑券 30"))
    assert "已经有「答疑券」" in texts(bot.say(ADMIN, "/shop add 答疑券 50"))
    assert "价格应为" in texts(bot.say(ADMIN, "/shop add 贴纸 -5"))
    assert "只有管理员" in texts(bot.say("m", "/shop add 贴纸 5"))
    bot.say(ADMIN, "/points m +120 活动奖励")
    listing = texts(bot.say("m", "/shop"))
    assert "· 答疑券：30 分" in listing and "· 专属资料包：100 分（剩 1 件）" in listing and "你有 120 分" in listing
    assert "商城里没有「贴纸」" in texts(bot.say("m", "兑换 贴纸"))
    out = texts(bot.say("m", "兑换 专属资料包"))
    assert "兑换成功！「专属资料包」花了 100 分，还剩 20 分" in out
    assert "积分不够：「答疑券」要 30 分，你现在有 20 分，还差 10 分" in texts(bot.say("m", "/redeem 答疑券"))
    bot.say(ADMIN, "/points m +200 活动奖励")
    assert "已经兑完了" in texts(bot.say("m", "兑换 专属资料包"))
    assert points(bot, "m") == 220  # the failed tries took nothing
    assert bot.rows("SELECT item, price, status FROM redemption") == [("专属资料包", 100, "pending")]
    assert bot.scalar("SELECT stock FROM shopitem WHERE name = '专属资料包'") == 0
    assert bot.rows("SELECT delta, kind FROM pointsentry WHERE member = 'm' ORDER BY id") == [
        (120, "manual"), (-100, "redeem"), (200, "manual")]


def test_a_redemption_is_an_item_to_fulfil_and_a_refund_returns_points_and_stock(bot: Bot):
    bot.join(OP, name="小运营", ts="2026-11-01T09:00:00+08:00")
    bot.say(ADMIN, "/operator @小运营", mentions=[OP], ts="2026-11-01T09:05:00+08:00")
    bot.join("m", name="小明", ts="2026-11-01T10:00:00+08:00")
    bot.say(ADMIN, "/shop add 书签 40 2", ts="2026-11-01T11:00:00+08:00")
    bot.say(ADMIN, "/points m +100 活动奖励", ts="2026-11-01T11:00:00+08:00")
    bot.say("m", "兑换 书签", ts="2026-11-02T10:00:00+08:00")
    with bot.engine.connect() as conn:
        got = {i.member: i for i in build_items(conn, bot.deps, datetime.fromisoformat("2026-11-03T09:00:00+08:00"),
                                                [ROOM]).items}
    assert got["m"].kind == "redemption" and "用积分兑换了 「书签」，待发放" in got["m"].reason
    listing = texts(bot.say(OP, "/report", room=None, ts="2026-11-03T09:00:00+08:00"))
    assert "【兑换待发放】" in listing
    n = next(line.split(".")[0] for line in listing.splitlines() if "书签" in line)
    bot.say(OP, f"已跟进 {n} 已寄出", room=None, ts="2026-11-03T10:00:00+08:00")
    assert bot.rows("SELECT status, done_by FROM redemption") == [("fulfilled", OP)]
    bot.say("m", "兑换 书签", ts="2026-11-04T10:00:00+08:00")  # a second one comes back at once
    with bot.engine.connect() as conn:
        got = {i.member: i for i in build_items(conn, bot.deps, datetime.fromisoformat("2026-11-05T09:00:00+08:00"),
                                                [ROOM]).items}
    assert got["m"].kind == "redemption"
    assert points(bot, "m") == 20
    out = texts(bot.say(ADMIN, "/shop refund 2", ts="2026-11-05T10:00:00+08:00"))
    assert "已退回第 2 号兑换「书签」，40 分已还给 TA（20 → 60 分）" in out
    assert "已经退过了" in texts(bot.say(ADMIN, "/shop refund 2", ts="2026-11-05T10:01:00+08:00"))
    assert "没有编号为 9 的兑换记录" in texts(bot.say(ADMIN, "/shop refund 9", ts="2026-11-05T10:01:00+08:00"))
    assert points(bot, "m") == 60 and bot.scalar("SELECT stock FROM shopitem") == 1
    assert bot.scalar("SELECT sum(delta) FROM pointsentry WHERE member = 'm'") == 60


@pytest.fixture
def url(db_url: str) -> str:
    return db_url


def say(pipeline, sender: str, text_: str, mid: str, ts: str = "2026-11-02T10:00:00+08:00"):
    return pipeline.process_batch([parse_event({
        "type": "message", "id": mid, "ts": ts, "room": ROOM, "sender": sender, "sender_name": sender,
        "text": text_})])


def test_two_redemptions_at_once_in_two_processes(url):
    """Two bot processes on one store: the last item goes once, and points never go below zero."""
    settings = Settings(database_url=url, admins=ADMIN)
    first, _ = build(settings)
    second, _ = build(settings)
    say(first, ADMIN, "/shop add 限量徽章 50 1", "a1", "2026-11-01T10:00:00+08:00")
    say(first, ADMIN, "/shop add 贴纸 60", "a2", "2026-11-01T10:00:00+08:00")
    for m in ("x", "y", "z"):
        say(first, m, "大家好呀", f"hi-{m}", "2026-11-01T10:00:00+08:00")
        say(first, ADMIN, f"/points {m} +99 活动", f"p-{m}", "2026-11-01T10:00:00+08:00")

    def race(jobs):
        barrier = threading.Barrier(len(jobs))
        out: list = [None] * len(jobs)

        def run(i, pipeline, sender, word, mid):
            barrier.wait()
            out[i] = "\n".join(r.text for r in say(pipeline, sender, word, mid))

        threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return out

    badge = race([(first, "x", "兑换 限量徽章", "r1"), (second, "y", "兑换 限量徽章", "r2")])
    assert sorted("兑换成功" in t for t in badge) == [False, True] and any("已经兑完了" in t for t in badge)
    # One member, two items, points for one of them.
    both = race([(first, "z", "兑换 限量徽章", "r3"), (second, "z", "兑换 贴纸", "r4")])
    engine = create_engine(url)
    with engine.connect() as conn:
        stock = conn.execute(text("SELECT stock FROM shopitem WHERE name = '限量徽章'")).scalar()
        pts = dict(conn.execute(text("SELECT id, points FROM member WHERE id IN ('x', 'y', 'z')")).all())
        spent = conn.execute(text("SELECT count(*) FROM redemption")).scalar()
        ledger = dict(conn.execute(text("SELECT member, sum(delta) FROM pointsentry GROUP BY member")).all())
    engine.dispose()
    assert stock == 0 and min(pts.values()) >= 0
    assert spent == 2 and "兑换成功" in both[1] and "已经兑完了" in both[0]
    assert pts["z"] == 99 + 1 - 60  # 1 speaking point for hello
    assert {m: ledger[m] for m in pts} == pts  # the ledger and the cached totals agree
