"""Unexpected errors of the running bot, told to the admins: one Chinese line per kind an hour.

Every error is logged with its traceback where it happens (`log.exception`); this handler only
notes the record. The app turns the notes into DMs in a transaction of its own, since the
record may come from inside a batch whose transaction is failing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

HOUR = 3600

# Where an error happened, in the words an admin reads.
_PLACES = {
    "bot.wiring": "处理消息",
    "bot.core.commands": "执行命令",
    "bot.core.outbox": "发送消息",
    "bot.core.scheduler": "定时任务",
    "bot.web.app": "网页控制台",
    "apscheduler": "定时任务",
}


def alert_line(logger: str, exc_type: str) -> str:
    place = next((p for name, p in _PLACES.items() if logger.startswith(name)), "运行")
    return f"群管{place}时出错（{exc_type}），详情已写入日志；同类错误一小时内只提醒一次。"


class AlertHandler(logging.Handler):
    """Notes ERROR records that carry an exception, at most one per kind (logger and exception
    type) an hour; `take()` hands over the lines to send."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(logging.ERROR)
        self.clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._pending: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info or record.exc_info[0] is None:
            return
        kind = (record.name, record.exc_info[0].__name__)
        now = self.clock()
        with self._guard:
            last = self._last.get(kind)
            if last is not None and now - last < HOUR:
                return
            self._last[kind] = now
            self._pending.append(alert_line(*kind))

    def take(self) -> list[str]:
        with self._guard:
            out, self._pending = self._pending, []
        return out
