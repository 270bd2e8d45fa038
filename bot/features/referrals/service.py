"""Referrals in the store: a join's inviter, each member's referrals still in the room and
how many of them spoke, and the points for each who stayed a week and spoke."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Column, Exists, Select, and_, bindparam, case, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from bot.features.referrals.models import Referral
from bot.store.db import upsert
from bot.store.models import DailyActivity, Membership, table_of

STAY_DAYS = 7  # a referral pays once the member has stayed this long and spoken


def record_referral(conn: Connection, room: str, member: str, inviter: str, ts: int) -> None:
    """The first inviter of a member into a room is the one who referred them."""
    if inviter == member:
        return
    upsert(conn, table_of(Referral), [{"room": room, "member": member, "inviter": inviter, "ts": ts}],
           ["room", "member"])


def referral_counts(conn: Connection) -> dict[str, int]:
    """Inviter → members ever brought in (any room), for the grade criteria."""
    r = table_of(Referral).c
    return dict(conn.execute(select(r.inviter, func.count(func.distinct(r.member))).group_by(r.inviter)).all())


@dataclass(frozen=True)
class Referrals:
    stayed: int  # brought in and still in the room
    spoke: int  # of them, said something there


def _spoke(r: ReadOnlyColumnCollection[str, Column[Any]], before: date | None = None) -> Exists:
    """The referral has said something in the room (before local day `before`, when given)."""
    d = table_of(DailyActivity).c
    q = select(d.member).where(d.member == r.member, d.room == r.room, (d.messages + d.checkins) > 0)
    return (q if before is None else q.where(d.day < before)).exists()


def referrals_of(conn: Connection, inviters: Sequence[str] | None = None, room: str | None = None
                 ) -> dict[str, Referrals]:
    """Inviter → their referrals still in the room (in `room` only, when given)."""
    q = _referrals_query(room is not None, inviters is not None)
    parts: list[dict[str, Any]] = [{"room": room}]
    if inviters is not None:
        ids = list(inviters)
        parts = [{"room": room, "ids": ids[i : i + 900]} for i in range(0, len(ids), 900)]
    out: dict[str, Referrals] = {}
    for params in parts:
        for inviter, stayed, spoke in conn.execute(q, params):
            out[inviter] = Referrals(int(stayed), int(spoke or 0))
    return out


@cache  # built once per shape: building it costs more than running it for one member (我的等级)
def _referrals_query(of_room: bool, of_inviters: bool) -> Select[Any]:
    r = table_of(Referral).c
    ms = table_of(Membership).c
    q = (select(r.inviter, func.count(), func.sum(case((_spoke(r), 1), else_=0)))
         .join(table_of(Membership), and_(ms.room == r.room, ms.member == r.member))
         .where(ms.active).group_by(r.inviter))
    if of_room:
        q = q.where(r.room == bindparam("room"))
    if of_inviters:
        q = q.where(r.inviter.in_(bindparam("ids", expanding=True)))
    return q


@dataclass(frozen=True)
class Due:
    room: str
    member: str
    inviter: str


def due_rewards(conn: Connection, day: date, midnight: int) -> list[Due]:
    """Referrals not paid yet that are due on local `day` (starting at epoch `midnight`): the
    member joined a week before the day began, was in the room when it began, and had spoken
    there on an earlier day. Judged as of the day's start, so the answer is the same whenever
    during the day it is asked (a process restarted mid-day, a batch ending anywhere)."""
    r = table_of(Referral).c
    ms = table_of(Membership).c
    entered = func.coalesce(ms.joined_at, ms.first_at)
    in_room = and_(entered < midnight, or_(ms.active, ms.left_at >= midnight))
    q = (select(r.room, r.member, r.inviter)
         .join(table_of(Membership), and_(ms.room == r.room, ms.member == r.member))
         .where(r.rewarded_at.is_(None), r.ts <= midnight - STAY_DAYS * 86400, in_room, _spoke(r, day))
         .order_by(r.ts, r.room, r.member))
    return [Due(*row) for row in conn.execute(q)]


def mark_rewarded(conn: Connection, due: Due, at: int) -> bool:
    """Claim a referral's reward; False when it was paid already (by another process too)."""
    r = table_of(Referral).c
    done = conn.execute(update(table_of(Referral)).where(
        r.room == due.room, r.member == due.member, r.rewarded_at.is_(None)).values(rewarded_at=at))
    return done.rowcount == 1


def invite_board(conn: Connection, room: str | None, excluded: frozenset[str]) -> list[tuple[str, Referrals]]:
    """Inviters by referrals still in the room (then by how many of them spoke)."""
    found = referrals_of(conn, room=room)
    ranked = [(m, r) for m, r in found.items() if m not in excluded and r.stayed]
    return sorted(ranked, key=lambda x: (-x[1].stayed, -x[1].spoke, x[0]))

