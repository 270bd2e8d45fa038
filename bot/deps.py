"""The services a command, page or job may use: one typed object, built once at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.settings import Settings
from bot.features.checkins.service import Checkins
from bot.features.followup.models import RoomOperator
from bot.features.people.models import RoomAdmin
from bot.features.points.service import Ledger
from bot.features.segments.service import Playbook
from bot.features.tags.service import Tagging
from tiers.friends import FriendSettings


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    ledger: Ledger
    checkins: Checkins
    tagging: Tagging
    playbook: Playbook = field(default_factory=Playbook)
    friends: FriendSettings = field(default_factory=FriendSettings)  # the private account's rules
    # What features add under a room's welcome (Feature.welcome), in the registry's order.
    welcome_parts: tuple[Callable[[Connection, str], str | None], ...] = ()

    def is_admin(self, member: str) -> bool:
        return member in self.settings.admin_ids

    def is_room_admin(self, conn: Connection, member: str, room: str | None) -> bool:
        """A per-room admin (`/admin @成员`) of `room`: a manager there."""
        return bool(room) and conn.execute(select(col(RoomAdmin.member)).where(
            col(RoomAdmin.room) == room, col(RoomAdmin.member) == member)).first() is not None

    def staff(self, conn: Connection) -> frozenset[str]:
        """The admins and every room's operators: the people who run the community, never on
        its leaderboards."""
        return self.settings.admin_ids | frozenset(conn.execute(select(col(RoomOperator.member))).scalars())

    def is_operator(self, conn: Connection, member: str) -> bool:
        """An operator of some room; a room admin counts as one (their list, 控制台)."""
        return any(conn.execute(select(col(t.member)).where(col(t.member) == member).limit(1)).first()
                   for t in (RoomOperator, RoomAdmin))
