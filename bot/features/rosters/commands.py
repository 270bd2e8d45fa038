"""欢迎语 for managers: the room's welcome on or off, its text, a preview."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.names import display
from bot.core.options import Options, shown
from bot.features.rosters.welcome import (
    DEFAULT_TEXT,
    WelcomeSetting,
    render,
    save_setting,
    setting,
    task_names,
)

WELCOME_USAGE = ("/welcome · /welcome on|off · /welcome set 欢迎 {name}，本群打卡：{tasks} · /welcome reset"
                 "（欢迎语 开|关|设置 文本|默认）")
_SUBS = {"on": "on", "开": "on", "开启": "on", "off": "off", "关": "off", "关闭": "off",
         "set": "set", "设置": "set", "reset": "reset", "默认": "reset", "恢复默认": "reset"}


def _show(ctx: Ctx, s: WelcomeSetting, head: str) -> str:
    preview = render(s.template, [_name(ctx)], task_names(ctx.batch.conn, s.room))
    state = "开启" if s.enabled else "关闭"
    which = "默认" if s.text is None else "自定义"
    return f"{head}本群欢迎语：{state}（{which}文本），新人入群时发送，例如：\n{preview}"


def _name(ctx: Ctx) -> str:
    return display(ctx.msg.sender_name, ctx.msg.sender) if ctx.msg.sender_name else ctx.msg.sender


def welcome(ctx: Ctx, opts: Options) -> str:
    room = ctx.msg.room
    if not room:
        raise UsageError("请在群里设置，欢迎语是按群设置的。")
    conn = ctx.batch.conn
    if not opts.positional:
        return _show(ctx, setting(conn, room), "")
    sub = _SUBS.get(opts.positional[0].lower())
    if sub is None:
        raise UsageError(f"不认识「{shown(opts.positional[0])}」，可以用 on、off、set 或 reset。")
    at = int(ctx.msg.ts.timestamp())
    try:
        if sub == "set":
            text = _text_after_word(ctx.msg.text)
            if not text:
                raise UsageError(f"请写出欢迎语，可用 {{name}}（新人昵称）和 {{tasks}}（打卡任务），例如：\n"
                                 f"/welcome set {DEFAULT_TEXT}", show_usage=False)
            s = save_setting(conn, room, by=ctx.msg.sender, at=at, text=text, enabled=True)
            return _show(ctx, s, "已更新。")
        if len(opts.positional) > 1:
            raise UsageError(f"{opts.positional[0]} 后面不需要「{shown(opts.positional[1])}」。")
        if sub == "reset":
            return _show(ctx, save_setting(conn, room, by=ctx.msg.sender, at=at, reset=True), "已恢复默认。")
        s = save_setting(conn, room, by=ctx.msg.sender, at=at, enabled=sub == "on")
    except ValueError as exc:
        raise UsageError(str(exc), show_usage=False) from None
    return _show(ctx, s, "已开启。" if s.enabled else "已关闭，新人入群时不再发欢迎语。\n")


def _text_after_word(text: str) -> str:
    """The welcome text exactly as typed after `set`/设置 (line breaks and braces kept)."""
    for word in ("set", "设置", "SET", "Set"):
        at = text.find(word)
        if at >= 0:
            return text[at + len(word):].strip()
    return ""


COMMANDS = [
    Command("welcome", ("欢迎语",), WELCOME_USAGE, "设置新人入群的欢迎语（开关、文本）", welcome, admin=True),
]
