"""/audit [N] (操作记录): the latest manager and operator actions, for admins."""

from __future__ import annotations

from bot.core import audit
from bot.core.commands import Command, Ctx
from bot.core.directory import member_names, room_names
from bot.core.errors import UsageError
from bot.core.options import Options, int_between
from bot.features.audit.texts import line

DEFAULT_N = 10
MAX_N = 50


def audit_(ctx: Ctx, opts: Options) -> str:
    words = opts.positional
    if len(words) > 1:
        raise UsageError("只能写一个条数，例如 /audit 20")
    n = int_between(words[0], "条数", 1, MAX_N) if words else DEFAULT_N
    conn = ctx.batch.conn
    rows = audit.entries(conn, limit=n)
    if not rows:
        return "还没有操作记录。"
    names = member_names(conn, [r.actor for r in rows])
    rooms = room_names(conn, [r.room for r in rows if r.room])
    tz = ctx.deps.settings.tz
    return "\n".join([f"最近 {len(rows)} 条操作记录（新的在前，全部见控制台「操作记录」）：",
                      *(line(r, names, rooms, tz) for r in rows)])


COMMANDS = [
    Command("audit", ("操作记录",), f"/audit [条数]（操作记录 20，最多 {MAX_N}）",
            "看管理员和运营最近做了什么", audit_, admin=True),
]
