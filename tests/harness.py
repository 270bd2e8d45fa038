"""A test harness: the real pipeline on a real SQLite file, fed canonical events."""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.adapters.base import Outgoing
from bot.core.events import parse_event
from bot.core.settings import Settings
from bot.store.db import open_engine
from bot.wiring import build

ROOM = "r1@chatroom"
ADMIN = "wxid_admin"
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # 18:00 in Asia/Shanghai
# Tests play events at times of their choosing, some past today's wall clock: the harness
# ingests as if the wall clock were far ahead (the limit itself is tested in test_events).
NOT_AFTER = datetime(2099, 1, 1, tzinfo=UTC)


_TEMPLATE: list[Path] = []


def _empty_store(path: Path) -> None:
    """Put an empty store at the newest schema at `path`: a copy of one migrated once per test
    process. Migrating a new file costs more than most tests (creating a store through the
    migrations is tested itself: tests/test_migrations.py)."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="qunguan-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        open_engine(f"sqlite:///{folder / 'q.db'}").dispose()  # its last connection folds the WAL in
        _TEMPLATE.append(folder / "q.db")
    shutil.copyfile(_TEMPLATE[0], path)


class Bot:
    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.path = tmp_path / "q.db"
        settings.setdefault("admins", ADMIN)
        settings.setdefault("database_url", f"sqlite:///{self.path}")  # or PostgreSQL, given
        url = str(settings["database_url"])
        if url.startswith("sqlite:///") and ":memory:" not in url:
            file = Path(make_url(url).database or "")
            if file.name and not file.exists():
                _empty_store(file)
        self.settings = Settings(**settings)
        self.pipeline, self.deps = build(self.settings)
        self.engine = self.pipeline.engine
        self._ids = itertools.count(1)
        self.clock = T0

    def next_id(self, prefix: str = "m") -> str:
        return f"{prefix}{next(self._ids)}"

    def feed(self, *raw: dict, silent: bool = False) -> list[Outgoing]:
        return self.pipeline.process([parse_event(r, not_after=NOT_AFTER) for r in raw], silent=silent)

    def at(self, ts: datetime | str) -> None:
        self.clock = datetime.fromisoformat(ts) if isinstance(ts, str) else ts

    def tick(self, **delta: float) -> None:
        self.clock += timedelta(**delta)

    def say(self, sender: str, text: str, *, room: str | None = ROOM, name: str | None = None,
            mentions: list[str] | None = None, ts: datetime | str | None = None,
            id: str | None = None) -> list[Outgoing]:
        if ts is not None:
            self.at(ts)
        ev = {"type": "message", "id": id or self.next_id(), "ts": self.clock.isoformat(),
              "sender": sender, "sender_name": name or sender, "text": text,
              "mentions": mentions or []}
        if room:
            ev |= {"room": room, "room_name": "读书群" if room == ROOM else room}
        return self.feed(ev)

    def join(self, member: str, *, room: str = ROOM, name: str | None = None,
             ts: datetime | str | None = None) -> list[Outgoing]:
        if ts is not None:
            self.at(ts)
        return self.feed({"type": "join", "id": self.next_id("j"), "ts": self.clock.isoformat(),
                          "room": room, "member": member, "member_name": name or member})

    def leave(self, member: str, *, room: str = ROOM, ts: datetime | str | None = None):
        if ts is not None:
            self.at(ts)
        return self.feed({"type": "leave", "id": self.next_id("l"), "ts": self.clock.isoformat(),
                          "room": room, "member": member})

    def visit(self, member: str, *, ts: datetime | str | None = None) -> list[Outgoing]:
        if ts is not None:
            self.at(ts)
        return self.feed({"type": "visit", "id": self.next_id("v"), "ts": self.clock.isoformat(),
                          "member": member, "source": "h5"})

    def roster(self, members: list[str | dict], *, room: str = ROOM, ts: datetime | str | None = None,
               id: str | None = None) -> list[Outgoing]:
        """A roster of `room` now: member ids (named after themselves) or member objects."""
        if ts is not None:
            self.at(ts)
        listed = [{"id": m, "name": m} if isinstance(m, str) else m for m in members]
        return self.feed({"type": "roster", "id": id or self.next_id("ro"), "ts": self.clock.isoformat(),
                          "room": room, "room_name": "读书群" if room == ROOM else room, "members": listed})

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(map(_plain, r)) for r in conn.execute(text(sql), params)]

    def time_passes(self, ts: datetime | str) -> list[Outgoing]:
        """Time reaches `ts` with no event (as the live bot's clock does): due welcomes and summaries."""
        self.at(ts)
        return self.pipeline.tick(self.clock)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return _plain(conn.execute(text(sql), params).scalar())


def _plain(value: Any) -> Any:
    """A value as SQLite's driver gives it, whichever store answered: days as ISO text,
    sums as ints (PostgreSQL gives dates and decimals)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def texts(replies: list[Outgoing]) -> str:
    return "\n".join(r.text for r in replies)
