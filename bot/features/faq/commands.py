"""/faq (问答) for managers: add, list, delete, and the backtest of what would have been answered."""

from __future__ import annotations

from datetime import datetime

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.options import Options, positive_int, shown
from bot.features.faq import service
from bot.features.tags.api import Tagging
from tagging.faq import COOLDOWN, FaqSyntaxError, parse_faq
from tagging.guard import too_broad

FAQ_USAGE = "/faq add 关键词[,关键词…] 回答 · /faq list · /faq del 编号 · /faq preview（问答 添加|列表|删除|回测）"
_SUBS = {"add": "add", "添加": "add", "加": "add", "list": "list", "列表": "list", "del": "del", "删除": "del",
         "preview": "preview", "回测": "preview", "预览": "preview"}
SHOWN = 10  # backtest lines in chat; the console shows them all


def _after_sub(text: str, sub: str) -> str:
    """The arguments exactly as typed after the sub-command (line breaks kept for the answer)."""
    at = text.find(sub)
    return text[at + len(sub):].strip() if at >= 0 else ""


def faq(ctx: Ctx, opts: Options) -> str:
    conn = ctx.batch.conn
    at = int(ctx.msg.ts.timestamp())
    word = opts.positional[0] if opts.positional else "list"
    sub = _SUBS.get(word.lower())
    if sub is None:
        raise UsageError(f"不认识「{shown(word)}」。")
    if sub == "list":
        found = service.entries(conn)
        if not found:
            return "还没有问答。添加：/faq add 几点开课,上课时间 每晚 8 点开课"
        return "问答（成员提问含关键词时自动回答，同一个群 10 分钟内只答一次）：\n" + "\n".join(
            f"{e.id}. {'、'.join(e.keywords)} → {e.answer[:60]}" for e in found)
    if sub == "del":
        if len(opts.positional) != 2:
            raise UsageError("请写出要删除的问答编号，例如：/faq del 2")
        n = positive_int(opts.positional[1], "问答编号")
        if not service.remove(conn, n):
            raise UsageError(f"没有编号为 {n} 的问答。发 /faq list 看看。", show_usage=False)
        return f"已删除问答 {n}。"
    if sub == "preview":
        staff = ctx.deps.settings.admin_ids | ctx.batch.bot_ids
        hits = service.preview(conn, ctx.deps.service(Tagging).tokenizer, at, staff)
        if not hits:
            return f"最近 {service.BACKTEST_DAYS} 天没有会被问答自动回答的提问。"
        tz = ctx.deps.settings.tz
        lines = [f"{datetime.fromtimestamp(h.at, tz):%m-%d %H:%M} {h.room_name} {h.member_name}："
                 f"「{h.text}」→ 问答 {h.entry}" for h in hits[:SHOWN]]
        more = f"\n……另有 {len(hits) - SHOWN} 条，见控制台的问答页。" if len(hits) > SHOWN else ""
        return f"最近 {service.BACKTEST_DAYS} 天会自动回答 {len(hits)} 次：\n" + "\n".join(lines) + more
    try:
        keywords, answer = parse_faq(_after_sub(ctx.msg.text, word))
    except FaqSyntaxError as exc:
        raise UsageError(str(exc), show_usage=False) from None
    reached, total = service.reach(conn, keywords, ctx.deps.service(Tagging).tokenizer, at)
    if too_broad(reached, total):
        raise UsageError(f"关键词「{'、'.join(keywords)}」太宽了：最近 {service.BACKTEST_DAYS} 天 {total} 条消息里有 "
                         f"{reached} 条含有它，几乎每个提问都会被回答。请换更具体的词，例如「几点开课」。",
                         show_usage=False)
    n = service.add(conn, keywords, answer, ctx.msg.sender, at)
    minutes = int(COOLDOWN.total_seconds() // 60)
    return (f"已添加问答 {n}：成员提问含「{'、'.join(keywords)}」时回答"
            f"（同一个群 {minutes} 分钟内只答一次）：\n{answer}")


COMMANDS = [
    Command("faq", ("问答",), FAQ_USAGE, "常见问题自动回答：添加、列表、删除、回测", faq, admin=True),
]
