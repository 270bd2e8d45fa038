"""Each person logs in as themselves: 控制台 in a DM gives a one-time link (10 minutes, single
use, bound to that member); roles come from the store (global admins, per-room admins,
operators); an operator sees and acts on their rooms only; sessions and the audit name them."""

from __future__ import annotations

import itertools
import re
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from tests.harness import ADMIN, ROOM, T0, Bot, texts
from tests.web.conftest import ROOM2, csrf_of, dm_link, log_in_by_link

OP = "wxid_bob"  # Bob 鲍勃, made an operator of 读书群 (r1)
ONLY_R2 = "wxid_r2only"


@pytest.fixture
def people(community: Bot) -> Bot:
    # A fresh harness counts event ids from 1 again: start past the community's own ids.
    community._ids = itertools.count(100_000)
    community.join(ONLY_R2, room=ROOM2, name="二群小李", ts=T0)
    community.say(ADMIN, "/operator @Bob", mentions=[OP], name="群主", ts=T0)
    return community


async def test_a_dm_link_logs_that_member_in_once(anon: TestClient, people: Bot):
    link = dm_link(people, OP)
    assert re.fullmatch(r"/login/link/[\w-]{32}", link)
    resp = await anon.get(link, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/"
    html = await (await anon.get("/")).text()
    assert "运营Bob 鲍勃" in html  # the header names the person
    assert people.rows("SELECT actor, action, result FROM auditentry WHERE action = 'login'") == [
        (OP, "login", "运营Bob 鲍勃登录成功（私信链接）")]
    assert people.scalar("SELECT member FROM websession") == OP

    anon.session.cookie_jar.clear()  # the same link in another browser: used already
    resp = await anon.get(link, allow_redirects=False)
    text = await resp.text()
    assert resp.status == 410 and "已经用过了" in text and "私聊机器人发「控制台」" in text
    assert (await anon.get("/", allow_redirects=False)).status == 303  # not logged in


async def test_an_expired_or_broken_link_says_so_and_how_to_get_a_new_one(anon: TestClient, people: Bot):
    link = dm_link(people, OP)
    assert people.scalar("SELECT expires_at - created_at FROM loginlink") == 600  # 10 minutes
    with people.engine.begin() as conn:  # made 10 minutes and a second ago
        conn.exec_driver_sql("UPDATE loginlink SET created_at = created_at - 601, expires_at = expires_at - 601")
    resp = await anon.get(link, allow_redirects=False)
    assert resp.status == 410 and "已过期" in await resp.text() and "「控制台」" in await resp.text()
    resp = await anon.get("/login/link/not-a-real-token", allow_redirects=False)
    assert resp.status == 410 and "无效" in await resp.text()
    assert people.scalar("SELECT count(*) FROM websession") == 0


def test_the_link_is_for_admins_and_operators_and_only_by_dm(people: Bot):
    before = people.scalar("SELECT count(*) FROM loginlink")
    in_group = texts(people.say(OP, "控制台", name="Bob 鲍勃"))
    assert "私聊" in in_group and "/login/link/" not in in_group
    member = texts(people.say("wxid_carol", "控制台", room=None))
    assert "/login/link/" not in member and "只有运营" in member
    assert people.scalar("SELECT count(*) FROM loginlink") == before
    # The link never lands in the audit log (it logs in whoever holds it).
    dm_link(people, OP)
    assert "/login/link/" not in "".join(r[0] for r in people.rows("SELECT result FROM auditentry"))


async def test_a_member_who_is_no_longer_an_operator_is_refused(anon: TestClient, people: Bot):
    await log_in_by_link(anon, people, OP)
    spare = dm_link(people, OP)
    people.say(ADMIN, "/operator del @Bob", mentions=[OP], name="群主", ts=T0)
    resp = await anon.get("/members")
    assert resp.status == 403 and "不是管理员或运营" in await resp.text()
    assert people.scalar("SELECT count(*) FROM websession") == 0
    anon.session.cookie_jar.clear()
    resp = await anon.get(spare, allow_redirects=False)
    assert resp.status == 410 and "不是管理员或运营" in await resp.text()


async def test_an_operator_sees_and_acts_on_their_rooms_only(anon: TestClient, people: Bot):
    await log_in_by_link(anon, people, OP)
    for path, words in [(f"/rooms/{quote(ROOM2, safe='')}", "不在你负责的范围内"),
                        (f"/members?room={quote(ROOM2, safe='')}", "不在你负责的范围内"),
                        (f"/members/{ONLY_R2}", "不在你负责的群里"), ("/rules", "只有管理员"),
                        ("/audit", "只有管理员"), ("/outbox", "只有管理员"), ("/people", "只有管理员")]:
        resp = await anon.get(path)
        assert resp.status == 403 and words in await resp.text(), path
    listed = await (await anon.get("/members")).text()
    assert "Alice 爱丽丝" in listed and "二群小李" not in listed
    assert 'href="/rules"' not in listed and 'href="/trends"' in listed  # the menu: their pages only
    assert (await anon.get(f"/rooms/{quote(ROOM, safe='')}")).status == 200
    assert (await anon.get("/members/wxid_alice")).status == 200
    api = await (await anon.get("/api/members")).json()
    assert ONLY_R2 not in {m["id"] for m in api["members"]} and api["total"] == len(api["members"])
    csrf = csrf_of(await (await anon.get("/members/wxid_alice")).text())
    resp = await anon.post("/act/note", data={"csrf": csrf, "member": ONLY_R2, "text": "越权"})
    assert resp.status == 403
    assert people.scalar("SELECT count(*) FROM membernote") == 0


async def test_room_admins_are_set_in_chat_listed_and_removed_in_the_console(client: TestClient, people: Bot):
    assert "只有管理员" in texts(people.say(OP, "/admin @Alice", mentions=["wxid_alice"], room=ROOM2, name="Bob 鲍勃"))
    answer = texts(people.say(ADMIN, "/admin @Alice", mentions=["wxid_alice"], room=ROOM2, name="群主", ts=T0))
    assert "现在是本群的管理员" in answer
    html = await (await client.get("/people")).text()
    assert "Alice 爱丽丝" in html and 'action="/people/remove"' in html
    # Alice logs in by her own link and sees her room, not the other one.
    alice = TestClient(client.server)
    async with alice:
        await log_in_by_link(alice, people, "wxid_alice")
        assert (await alice.get(f"/rooms/{quote(ROOM2, safe='')}")).status == 200
        assert (await alice.get(f"/rooms/{quote(ROOM, safe='')}")).status == 403
        # An admin of her room: the admin actions there (points).
        csrf = csrf_of(await (await alice.get(f"/members/{ONLY_R2}")).text())
        resp = await alice.post("/act/points", data={"csrf": csrf, "member": ONLY_R2, "delta": "+5",
                                                     "reason": "群管理员加分"})
        assert resp.status == 200 and "已为 二群小李 加 5 分" in await resp.text()
        resp = await client.post("/people/remove", data={"csrf": client.csrf, "room": ROOM2,
                                                         "member": "wxid_alice"})
        assert "已移除群管理员" in await resp.text()
        assert people.scalar("SELECT count(*) FROM roomadmin") == 0
        assert (await alice.get("/members")).status == 403  # no role left
    assert people.rows("SELECT actor, action FROM auditentry WHERE action IN ('/act/points', '/people/remove')") \
        == [("wxid_alice", "/act/points"), (ADMIN, "/people/remove")]


async def test_the_capped_lists_link_logs_that_operator_in_on_their_list(anon: TestClient, people: Bot):
    people.say(ADMIN, "/operator @Bob cap=1", mentions=[OP], name="群主", ts=T0)
    dms = texts(people.say(OP, "跟进清单", room=None))
    found = re.search(r"另有 \d+ 项，见控制台：http://127\.0\.0\.1:8080(/login/link/[\w-]+)", dms)
    assert found, dms
    resp = await anon.get(found.group(1), allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/followup?operator={OP}"
    html = await (await anon.get(resp.headers["Location"])).text()
    assert 'data-operator="wxid_bob"' in html and 'data-operator="wxid_admin"' not in html
    assert (await anon.get("/followup?operator=wxid_admin")).status == 403
