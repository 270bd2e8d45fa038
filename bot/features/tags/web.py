"""The tag-rules pages of the console: the active rules, adding one, deleting one, and a
proposed rule tried on all stored history (回测)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.errors import UsageError
from bot.core.feature import CsvColumn, MemberSection, NavEntry, WebPart
from bot.features.tags import service as tag_service
from bot.features.tags.backtest import backtest, compare
from bot.features.tags.commands import basis_text
from bot.features.tags.service import Tagging, active_rules
from bot.features.tags.synonyms import CHECK_DAYS, Added, add_words, listing, remove_words
from bot.web.shell import (
    CONSOLE,
    WEB_ACTOR,
    BadRequest,
    Console,
    back_to,
    check_params,
    form_text,
    member_in_scope,
    page,
    person_of,
    redirect_with,
)
from tagging.rules import BOTH_USAGE, Rule, validate_tag

TEMPLATES = Path(__file__).parent / "templates"
MAX_RULE = 500


def _rules(conn: Connection, draft: str = "", synonym_draft: tuple[str, str] = ("", "")) -> dict[str, Any]:
    return {"rules": active_rules(conn), "draft": draft, "usage": BOTH_USAGE, "synonyms": listing(conn),
            "synonym_draft": synonym_draft}


async def synonyms_add(request: web.Request) -> web.Response:
    """Words added to a synonym set, checked as `/synonym add` checks them."""
    console = request.app[CONSOLE]
    form = await request.post()
    concept, words = form_text(form, "concept"), form_text(form, "words")
    if not concept or not words:
        raise BadRequest("请写出同义词组名和词，例如 价格 和 学费,收费")

    def add(conn: Connection) -> Added:
        tagging = console.deps.service(Tagging)
        added = add_words(conn, tagging.tokenizer, concept, words, by=WEB_ACTOR, at=console.now(conn))
        tagging.changed = True
        return added
    try:
        added = await console.write(add)
    except UsageError as exc:
        context = await console.read(_rules, "", (concept, words))
        return await page(request, "tags/rules.html", context, nav="rules", status=400,
                          notice=str(exc), error=True)
    return redirect_with(request, "/rules", f"已把 {'、'.join(added.added)} 加进同义词组「{added.concept}」"
                                            f"（最近 {CHECK_DAYS} 天 {added.messages} 条聊天里命中 {added.hits} 条）。")


async def synonyms_delete(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    concept, word = form_text(form, "concept"), form_text(form, "word")

    def remove(conn: Connection) -> tuple[str, ...]:
        removed = remove_words(conn, concept, word)
        console.deps.service(Tagging).changed = True
        return removed
    try:
        await console.write(remove)
    except UsageError as exc:
        return redirect_with(request, "/rules", str(exc), error=True)
    return redirect_with(request, "/rules", f"已从「{concept}」去掉 {word}。")


async def rules_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    context = await request.app[CONSOLE].read(_rules)
    return await page(request, "tags/rules.html", context, nav="rules")


def _add(conn: Connection, console: Console, text: str) -> Rule:
    # Managers name groups as they see them; rules keep room ids.
    rule = tag_service.with_room_ids(conn, tag_service.parse_rule_text(text))
    return tag_service.add_rule(conn, console.deps.service(Tagging), rule, by=WEB_ACTOR,
                                at=int(console.now(conn).timestamp()))


async def rules_add(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    text = form_text(await request.post(), "rule")
    if not text:
        raise BadRequest("请写出规则，例如 keyword 意向 多少钱,价格 lead=yes")
    if len(text) > MAX_RULE:
        raise BadRequest(f"规则太长（上限 {MAX_RULE} 字）")
    try:
        rule = await console.write(_add, console, text)
    except UsageError as exc:
        context = await console.read(_rules, text)
        return await page(request, "tags/rules.html", context, nav="rules", status=400,
                          notice=str(exc), error=True)
    return redirect_with(request, "/rules", f"已添加规则：{rule.describe()}")


async def rules_delete(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    rule_id = int(request.match_info["rule_id"])

    def delete(conn: Connection) -> tuple[str, int]:
        return tag_service.delete_rule(conn, console.deps.service(Tagging), rule_id)
    try:
        tag, removed = await console.write(delete)
    except LookupError as exc:
        return redirect_with(request, "/rules", str(exc), error=True)
    return redirect_with(request, "/rules", f"已删除规则 #{rule_id}（{tag}），并撤下了它自动打的 "
                                            f"{removed} 个标签；手动标签不受影响。")


def _backtest(conn: Connection, console: Console, text: str) -> dict[str, Any]:
    context: dict[str, Any] = {"draft": text, "usage": BOTH_USAGE, "result": None, "basis": None}
    if text:
        rule = tag_service.with_room_ids(conn, tag_service.parse_rule_text(text))
        found = backtest(conn, console.deps.service(Tagging), rule, console.now(conn))
        context |= {"result": found, "basis": basis_text(found, console.deps.settings.tz),
                    "tz": console.deps.settings.tz,
                    "change": compare(conn, console.deps.service(Tagging), found, console.now(conn))}
    return context


async def backtest_page(request: web.Request) -> web.Response:
    """A proposed rule tried on all stored history; nothing is saved."""
    check_params(request.query, ("rule",))
    console = request.app[CONSOLE]
    text = request.query.get("rule", "").strip()
    if len(text) > MAX_RULE:
        raise BadRequest(f"规则太长（上限 {MAX_RULE} 字）")
    try:
        context = await console.read(_backtest, console, text)
    except UsageError as exc:
        context = {"draft": text, "usage": BOTH_USAGE, "result": None, "basis": None}
        return await page(request, "tags/backtest.html", context, nav="rules", status=400,
                          notice=str(exc), error=True)
    return await page(request, "tags/backtest.html", context, nav="rules")


async def act_tag(request: web.Request) -> web.Response:
    """打标签 / 去标签 from a member's page, with a reason: the same calls as /tag and /untag."""
    console = request.app[CONSOLE]
    form = await request.post()
    member, do = form_text(form, "member"), form_text(form, "do")
    reason = form_text(form, "reason")[:tag_service.MAX_REASON]
    back = back_to(form, f"/members/{quote(member, safe='')}")
    if not member or do not in ("tag", "untag"):
        raise BadRequest("请在成员页上打标签或去标签")
    try:
        tag = validate_tag(form_text(form, "tag"))
    except ValueError as exc:
        return redirect_with(request, back, f"没有改动：{exc}", error=True)
    if not reason:
        return redirect_with(request, back, "没有改动：请写上原因（例如「电话沟通过，想报名」）。", error=True)
    who = person_of(request)

    def act(conn: Connection) -> tuple[bool, str]:
        name = member_in_scope(conn, who, member)
        at = int(console.now(conn).timestamp())
        if do == "tag":
            if not tag_service.tag_by_hand(conn, console.deps.service(Tagging), member, tag, by=who.name, at=at,
                                           reason=reason):
                return False, f"没有打上：{name} 已有同一互斥组里手动打的标签。"
            return True, f"已给 {name} 打上「{tag}」（原因：{reason}）。"
        if not tag_service.untag_by_hand(conn, console.deps.service(Tagging), member, tag):
            return False, f"{name} 没有「{tag}」这个标签，没有改动。"
        return True, f"已去掉 {name} 的「{tag}」（原因：{reason}）。"
    done, notice = await console.write(act)
    return redirect_with(request, back, notice, error=not done)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/act/tag", act_tag)
    router.add_get("/rules", rules_page)
    router.add_get("/rules/backtest", backtest_page)
    router.add_post("/rules", rules_add)
    router.add_post(r"/rules/{rule_id:\d{1,9}}/delete", rules_delete)
    router.add_post("/rules/synonyms", synonyms_add)
    router.add_post("/rules/synonyms/delete", synonyms_delete)


# ---- what the shell shows of tags ---------------------------------------------------------------

SOURCE_LABELS = {"keyword": "关键词", "count": "发言数", "manual": "手动"}
NAV = (NavEntry("标签规则", "/rules", "rules", 50),)
MEMBER = (MemberSection("tags/member_tags.html", 40, lambda conn, view: {"sources": SOURCE_LABELS}),)
CSV = (CsvColumn("标签", lambda r: "；".join(f"{t['name']}（{t['reason']}）" for t in r["tags"]), 60),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV, member=MEMBER, csv=CSV)
