"""The console's playbook pages: the RFM grid, the lifecycle funnel, grade/segment/stage filters,
orders on the member page, the shop and its redemptions; orders through the event API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.features.followup.service import issue_daily
from tests.harness import ADMIN, T0
from tests.web.conftest import HOSTILE, auth


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def order(community, member, amount, oid, **extra):
    community.feed({"type": "order", "id": oid, "ts": (T0 - timedelta(hours=3)).isoformat(), "member": member,
                    "amount": amount, "item": "21天训练营", **extra})


async def test_rfm_grid_counts_every_member_and_links_to_them(client, community):
    order(community, "wxid_alice", 199, "o1")
    html = await (await client.get("/rfm")).text()
    counts = [int(n) for n in re.findall(r'<span class="count">(\d+) 人</span>', html)]
    total = int(re.search(r"共 (\d+) 人", text_of(html)).group(1))
    assert len(counts) == 8 and sum(counts) == total > 10
    assert "重要挽留客户" in html and 'href="/members?segment=important_value"' in html
    members = text_of(await (await client.get("/members?segment=important_value")).text())
    assert "Alice 爱丽丝" in members and "共 1 人符合条件" in members
    assert (await client.get("/rfm?room=nope")).status == 404
    assert (await client.get("/rfm?x=1")).status == 400


async def test_member_list_filters_by_grade_segment_and_stage(client, community):
    community.say(ADMIN, "/grade wxid_dave A 老学员", ts=T0.isoformat())
    html = text_of(await (await client.get("/members?grade=A")).text())
    assert "Dave 戴夫" in html and "共 1 人符合条件" in html
    resp = await client.get("/members?grade=S")
    assert resp.status == 400 and "不认识的客户等级" in await resp.text()
    assert (await client.get("/members?stage=衰退期x")).status == 400
    html = text_of(await (await client.get("/members?stage=new")).text())
    assert "新人小王" in html
    api = await client.get("/api/members?grade=A")  # the logged-in session
    data = await api.json()
    assert [m["id"] for m in data["members"]] == ["wxid_dave"] and data["members"][0]["grade_reason"].endswith("老学员")


async def test_lifecycle_funnel_and_this_weeks_transitions(client, community):
    html = text_of(await (await client.get("/lifecycle")).text())
    assert "成熟" in html and "本周还没有阶段变化" in html
    with community.engine.begin() as conn:  # everyone had just joined: 新
        issue_daily(conn, community.deps, datetime.fromisoformat("2026-10-16T09:00:00+08:00"))
        issue_daily(conn, community.deps, T0 - timedelta(hours=1))  # this week (Monday)
    changed = community.scalar("SELECT count(*) FROM stagechange WHERE before = 'new' AND after = 'growing'")
    assert changed > 5
    html = await (await client.get("/lifecycle")).text()
    assert "<meter" in html and 'href="/members?stage=mature"' in html
    assert f"<tr><td>新</td><td>成长</td><td>{changed}</td></tr>" in html


async def test_member_page_shows_orders_segment_stage_grade_and_escapes(client, community):
    order(community, "wxid_evil", 99, "o7", room="r1@chatroom")
    order(community, "wxid_evil", -99, "o8", refund_of="o7")
    html = await (await client.get("/members/wxid_evil")).text()
    page = text_of(html)
    assert "分层、阶段与客户等级" in page and "o8（退款：o7）" in page and "-99.00" in page
    assert "近 90 天 0 单，共 0.00 元" in page
    assert HOSTILE not in html


async def test_orders_through_the_event_api_refused_refunds_come_back(client, community):
    body = [{"type": "order", "id": "a1", "ts": "2026-11-02T10:00:00+08:00", "member": "wxid_new_buyer",
             "amount": 199},
            {"type": "order", "id": "a2", "ts": "2026-11-02T10:00:00+08:00", "member": "wxid_new_buyer",
             "amount": -20, "refund_of": "nope"},
            {"type": "order", "id": "a3", "ts": "2026-11-02T10:00:00+08:00", "member": "wxid_x", "amount": -5}]
    resp = await client.post("/api/events", json=body, headers=auth())
    data = await resp.json()
    assert resp.status == 400 and data["stored"] == 1 and data["duplicates"] == 0
    assert [r["index"] for r in data["rejected"]] == [1, 2]
    assert "订单 nope 不存在" in data["rejected"][0]["reason"] and "必须是退款" in data["rejected"][1]["reason"]


async def test_shop_items_redemptions_fulfil_and_refund(client, community):
    csrf = client.csrf
    resp = await client.post("/shop/items", data={"csrf": csrf, "name": "书签", "price": "30", "stock": "2"})
    assert resp.status == 200 and "已上架「书签」" in await resp.text()
    resp = await client.post("/shop/items", data={"csrf": csrf, "name": "书签", "price": "30"})
    assert "已经有「书签」" in await resp.text()
    before = community.scalar("SELECT points FROM member WHERE id = 'wxid_alice'")
    community.say("wxid_alice", "兑换 书签", ts=T0.isoformat())
    community.say("wxid_alice", "兑换 书签", ts=(T0 + timedelta(minutes=1)).isoformat())
    html = text_of(await (await client.get("/shop")).text())
    assert "待发放 2 件" in html and "书签 30 2 在售" not in html and "书签 30 0 在售" in html
    resp = await client.post("/shop/fulfil", data={"csrf": csrf, "id": "1"})
    assert "第 1 号兑换已标记为已发放" in await resp.text()
    resp = await client.post("/shop/refund", data={"csrf": csrf, "id": "2"})
    assert "已退回第 2 号兑换「书签」" in await resp.text()
    assert community.scalar("SELECT points FROM member WHERE id = 'wxid_alice'") == before - 30
    assert community.rows("SELECT id, status FROM redemption ORDER BY id") == [(1, "fulfilled"), (2, "refunded")]
    assert community.scalar("SELECT stock FROM shopitem") == 1
    resp = await client.post("/shop/refund", data={"csrf": csrf, "id": "2"})
    assert "已经退过了" in await resp.text()
    assert (await client.post("/shop/refund", data={"csrf": "forged", "id": "1"})).status in (400, 403)
