"""Attacker-controlled text from chat stays text; sessions and secrets are checked properly."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import quote

import aiohttp_jinja2
from markupsafe import Markup

from bot.web.app import create_app
from bot.web.auth import Signer, bearer_token, same_secret
from bot.wiring import FEATURES
from tests.harness import ROOM, T0
from tests.web.conftest import HOSTILE, HOSTILE_ID

ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
MEMBER_PAGES = ["/", f"/rooms/{quote(ROOM)}", "/members", f"/members?room={quote(ROOM)}",
                "/members?tag=意向", f"/members/{HOSTILE_ID}", "/followup"]


async def test_hostile_nickname_is_text_on_every_page(client):
    for path in MEMBER_PAGES:
        resp = await client.get(path)
        assert resp.status == 200, path
        html = await resp.text()
        assert ESCAPED in html, path
        assert "<img" not in html, path
        assert "<script" not in html, path


async def test_hostile_nickname_in_the_csv_is_the_plain_name(client):
    raw = await (await client.get("/export/members.csv")).read()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    evil = next(r for r in rows if r[0] == HOSTILE_ID)
    assert evil[1] == HOSTILE
    assert "<script>alert" in evil[-1]  # the tag reason quotes the message, as text


async def test_hostile_nickname_in_the_json_api(client):
    resp = await client.get("/api/members", params={"tag": "意向"})
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert (await resp.json())["members"][0]["name"] == HOSTILE


async def test_spreadsheet_formulas_in_names_are_defused(client, community):
    community.say("wxid_formula", "大家好呀我是新来的", name='=HYPERLINK("http://x","点我")',
                  ts=T0 + timedelta(minutes=1))
    raw = await (await client.get("/export/members.csv")).read()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    row = next(r for r in rows if r[0] == "wxid_formula")
    assert row[1] == "'=HYPERLINK(\"http://x\",\"点我\")"


async def test_hostile_room_name_and_ids_are_escaped(client, community):
    evil_room = 'r"><script>alert(2)</script>@chatroom'
    community.say("wxid_alice", "我也在这个群里说一句", room=evil_room, name="Alice 爱丽丝",
                  ts=T0 + timedelta(minutes=2))
    for path in ("/", f"/rooms/{quote(evil_room, safe='')}", "/members/wxid_alice", "/tasks",
                 "/members"):
        html = await (await client.get(path)).text()
        assert "<script" not in html, path
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html, path


def test_templates_escape_everything_but_markup(community):
    env = aiohttp_jinja2.get_env(create_app(community.pipeline, community.deps, FEATURES))

    def render(source: str, value: object) -> str:
        return env.from_string(source).render(v=value)

    assert render("{{ v }}", HOSTILE) == ESCAPED
    assert render("{{ v }}", '"\'') == "&#34;&#39;"
    assert render("<b>{{ v }}</b>", HOSTILE) == f"<b>{ESCAPED}</b>"
    assert render("{{ v }}", Markup("<i>ok</i>")) == "<i>ok</i>"
    assert Markup("<p>") + HOSTILE == f"<p>{ESCAPED}"
    assert HOSTILE + Markup("<p>") == f"{ESCAPED}<p>"
    # Every template of the shell and the features is autoescaped, the SVG chart included.
    names = env.list_templates()
    assert "base.html" in names and "member_types/chart.svg" in names
    assert all(env.autoescape(n) if callable(env.autoescape) else env.autoescape for n in names)
    assert env.get_template("macros.html").module.member_link(HOSTILE_ID, HOSTILE) == (
        f'<a href="/members/{HOSTILE_ID}">{ESCAPED}</a>')


def test_secrets_and_sessions():
    assert same_secret("令牌", "令牌") and not same_secret("令牌x", "令牌")
    assert not same_secret("", "")  # an unset secret never matches
    assert bearer_token("Bearer abc") == "abc" and bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None and bearer_token(None) is None
    signer = Signer(b"k" * 32)
    cookie = signer.issue(1000)
    session = signer.verify(cookie, 1001)
    assert session is not None and re.fullmatch(r"[\w-]{40,}", session.csrf)
    assert signer.verify(cookie, 1000 + 13 * 3600) is None  # expired
    assert Signer(b"other" * 8).verify(cookie, 1001) is None
    assert signer.unseal("flash", signer.seal("flash", "已完成")) == "已完成"
    assert signer.unseal("other", signer.seal("flash", "已完成")) is None
