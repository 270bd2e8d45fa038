"""帮助 (/help): generated from the registry, showing only what this person may use."""

from __future__ import annotations

from bot.commands.registry import Command, Ctx


def help_(ctx: Ctx, args: list[str]) -> str:
    cmds = ctx.deps.registry.visible_to(ctx.is_admin)
    lines = ["你可以用这些命令："] + [f"· {c.help_line()}" for c in cmds if not c.admin]
    admin = [c for c in cmds if c.admin]
    if admin:
        lines.append("管理员命令：")
        lines += [f"· {c.help_line()}" for c in admin]
    return "\n".join(lines)


COMMANDS = [
    Command("help", ("帮助",), "帮助 或 /help", "查看可用的命令", help_),
]
