"""The feature that runs chat commands: permission check, savepoint, usage and error replies."""

from __future__ import annotations

import logging
from typing import Any

from bot.commands.registry import Ctx, Refused, Registry, UsageError, may_run
from bot.events import Message
from bot.pipeline import Batch, Feature

log = logging.getLogger(__name__)

REFUSAL = "抱歉，这个命令只有管理员可以用。发送「帮助」看看你能用的命令。"
OPERATORS_ONLY = "抱歉，这个命令只有运营可以用。发送「帮助」看看你能用的命令。"
FAILURE = "抱歉，处理这条命令时出错了，已记录下来，请稍后再试。"


class CommandFeature(Feature):
    def __init__(self, registry: Registry, deps: Any) -> None:
        self.registry = registry
        self.deps = deps

    def handle(self, batch: Batch, msg: Message) -> bool:
        inv = self.registry.parse(msg)
        if inv is None:
            return False
        batch.count(msg.sender, msg.room, batch.day(msg.ts), "commands")
        batch.flush()
        is_admin = self.deps.is_admin(msg.sender)
        is_operator = self.deps.is_operator(batch.conn, msg.sender)
        ctx = Ctx(batch, msg, self.deps, is_admin, is_operator)
        cmd = inv.command
        if not may_run(cmd, is_admin, is_operator):
            ctx.reply(REFUSAL if cmd.admin else OPERATORS_ONLY)
            return True
        savepoint = batch.conn.begin_nested()
        try:
            text = cmd.handler(ctx, inv.args)
            batch.session.flush()
        except UsageError as exc:
            savepoint.rollback()
            batch.session.expunge_all()
            ctx.reply(f"{exc}\n用法：{cmd.usage}" if exc.show_usage else str(exc))
            return True
        except Refused as exc:
            savepoint.rollback()
            batch.session.expunge_all()
            ctx.reply(str(exc) or REFUSAL)
            return True
        except Exception:
            log.exception("command %s failed on message %s", cmd.name, msg.id)
            savepoint.rollback()
            batch.session.expunge_all()
            ctx.reply(FAILURE)
            return True
        savepoint.commit()
        if text:
            ctx.reply(text)
        return True
