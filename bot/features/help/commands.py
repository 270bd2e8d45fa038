"""帮助 (/help): generated from the registry, showing only what this person may use."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.options import Options


def help_(ctx: Ctx, opts: Options) -> str:
    cmds = ctx.registry.visible_to(ctx.is_admin, ctx.is_operator)
    lines = ["你可以用这些命令："]
    lines += [f"· {c.help_line(ctx.is_admin)}" for c in cmds if not c.admin and not c.operator]
    for title, group in (("运营命令：", [c for c in cmds if c.operator]),
                         ("管理员命令：", [c for c in cmds if c.admin])):
        if group:
            lines.append(title)
            lines += [f"· {c.help_line(ctx.is_admin)}" for c in group]
    return "\n".join(lines)


COMMANDS = [
    Command("help", ("帮助",), "帮助 或 /help", "查看可用的命令", help_),
]
