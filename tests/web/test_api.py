"""The JSON API over aiohttp's test client: event ingest, members, follow-up, and bad input."""

from __future__ import annotations

import json

import pytest

from tests.harness import ROOM, T0
from tests.web.conftest import HOSTILE, HOSTILE_ID, TOKEN, auth, csrf_of


def visit(i: int, member: str = "wxid_bob", **extra) -> dict:
    return {"type": "visit", "id": f"api-v{i}", "ts": (T0.timestamp() + 60 + i), "member": member,
            "source": "app"} | extra


def count_events(community, prefix: str = "api-") -> int:
    return community.scalar("SELECT count(*) FROM eventlog WHERE id LIKE :p", p=f"{prefix}%")


async def post(client, payload, *, token: str | None = TOKEN, **kwargs):
    headers = {"Content-Type": "application/json"} | (auth(token) if token else {})
    headers |= kwargs.pop("headers", {})
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return await client.post("/api/events", data=body, headers=headers, **kwargs)


# ---- events -------------------------------------------------------------------------------

async def test_one_event_is_stored_through_the_pipeline(anon, community):
    before = community.scalar("SELECT coalesce(sum(visits), 0) FROM dailyactivity "
                              "WHERE member='wxid_dave'")
    resp = await post(anon, visit(1, "wxid_dave"))
    assert resp.status == 200
    assert await resp.json() == {"received": 1, "stored": 1, "duplicates": 0, "rejected": []}
    after = community.scalar("SELECT sum(visits) FROM dailyactivity WHERE member='wxid_dave'")
    assert after == before + 1  # counted as a login day by the real pipeline


async def test_a_batch_is_idempotent_by_event_id(anon, community):
    batch = [visit(i, f"wxid_f{i % 12:02d}") for i in range(1000)]
    first = await post(anon, batch)
    assert (await first.json())["stored"] == 1000
    again = await post(anon, [*batch[:10], visit(5000), visit(5000)])
    assert await again.json() == {"received": 12, "stored": 1, "duplicates": 11, "rejected": []}
    assert count_events(community) == 1001


async def test_invalid_events_are_listed_and_the_valid_ones_stored(anon, community):
    batch = [visit(1), {"type": "visit", "id": "api-x", "member": "wxid_bob"}, visit(2),
             {"type": "teleport", "id": "api-y"}, "not an object",
             visit(3) | {"ts": "2026-11-02T10:00:00"}, visit(4)]
    resp = await post(anon, batch)
    assert resp.status == 400
    data = await resp.json()
    assert data["stored"] == 3 and data["received"] == 7
    assert [r["index"] for r in data["rejected"]] == [1, 3, 4, 5]
    reasons = [r["reason"] for r in data["rejected"]]
    assert "缺少字段 ts" in reasons[0]
    assert "未知的事件类型" in reasons[1]
    assert "JSON 对象" in reasons[2]
    assert "时区" in reasons[3]
    assert count_events(community) == 3


async def test_hostile_events_never_cost_the_good_ones_of_a_batch(anon, community):
    hostile = [{"type": [], "id": "api-h1"}, {"type": {}}, visit(11) | {"ts": 123456789123},
               visit(12) | {"ts": "0001-01-01T00:00:00+08:00"},
               visit(13) | {"ts": "9999-12-31T23:59:59-08:00"},
               visit(14) | {"member": "wxid_\u200b"}, visit(15) | {"source": "a\x00"},
               {"type": "message", "id": "api-h8", "ts": T0.timestamp(), "sender": "a",
                "text": "a\ud800"}]
    batch = [visit(1), *hostile, visit(2)]
    body = json.dumps(batch).replace("123456789123", "9" * 5000)  # past Python's digit limit
    resp = await post(anon, body)
    assert resp.status == 400
    data = await resp.json()
    assert data["stored"] == 2
    assert [r["index"] for r in data["rejected"]] == list(range(1, len(hostile) + 1))
    assert all(r["reason"] for r in data["rejected"])
    assert count_events(community) == 2


async def test_an_event_nested_a_thousand_deep_costs_no_other_event(anon, community):
    deep = "[" * 1000 + "]" * 1000
    deep_obj = '{"a":' * 1000 + "1" + "}" * 1000
    body = "[" + ",".join([json.dumps(visit(1)), deep, json.dumps(visit(2)), deep_obj,
                           json.dumps(visit(3) | {"source": {"x": [[[[[[[[[1]]]]]]]]]}}),
                           json.dumps(visit(4))]) + "]"
    resp = await post(anon, body)
    assert resp.status == 400
    data = await resp.json()
    assert data["stored"] == 3
    assert [(r["index"], "嵌套太深" in r["reason"]) for r in data["rejected"]] == [
        (1, True), (3, True), (4, True)]
    assert count_events(community) == 3


async def test_a_far_future_event_is_refused_and_now_stays_put(client, community):
    before = (await (await client.get("/api/members")).json())["at"]
    resp = await post(client, visit(1) | {"ts": "9999-12-31T00:00:00+00:00"})
    assert resp.status == 400 and "超出范围" in (await resp.json())["rejected"][0]["reason"]
    # even one stored before events were range-checked does not move "now"
    with community.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO eventlog (id, type, ts, room, member) "
                             "VALUES ('old-future', 'visit', 253402214400, '', 'wxid_bob')")
    members = await client.get("/api/members")
    assert members.status == 200
    assert (await members.json())["at"] == before
    page = await client.get("/api/members", params={"room": ROOM})
    assert page.status == 200 and (await page.json())["total"] > 0
    for path in ("/", "/members", "/members/wxid_alice", "/members/wxid_bob", f"/rooms/{ROOM}"):
        resp = await client.get(path)
        assert resp.status == 200, path
    assert "Alice" in await (await client.get("/members")).text()


async def test_messages_from_the_api_are_processed_silently(anon, community):
    msg = {"type": "message", "id": "api-m1", "ts": T0.timestamp() + 30, "room": ROOM,
           "sender": "wxid_carol", "sender_name": "Carol 卡罗", "text": "打卡"}
    resp = await post(anon, msg)
    assert (await resp.json())["stored"] == 1
    assert community.scalar("SELECT count(*) FROM checkin WHERE member='wxid_carol'") == 1
    assert community.scalar("SELECT count(*) FROM outbox WHERE \"to\"='wxid_carol'") == 0


@pytest.mark.parametrize("token, status", [(None, 401), ("wrong", 401), (TOKEN + "x", 401)])
async def test_events_need_the_bearer_token(anon, community, token, status):
    resp = await post(anon, visit(1), token=token)
    assert resp.status == status
    assert "error" in await resp.json()
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert count_events(community) == 0


async def test_a_session_cookie_does_not_post_events(client, community):
    resp = await post(client, visit(1), token=None)
    assert resp.status == 401
    assert count_events(community) == 0


async def test_api_is_off_without_a_token(tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web.app import create_app
    from bot.wiring import FEATURES
    from tests.harness import Bot

    bot = Bot(tmp_path)  # no api_token
    async with TestClient(TestServer(create_app(bot.pipeline, bot.deps, FEATURES))) as c:
        resp = await post(c, visit(1), token="anything")
        assert resp.status == 401
        assert "QUNGUAN_API_TOKEN" in (await resp.json())["error"]


@pytest.mark.parametrize("body, content_type, status, reason", [
    ("{", "application/json", 400, "JSON 格式错误"),
    ("[1, 2", "application/json", 400, "JSON 格式错误"),
    (b"\xff\xfe{}", "application/json", 400, "UTF-8"),
    ("42", "application/json", 400, "事件对象"),
    ("[" * 100_000 + "]" * 100_000, "application/json", 400, "JSON"),
    (json.dumps(visit(1)), "text/plain", 415, "application/json"),
    (json.dumps(visit(1)), "application/x-www-form-urlencoded", 415, "application/json"),
])
async def test_bad_bodies_get_a_clear_4xx(anon, community, body, content_type, status, reason):
    resp = await post(anon, body, headers={"Content-Type": content_type})
    assert resp.status == status
    data = await resp.json()
    # a body that is an array says why per element (one hostile element costs no other)
    assert reason in (data.get("error") or data["rejected"][0]["reason"])
    assert count_events(community) == 0


async def test_too_many_events_and_too_big_bodies_are_refused(anon, community):
    resp = await post(anon, [visit(i) for i in range(1001)])
    assert resp.status == 413
    assert "1000" in (await resp.json())["error"]
    huge = json.dumps([visit(1) | {"source": "x" * (21 * 1024 * 1024)}])
    resp = await post(anon, huge)
    assert resp.status == 413
    assert "太大" in (await resp.json())["error"]
    assert count_events(community) == 0
    # the server keeps serving
    resp = await post(anon, visit(2))
    assert resp.status == 200


async def test_an_empty_batch_is_fine(anon):
    resp = await post(anon, [])
    assert await resp.json() == {"received": 0, "stored": 0, "duplicates": 0, "rejected": []}


# ---- members ------------------------------------------------------------------------------

async def test_members_api_returns_report_rows(client, community):
    resp = await client.get("/api/members", params={"room": ROOM, "per_page": "200"})
    assert resp.status == 200
    data = await resp.json()
    assert data["total"] == len(data["members"]) > 15
    evil = next(m for m in data["members"] if m["id"] == HOSTILE_ID)
    assert evil["name"] == HOSTILE
    assert {"id", "name", "rooms", "messages", "login_days", "type", "type_detail",
            "type_explain", "level", "level_name", "points", "streak", "tags"} <= evil.keys()
    assert [t["name"] for t in evil["tags"]] == ["意向"]
    assert "多少钱" in evil["tags"][0]["reason"]
    alice = next(m for m in data["members"] if m["id"] == "wxid_alice")
    assert alice["type"] == "core" and alice["streak"] == 21 and alice["rooms"] == [ROOM, "r2@chatroom"]


async def test_members_api_filters_and_pages(client):
    async def get(**params):
        resp = await client.get("/api/members", params=params)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    lurkers = (await get(type="潜水"))["members"]
    assert "wxid_bob" in [m["id"] for m in lurkers]
    assert {m["type"] for m in lurkers} == {"lurker"}
    # The day's split is of the days before it (medians 5.5 and 5.5), as on the members page: the
    # hostile member's 6 messages in 5 login days make her talk in bursts like Carol.
    assert [m["id"] for m in (await get(type="burst", room=ROOM))["members"]] == ["wxid_evil", "wxid_carol"]
    assert [m["id"] for m in (await get(room="r2@chatroom"))["members"]] == ["wxid_alice"]
    assert [m["id"] for m in (await get(tag="意向"))["members"]] == [HOSTILE_ID]
    top = (await get(sort="points"))["members"][0]
    assert top["id"] == "wxid_alice" and top["level"] > 1
    same = (await get(level=f"Lv{top['level']}"))["members"]
    assert [m["id"] for m in same] == ["wxid_alice"]
    assert len((await get(level="1"))["members"]) == (await get())["total"] - 1
    first, second = await get(per_page="5"), await get(per_page="5", page="2")
    assert first["pages"] == second["pages"] == -(-first["total"] // 5)
    assert not {m["id"] for m in first["members"]} & {m["id"] for m in second["members"]}
    by_points = await get(sort="points", order="desc")
    points = [m["points"] for m in by_points["members"]]
    assert points == sorted(points, reverse=True)
    assert (await get(q="爱丽丝"))["members"][0]["id"] == "wxid_alice"


@pytest.mark.parametrize("params, status, reason", [
    ({"colour": "red"}, 400, "不认识的参数"),
    ({"type": "vip"}, 400, "不认识的成员类型"),
    ({"level": "99"}, 400, "不认识的等级"),
    ({"page": "0"}, 400, "页码"),
    ({"page": "abc"}, 400, "页码"),
    ({"page": "999"}, 400, "超出范围"),
    ({"per_page": "100000"}, 400, "每页条数"),
    ({"sort": "password"}, 400, "排序"),
    ({"room": "nowhere@chatroom"}, 404, "没有这个群"),
])
async def test_members_api_bad_filters(client, params, status, reason):
    resp = await client.get("/api/members", params=params)
    assert resp.status == status
    assert reason in (await resp.json())["error"]


async def test_the_api_token_may_only_post_events(anon):
    for path in ("/api/members", "/api/followup"):
        resp = await anon.get(path, headers=auth())
        assert resp.status == 403 and "只能用来推送事件" in (await resp.json())["error"]
    # nor log in to the console
    resp = await anon.get("/login")
    form = csrf_of(await resp.text())
    resp = await anon.post("/login", data={"password": TOKEN, "csrf": form}, allow_redirects=False)
    assert resp.status == 401
    assert (await anon.get("/rules", allow_redirects=False)).status == 303


async def test_members_api_needs_a_token_or_session(anon):
    resp = await anon.get("/api/members")
    assert resp.status == 401
    resp = await anon.get("/api/members", headers=auth("wrong"))
    assert resp.status == 401


async def test_the_logged_in_console_may_read_the_api(client):
    resp = await client.get("/api/members")
    assert resp.status == 200


# ---- follow-up ----------------------------------------------------------------------------

async def test_followup_api_lists_today_per_operator(client):
    resp = await client.get("/api/followup")
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert data["at"].startswith("2026-11-02")
    ops = {o["operator"]: o for o in data["operators"]}
    assert "wxid_admin" in ops
    items = ops["wxid_admin"]["items"]
    assert items, "the community has leads and new silent members to follow up"
    assert {"n", "kind", "member", "member_name", "room", "room_name", "reason",
            "action"} <= items[0].keys()
    assert any(i["member"] == HOSTILE_ID and i["member_name"] == HOSTILE for i in items)
    resp = await client.get("/api/followup", params={"operator": "nobody"})
    assert (await resp.json())["operators"] == []
    resp = await client.get("/api/followup", params={"day": "x"})
    assert resp.status == 400


async def test_a_store_that_cannot_be_written_answers_503_with_retry_after(anon, community):
    """A full disk or a read-only store: a bare 500 told the sender nothing; now 503 with
    Retry-After and the reason, and nothing of the batch is stored."""
    from sqlalchemy import Engine, event

    def read_only(dbapi_conn, _record, _proxy) -> None:
        dbapi_conn.execute("PRAGMA query_only = 1")

    def writable(dbapi_conn, _record) -> None:  # a pooled connection must not stay read-only
        dbapi_conn.execute("PRAGMA query_only = 0")

    event.listen(Engine, "checkout", read_only)
    event.listen(Engine, "checkin", writable)
    try:
        resp = await post(anon, [visit(900), visit(901)])
    finally:
        event.remove(Engine, "checkout", read_only)
    assert resp.status == 503 and resp.headers["Retry-After"] == "60"
    assert "是只读的，写不进去" in (await resp.json())["error"]
    assert count_events(community, "api-v90") == 0
    try:
        assert (await post(anon, [visit(900), visit(901)])).status == 200  # writable again: stored
        assert count_events(community, "api-v90") == 2
    finally:
        event.remove(Engine, "checkin", writable)
