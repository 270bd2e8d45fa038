"""The console's points shop: items (add, take off), redemptions (hand over, refund)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.directory import member_names
from bot.core.feature import MemberSection, MemberView, NavEntry, WebPart
from bot.core.pipeline import Batch
from bot.features.points.api import Ledger
from bot.features.shop import service
from bot.features.shop.service import ShopError
from bot.web.shell import CONSOLE, BadRequest, Console, check_params, form_text, page, read_form, redirect_with

TEMPLATES = Path(__file__).parent / "templates"
STATUS = {"pending": "待发放", "fulfilled": "已发放", "refunded": "已退回"}
CONSOLE_USER = "console"  # who handed over or refunded, when done in the console


def _shop(conn: Connection, console: Console) -> dict[str, Any]:
    goods = service.items(conn, active_only=False)
    done = service.redemptions(conn)
    pending = [r for r in done if r.status == "pending"]
    return {"title": "积分商城", "at": console.now(conn), "items": goods, "redemptions": done,
            "pending": len(pending), "names": member_names(conn, [r.member for r in done]), "status": STATUS}


async def shop_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    context = await console.read(_shop, console)
    return await page(request, "shop/shop.html", context, nav="shop")


def _number(form: Any, key: str, what: str, *, required: bool = True) -> int | None:
    raw = form_text(form, key)
    if not raw and not required:
        return None
    if not raw.isdigit():
        raise BadRequest(f"{what}应为正整数")
    return int(raw)


async def add_item(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await read_form(request)
    name = form_text(form, "name")
    price = _number(form, "price", "价格")
    stock = _number(form, "stock", "库存", required=False)
    assert price is not None
    if not 1 <= price <= service.MAX_PRICE or (stock is not None and stock > service.MAX_STOCK):
        raise BadRequest("价格或库存超出范围")

    def add(conn: Connection) -> str:
        item = service.add_item(conn, name, price, stock, CONSOLE_USER, int(console.now(conn).timestamp()))
        return f"已上架「{item.name}」。"
    try:
        return redirect_with(request, "/shop", await console.write(add))
    except ShopError as exc:
        return redirect_with(request, "/shop", str(exc), error=True)


async def take_off(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await read_form(request)
    name = form_text(form, "name")
    ok = await console.write(lambda conn: service.take_off(conn, name))
    return redirect_with(request, "/shop", f"已下架「{name}」。" if ok else f"没有在售的「{name}」。", error=not ok)


async def fulfil(request: web.Request) -> web.Response:
    """Hand over one redemption (the follow-up list's 已跟进 does the same for a member's all)."""
    console = request.app[CONSOLE]
    form = await read_form(request)
    rid = _number(form, "id", "兑换编号")

    def run(conn: Connection) -> bool:
        return service.fulfil_one(conn, rid or 0, int(console.now(conn).timestamp()), CONSOLE_USER)
    ok = await console.write(run)
    notice = f"第 {rid} 号兑换已标记为已发放。" if ok else f"第 {rid} 号兑换不是待发放状态。"
    return redirect_with(request, "/shop", notice, error=not ok)


async def refund(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await read_form(request)
    rid = _number(form, "id", "兑换编号")

    def run(conn: Connection) -> str:
        batch = Batch(conn, console.settings, silent=True)
        try:
            done = service.refund(batch, console.deps.service(Ledger), rid or 0, ts=console.now(conn), by=CONSOLE_USER)
            batch.flush()
        finally:
            batch.session.close()
        return f"已退回第 {done.redemption_id} 号兑换「{done.item}」，{done.price} 分已还给成员。"
    try:
        return redirect_with(request, "/shop", await console.write(run))
    except ShopError as exc:
        return redirect_with(request, "/shop", str(exc), error=True)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/shop", shop_page)
    router.add_post("/shop/items", add_item)
    router.add_post("/shop/off", take_off)
    router.add_post("/shop/fulfil", fulfil)
    router.add_post("/shop/refund", refund)


def _redemptions(conn: Connection, view: MemberView) -> dict[str, Any]:
    return {"redemptions": service.redemptions(conn, member=view.member, limit=20), "status": STATUS}


NAV = (NavEntry("积分商城", "/shop", "shop", 40),)
MEMBER = (MemberSection("shop/member_redemptions.html", 30, _redemptions),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV, member=MEMBER)
