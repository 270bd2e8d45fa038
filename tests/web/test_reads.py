"""Reads never write: opening any console page or GET API endpoint leaves every table as it was."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import func, select
from sqlmodel import SQLModel

from tests.harness import ROOM
from tests.web.conftest import HOSTILE_ID, auth

GETS = ["/", f"/rooms/{quote(ROOM)}", "/members", f"/members?room={quote(ROOM)}", "/members?tag=意向",
        f"/members/{HOSTILE_ID}", "/members/wxid_alice", "/followup", "/rules", "/tasks",
        "/export/members.csv", "/api/members", "/api/followup", "/api/followup?operator=wxid_admin",
        "/login", "/healthz", "/static/app.css"]


def row_counts(community) -> dict[str, int]:
    with community.engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in SQLModel.metadata.tables.items()}


async def test_gets_change_nothing_in_the_store(client, community):
    before = row_counts(community)
    assert before["followuplist"] == 0 and before["member"] > 0
    for path in GETS:
        resp = await client.get(path)
        assert resp.status == 200, (path, await resp.text())
        resp = await client.get(path) if path.startswith("/api/") else resp
        assert resp.status == 200, path
    assert row_counts(community) == before


async def test_followup_reads_show_a_preview_until_issued(client, community):
    data = await (await client.get("/api/followup")).json()
    preview = {o["operator"]: o for o in data["operators"]}["wxid_admin"]
    assert preview["issued"] is False and preview["list_id"] is None and preview["items"]
    html = await (await client.get("/followup")).text()
    assert "预览" in html and "form.done" not in html and 'action="/followup/done"' not in html
    resp = await client.post("/followup/issue", data={"csrf": "forged"})
    assert resp.status == 403
    assert community.scalar("SELECT count(*) FROM followuplist") == 0
    resp = await client.post("/followup/issue", data={"csrf": client.csrf})
    assert resp.status == 200 and "已生成 1 份今日跟进清单" in await resp.text()
    assert community.scalar("SELECT count(*) FROM followuplist") == 1
    issued = {o["operator"]: o for o in (await (await client.get("/api/followup")).json())["operators"]}
    admin = issued["wxid_admin"]
    assert admin["issued"] is True and admin["list_id"] is not None
    assert [(i["n"], i["member"], i["kind"]) for i in admin["items"]] == [
        (i["n"], i["member"], i["kind"]) for i in preview["items"]]  # the preview was what got issued
    resp = await client.post("/followup/issue", data={"csrf": client.csrf})
    assert "都已生成过了" in await resp.text()
    assert community.scalar("SELECT count(*) FROM followuplist") == 1
    html = await (await client.get("/followup")).text()
    assert 'action="/followup/done"' in html and 'action="/followup/issue"' not in html


async def test_issuing_needs_a_login(anon, community):
    resp = await anon.post("/followup/issue", data={"csrf": "x"})
    assert resp.status == 401
    resp = await anon.post("/followup/issue", headers=auth())
    assert resp.status == 401
    assert community.scalar("SELECT count(*) FROM followuplist") == 0
