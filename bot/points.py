"""The points ledger: every change is a row, the member's cached total moves with it, and
reaching a new level is announced where it happened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from bot.adapters.base import Outgoing
from bot.pipeline import Batch
from bot.store.db import bulk
from bot.store.models import NO_ROOM, Member, PointsEntry
from tiers.levels import DEFAULT_LEVELS, Level, levels_crossed


@dataclass(frozen=True)
class Award:
    member: str
    delta: int
    kind: str  # checkin | streak_bonus | speaking | manual | makeup
    ts: int
    day: date
    room: str | None = None
    reason: str | None = None
    ref: str | None = None
    by: str | None = None


_INSERT = PointsEntry.__table__.insert()
_ADD_POINTS = (update(Member.__table__).where(Member.__table__.c.id == bindparam("mid"))
               .values(points=Member.__table__.c.points + bindparam("d")))


class Ledger:
    def __init__(self, levels: Sequence[Level] = DEFAULT_LEVELS) -> None:
        self.levels = tuple(levels)

    def points_of(self, conn: Connection, members: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(members), 900):
            part = list(members[i : i + 900])
            out.update(conn.execute(select(Member.id, Member.points).where(Member.id.in_(part))).all())
        return out

    def award(self, batch: Batch, awards: Sequence[Award],
              later: list[Outgoing] | None = None) -> dict[str, tuple[int, int]]:
        """Write ledger rows and move totals; returns member → (points before, after).

        Members must already be stored (the batch flushes them first). A level reached is
        announced in the room of the member's last award there (or 1:1 if none); pass
        `later` to collect the announcements and send them after your own reply."""
        awards = [a for a in awards if a.delta]
        if not awards:
            return {}
        conn = batch.conn
        members = sorted({a.member for a in awards})
        before = self.points_of(conn, members)
        bulk(conn, _INSERT, [
            {"member": a.member, "ts": a.ts, "day": a.day, "delta": a.delta, "kind": a.kind,
             "reason": a.reason, "room": a.room or NO_ROOM, "ref": a.ref, "by": a.by}
            for a in awards
        ])
        delta: dict[str, int] = {}
        where: dict[str, str | None] = {}
        for a in awards:
            delta[a.member] = delta.get(a.member, 0) + a.delta
            where[a.member] = a.room
        bulk(conn, _ADD_POINTS, [{"mid": m, "d": d} for m, d in delta.items()])
        result = {m: (before.get(m, 0), before.get(m, 0) + delta[m]) for m in members}
        for m, (old, new) in result.items():
            crossed = levels_crossed(old, new, self.levels)
            if crossed:
                top = crossed[-1]
                text = f"🎉 恭喜升到 Lv{top.n}「{top.name}」！继续加油～"
                room = where[m]
                out = (Outgoing(text=text, room=room, to=m, mentions=(m,)) if room
                       else Outgoing(text=text, to=m))
                if later is None:
                    batch.send(out)
                else:
                    later.append(out)
        return result
