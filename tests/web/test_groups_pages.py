"""The console for real groups: welcomes per room, check-in notes, silent members, task options."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.harness import ROOM, T0, texts
from tests.web.conftest import HOSTILE, auth


def join(community, member: str, name: str, ts):
    """A join with an id of its own (a fresh harness over the copied store counts ids from 1)."""
    return community.feed({"type": "join", "id": f"join-{member}", "ts": ts.isoformat(), "room": ROOM,
                           "member": member, "member_name": name})


async def test_pages_need_a_login(anon):
    resp = await anon.get("/welcome", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")


async def test_the_welcome_page_edits_what_the_bot_sends(client, community):
    html = await (await client.get("/welcome")).text()
    assert "读书群" in html and "已开启" in html and "欢迎 新朋友 加入！" in html  # default, previewed
    resp = await client.post("/welcome", data={"csrf": client.csrf, "room": ROOM, "action": "save",
                                               "text": f"欢迎 {{name}} {HOSTILE}，打卡用{{tasks}}"})
    html = await resp.text()
    assert resp.status == 200 and "已保存欢迎语" in html
    assert HOSTILE not in html and "&lt;img src=x" in html  # escaped, never markup
    out = join(community, "wxid_zed", "Zed", T0 + timedelta(minutes=5))
    out += community.time_passes(T0 + timedelta(minutes=6))
    assert f"欢迎 Zed {HOSTILE}，打卡用「打卡」" in texts(out)
    resp = await client.post("/welcome", data={"csrf": client.csrf, "room": ROOM, "action": "off", "text": ""})
    assert "已关闭欢迎语" in await resp.text()
    join(community, "wxid_yan", "Yan", T0 + timedelta(minutes=10))
    assert "欢迎" not in texts(community.time_passes(T0 + timedelta(minutes=20)))
    resp = await client.post("/welcome", data={"csrf": client.csrf, "room": "r404@chatroom", "action": "on"})
    assert "没有这个群" in await resp.text()
    resp = await client.post("/welcome", data={"csrf": client.csrf, "room": ROOM, "action": "save", "text": ""})
    assert "欢迎语不能为空" in await resp.text()
    resp = await client.post("/welcome", data={"room": ROOM, "action": "on"})  # no CSRF token
    assert resp.status == 403


async def test_the_member_page_shows_check_in_notes(client, community):
    community.say("wxid_alice", f"打卡 今天读完第三章 {HOSTILE}", ts=T0 + timedelta(days=1), id="note-1")
    html = await (await client.get("/members/wxid_alice")).text()
    assert "打卡心得" in html and "今天读完第三章" in html
    assert HOSTILE not in html and "noted" in html


async def test_silent_members_from_a_roster_are_in_the_member_list(client, community):
    community.roster(["wxid_alice", {"id": "wxid_quiet", "name": "潜水的小周"}], room=ROOM,
                     ts=T0 + timedelta(minutes=1), id="roster-1")
    html = await (await client.get("/members?type=dormant")).text()
    assert "潜水的小周" in html


async def test_a_task_with_a_note_and_a_reply_mode(client, community):
    resp = await client.post("/tasks", data={"csrf": client.csrf, "name": "读书作业", "triggers": "交作业",
                                             "window": "", "points": "10", "challenge_days": "", "room": "",
                                             "min_note": "15", "reply": "summary"})
    html = await resp.text()
    assert "已添加打卡任务「读书作业」" in html and "≥15 字" in html and "只发每日汇总" in html
    assert community.rows("SELECT min_note, reply FROM checkintask WHERE name='读书作业'") == [(15, "summary")]


async def test_rosters_through_the_event_api(anon, community):
    roster = {"type": "roster", "id": "api-ro1", "ts": (T0 + timedelta(minutes=2)).isoformat(), "room": ROOM,
              "members": [{"id": "wxid_alice"}, {"id": "wxid_silent_api", "name": "API 潜水员"}]}
    bad = {**roster, "id": "api-ro2", "members": []}
    resp = await anon.post("/api/events", data=json.dumps([roster, bad, roster]),
                           headers={"Content-Type": "application/json", **auth()})
    body = await resp.json()
    assert body["stored"] == 1 and body["duplicates"] == 1
    assert [r["index"] for r in body["rejected"]] == [1] and "不能为空" in body["rejected"][0]["reason"]
    assert community.rows("SELECT member, pre_existing FROM membership WHERE member = 'wxid_silent_api'") == [
        ("wxid_silent_api", True)]
