"""The console's side of the audit log: its actions and logins are recorded, the audit page
filters them, and the CSV exports them."""

from __future__ import annotations

import csv
import io
import re

from tests.harness import ADMIN, T0
from tests.web.conftest import csrf_of


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def log(community) -> list[tuple]:
    return community.rows('SELECT actor, place, action, detail, result FROM auditentry ORDER BY id')


async def test_logins_and_failed_logins_are_recorded(anon, community):
    resp = await anon.get("/login")
    token = csrf_of(await resp.text())
    await anon.post("/login", data={"password": "wrong", "csrf": token}, allow_redirects=False)
    resp = await anon.post("/login", data={"password": "console-密码", "csrf": token}, allow_redirects=False)
    assert resp.status == 303
    rows = log(community)
    # The bootstrap password logs in as the first global admin, and the log names them.
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("console", "console", "login_failed", "登录失败 1 次（密码错误或锁定期间再试）"),
        (ADMIN, "console", "login", "管理员群主登录成功（密码）")]
    assert rows[0][3] == "127.0.0.1"


async def test_console_actions_are_recorded_and_failures_are_not(client, community):
    before = len(log(community))  # the login
    resp = await client.post("/rules", data={"csrf": client.csrf, "rule": "keyword 售后 退款,发票"})
    assert resp.status == 200
    assert (await client.post("/rules", data={"csrf": client.csrf, "rule": "keyword"})).status == 400
    rule_id = community.scalar("SELECT id FROM tagrule WHERE tag='售后'")
    await client.post(f"/rules/{rule_id}/delete", data={"csrf": client.csrf})
    await client.post(f"/rules/{rule_id}/delete", data={"csrf": client.csrf})  # an error notice
    rows = log(community)[before:]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (ADMIN, "console", "/rules"), (ADMIN, "console", f"/rules/{rule_id}/delete")]
    assert rows[0][3] == "rule=keyword 售后 退款,发票（127.0.0.1）"
    assert rows[0][4].startswith("已添加规则") and rows[1][4].startswith(f"已删除规则 #{rule_id}（售后）")


async def test_audit_page_filters_and_csv(client, community):
    community.say(ADMIN, "/tag wxid_bob 老学员", name="群主", ts=T0.isoformat())
    community.say(ADMIN, "/points wxid_bob +5 私聊加分", name="群主", room=None, ts=T0.isoformat())
    await client.post("/rules", data={"csrf": client.csrf, "rule": "keyword 售后 退款"})
    html = text_of(await (await client.get("/audit")).text())
    assert "群主 读书群 /tag wxid_bob 老学员" in html and "群主 私聊 /points wxid_bob +5 私聊加分" in html
    assert "群主（控制台） 控制台 /rules rule=keyword 售后 退款" in html and "登录控制台" in html
    only_private = text_of(await (await client.get("/audit?where=private")).text())
    assert "/points wxid_bob" in only_private and "/tag wxid_bob" not in only_private
    by_action = text_of(await (await client.get("/audit?action=tag")).text())
    assert "/tag wxid_bob" in by_action and "/points" not in by_action
    by_actor = text_of(await (await client.get(f"/audit?actor={ADMIN}&since=2026-11-02&until=2026-11-02")).text())
    assert "/tag wxid_bob" in by_actor and "登录控制台" not in by_actor
    assert "没有符合条件" in await (await client.get("/audit?since=2030-01-01")).text()
    resp = await client.get("/audit?since=昨天")
    assert resp.status == 400 and "年-月-日" in await resp.text()
    assert (await client.get("/audit?where=moon")).status == 400
    resp = await client.get("/export/audit.csv?where=group")
    body = (await resp.read()).decode("utf-8")
    assert body.startswith("\ufeff") and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["时间", "操作人", "操作人 id", "位置", "操作", "变化"]
    assert [r[1:5] for r in rows[1:]] == [["群主", ADMIN, "读书群", "/tag wxid_bob 老学员"]]
