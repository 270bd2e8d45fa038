"""Actions in the console, each the same service call as its chat command, CSRF-protected and
audited under the person who did it: tag / untag with a reason, note, grade, points, snooze and
reassign of follow-up items. A form with a missing or invalid field comes back with the error and
writes nothing."""

from __future__ import annotations

import itertools
import re

import pytest
from aiohttp.test_utils import TestClient

from tests.harness import ADMIN, T0, Bot
from tests.web.conftest import log_in_by_link

OP = "wxid_bob"


@pytest.fixture
def shop(community: Bot) -> Bot:
    community._ids = itertools.count(100_000)  # past the community's own event ids
    community.say(ADMIN, "/operator @Bob", mentions=[OP], name="群主", ts=T0)
    return community


def audited(bot: Bot) -> list[tuple]:
    return bot.rows("SELECT actor, place, action FROM auditentry WHERE action LIKE '/%' ORDER BY id")


async def post(client: TestClient, path: str, csrf: str, **fields: str):
    resp = await client.post(path, data={"csrf": csrf, **fields})
    return resp.status, await resp.text()


async def test_tag_and_untag_with_a_reason(anon: TestClient, shop: Bot):
    csrf = await log_in_by_link(anon, shop, OP)
    status, html = await post(anon, "/act/tag", csrf, member="wxid_alice", do="tag", tag="老学员",
                              reason="去年报过训练营")
    assert status == 200 and "已给 Alice 爱丽丝 打上「老学员」（原因：去年报过训练营）" in html
    assert shop.rows("SELECT source, by, excerpt FROM membertag WHERE member='wxid_alice' AND tag='老学员'") == [
        ("manual", "Bob 鲍勃", "去年报过训练营")]
    assert "管理员 Bob 鲍勃 手动添加" in html and "原因：去年报过训练营" in html  # on the member page
    _, html = await post(anon, "/act/tag", csrf, member="wxid_alice", do="untag", tag="老学员",
                              reason="打错了")
    assert "已去掉 Alice 爱丽丝 的「老学员」（原因：打错了）" in html
    assert shop.scalar("SELECT count(*) FROM membertag WHERE tag='老学员'") == 0
    assert audited(shop) == [(OP, "console", "/act/tag"), (OP, "console", "/act/tag")]
    assert "reason=打错了" in shop.scalar("SELECT detail FROM auditentry WHERE action='/act/tag' ORDER BY id DESC")


@pytest.mark.parametrize(("fields", "error"), [
    ({"tag": "老学员", "reason": ""}, "请写上原因"),
    ({"tag": "", "reason": "原因"}, "标签"),
    ({"tag": "<script>", "reason": "原因"}, "标签"),
    ({"tag": "🎉" * 60, "reason": "原因"}, "标签"),
])
async def test_a_bad_tag_form_comes_back_with_the_error_and_writes_nothing(client, shop, fields, error):
    tags = shop.scalar("SELECT count(*) FROM membertag")
    status, html = await post(client, "/act/tag", client.csrf, member="wxid_alice", do="tag", **fields)
    assert status == 200 and 'class="error"' in html and error in html
    assert 'action="/act/tag"' in html  # the form again, on the member's page
    assert shop.scalar("SELECT count(*) FROM membertag") == tags and audited(shop) == []


async def test_forms_need_csrf_and_an_existing_member(client, shop):
    resp = await client.post("/act/note", data={"member": "wxid_alice", "text": "x"})
    assert resp.status == 403 and "CSRF" in await resp.text()
    status, html = await post(client, "/act/note", client.csrf, member="wxid_nobody", text="你好")
    assert status == 404 and "没有这位成员" in html
    _, html = await post(client, "/act/note", client.csrf, member="wxid_alice", text="")
    assert "备注是空的" in html
    assert shop.scalar("SELECT count(*) FROM membernote") == 0 and audited(shop) == []


async def test_note_grade_and_points(client, shop):
    _, html = await post(client, "/act/note", client.csrf, member="wxid_alice", text="想了解训练营，下周再聊")
    assert "已记下对 Alice 爱丽丝 的备注" in html
    assert shop.rows("SELECT member, by, text FROM membernote") == [("wxid_alice", ADMIN, "想了解训练营，下周再聊")]
    _, html = await post(client, "/act/grade", client.csrf, member="wxid_alice", grade="A", reason="老客户")
    assert "已把 Alice 爱丽丝 设为 A 级（老客户）" in html
    assert shop.rows("SELECT grade, reason, by FROM gradepin") == [("A", "老客户", ADMIN)]
    _, html = await post(client, "/act/grade", client.csrf, member="wxid_alice", grade="E")
    assert "只能是 A、B、C 或 D" in html and shop.scalar("SELECT grade FROM gradepin") == "A"
    _, html = await post(client, "/act/grade", client.csrf, member="wxid_alice", grade="auto")
    assert "恢复按条件自动评级" in html and shop.scalar("SELECT count(*) FROM gradepin") == 0
    before = shop.scalar("SELECT points FROM member WHERE id='wxid_alice'")
    for bad in ("abc", "0", "+", "１０", "9999999"):
        _, html = await post(client, "/act/points", client.csrf, member="wxid_alice", delta=bad, reason="x")
        assert "分数应为不为 0 的整数" in html, bad
    _, html = await post(client, "/act/points", client.csrf, member="wxid_alice", delta="+20", reason="")
    assert "请写上原因" in html
    _, html = await post(client, "/act/points", client.csrf, member="wxid_alice", delta="+20",
                              reason="分享了读书笔记")
    assert f"已为 Alice 爱丽丝 加 20 分（分享了读书笔记），{before} → {before + 20} 分" in html
    assert shop.rows("SELECT delta, kind, reason, by FROM pointsentry WHERE kind='manual'") == [
        (20, "manual", "分享了读书笔记", ADMIN)]
    assert [a for _, _, a in audited(shop)] == ["/act/note", "/act/grade", "/act/grade", "/act/points"]


async def test_an_operator_may_not_adjust_points_or_grades(anon, shop):
    csrf = await log_in_by_link(anon, shop, OP)
    html = await (await anon.get("/members/wxid_alice")).text()
    assert 'action="/act/points"' not in html and 'action="/act/tag"' in html
    for path, fields in (("/act/points", {"delta": "+5", "reason": "x"}), ("/act/grade", {"grade": "A"})):
        resp = await anon.post(path, data={"csrf": csrf, "member": "wxid_alice", **fields})
        assert resp.status == 403 and "只有管理员" in await resp.text()
    assert shop.scalar("SELECT count(*) FROM pointsentry WHERE kind='manual'") == 0


async def test_snooze_and_reassign_items_of_a_list(anon, shop):
    shop.say(OP, "跟进清单", room=None, name="Bob 鲍勃")  # Bob's list, issued as in chat
    items = shop.rows("SELECT i.n, i.member FROM followupitem i JOIN followuplist l ON l.id = i.list_id "
                      "WHERE l.operator = :op ORDER BY i.n", op=OP)
    assert len(items) >= 2, items
    csrf = await log_in_by_link(anon, shop, OP)
    html = await (await anon.get(f"/followup?operator={OP}")).text()
    assert 'action="/followup/snooze"' in html and 'action="/followup/reassign"' in html
    _, html = await post(anon, "/followup/snooze", csrf, operator=OP, n="1", days="2",
                              back=f"/followup?operator={OP}")
    assert "第 1 项先放一放，2 天后" in html
    assert shop.scalar("SELECT snoozed_until FROM followupcase WHERE member = :m", m=items[0][1]) is not None
    _, html = await post(anon, "/followup/snooze", csrf, operator=OP, n="2", days="99")
    assert "天数应为 1–30" in html
    _, html = await post(anon, "/followup/snooze", csrf, operator=OP, n="999", days="1")
    assert "清单上没有第 999 项" in html
    _, html = await post(anon, "/followup/reassign", csrf, operator=OP, n="2", to=OP)
    assert "不能转给自己" in html
    _, html = await post(anon, "/followup/reassign", csrf, operator=OP, n="2", to=ADMIN)
    assert "已转给 群主" in html, re.findall(r"class=\"(?:notice|error)\"[^<]*<", html)
    assert shop.scalar("SELECT owner FROM followupcase WHERE member = :m", m=items[1][1]) == ADMIN
    assert shop.scalar("SELECT text FROM outbox WHERE \"to\" = :a ORDER BY id DESC", a=ADMIN).startswith(
        "Bob 鲍勃 把 1 项跟进转给了你")
    # Someone else's list is not theirs to work.
    resp = await anon.post("/followup/snooze", data={"csrf": csrf, "operator": ADMIN, "n": "1"})
    assert resp.status == 403
    assert audited(shop) == [(OP, "console", "/followup/snooze"), (OP, "console", "/followup/reassign")]
