"""积分商城 and 兑换 for members; /shop add, off and refund for managers."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.options import Options, int_between, positive_int, shown
from bot.features.points.api import Ledger
from bot.features.shop import service
from bot.features.shop.service import ShopError

SHOP_USAGE = "积分商城（/shop）"
SHOP_ADMIN_USAGE = "/shop add 名称 价格 [库存] · /shop off 名称 · /shop refund 兑换编号"


def _listing(ctx: Ctx) -> str:
    conn = ctx.batch.conn
    goods = service.items(conn)
    if not goods:
        return "积分商城还没有商品。" + ("添加：/shop add 名称 价格 [库存]" if ctx.is_admin else "敬请期待～")
    points = ctx.deps.service(Ledger).points_of(conn, [ctx.msg.sender]).get(ctx.msg.sender, 0)
    lines = ["🎁 积分商城"]
    for item in goods:
        stock = "" if item.stock is None else ("（已兑完）" if item.stock <= 0 else f"（剩 {item.stock} 件）")
        lines.append(f"· {item.name}：{item.price} 分{stock}")
    lines.append(f"你有 {points} 分。兑换：兑换 名称")
    return "\n".join(lines)


def shop_(ctx: Ctx, opts: Options) -> str | None:
    words = opts.positional
    if not words:
        return _listing(ctx)
    action = words[0].lower()
    if action not in ("add", "添加", "off", "下架", "refund", "退回", "list", "列表"):
        raise UsageError(f"看不懂「{shown(words[0])}」。")
    if action in ("list", "列表"):
        return _listing(ctx)
    ctx.as_manager()
    conn = ctx.batch.conn
    try:
        if action in ("add", "添加"):
            if len(words) not in (3, 4):
                raise UsageError("请写出名称和价格，例如 /shop add 专属资料包 200 10")
            price = int_between(words[2], "价格", 1, service.MAX_PRICE)
            stock = int_between(words[3], "库存", 0, service.MAX_STOCK) if len(words) == 4 else None
            item = service.add_item(conn, words[1], price, stock, ctx.msg.sender, int(ctx.msg.ts.timestamp()))
            left = "不限库存" if item.stock is None else f"库存 {item.stock}"
            return f"已上架「{item.name}」：{item.price} 分，{left}。"
        if action in ("off", "下架"):
            if len(words) != 2:
                raise UsageError("请写出商品名称，例如 /shop off 专属资料包")
            if not service.take_off(conn, words[1]):
                raise UsageError(f"商城里没有在售的「{shown(words[1])}」。", show_usage=False)
            return f"已下架「{words[1]}」。"
        if len(words) != 2:
            raise UsageError("请写出兑换编号，例如 /shop refund 3")
        rid = positive_int(words[1].lstrip("#＃"), "兑换编号")
        done = service.refund(ctx.batch, ctx.deps.service(Ledger), rid, ts=ctx.msg.ts, by=ctx.msg.sender)
    except ShopError as exc:
        raise UsageError(str(exc), show_usage=False) from None
    return (f"已退回第 {done.redemption_id} 号兑换「{done.item}」，{done.price} 分已还给 TA"
            f"（{done.points.before} → {done.points.after} 分）。")


def redeem_(ctx: Ctx, opts: Options) -> str:
    name = opts.rest_text()
    if not name:  # 「我想兑换」: what can be redeemed, rather than a usage line
        return "想兑换什么呢？\n" + _listing(ctx)
    try:
        done = service.redeem(ctx.batch, ctx.deps.service(Ledger), ctx.msg.sender, name, ts=ctx.msg.ts,
                              room=ctx.msg.room, ref=ctx.msg.id)
    except ShopError as exc:
        raise UsageError(str(exc), show_usage=False) from None
    return (f"兑换成功！「{done.item}」花了 {done.price} 分，还剩 {done.points.after} 分。"
            f"运营会尽快发给你（兑换编号 {done.redemption_id}）。")


COMMANDS = [
    Command("shop", ("积分商城", "商城"), SHOP_USAGE, "看积分能兑换什么", shop_,
            admin_usage=SHOP_ADMIN_USAGE, admin_summary="管理员上架、下架、退回兑换"),
    # 「我想兑换书签」「我要兑换一个书签」; a name stops at punctuation and 的 (「我想兑换的东西」 is chat).
    Command("redeem", ("兑换",), "兑换 名称（/redeem 名称）", "用积分兑换商城里的商品", redeem_,
            forms=(r"我?(?:想|要|想要)兑换(?:一个|一份|一张|个)?\s*(?P<args>[^\s，,。！!？?的了吗呢]{1,12})?",
                   r"(?:积分|我的积分)(?:能|可以)兑换(?:什么|啥)")),
]
