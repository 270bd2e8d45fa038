"""What a command, page or job is handed: the settings, the store and the services the features
provide (`Feature.services`), built once at start-up from the registry; the core names none."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from bot.core.config import Config
from bot.core.settings import Settings

T = TypeVar("T")


class Need(Protocol):
    """How a service being built asks for another one it is made from."""

    def __call__(self, kind: type[T], /) -> T: ...


@dataclass(frozen=True)
class Provide(Generic[T]):
    """A service a feature provides to everyone: `build` makes it once at start-up from the
    config and the other services it needs (a ValueError is a mistake in the config)."""

    kind: type[T]
    build: Callable[[Config, Need], T]


def build_services(provided: Iterable[Provide[Any]], config: Config) -> dict[type, object]:
    """Each provided service built once, those it needs first."""
    by_kind: dict[type, Provide[Any]] = {}
    for p in provided:
        if p.kind in by_kind:
            raise LookupError(f"two features provide {p.kind.__name__}")
        by_kind[p.kind] = p
    built: dict[type, object] = {}
    making: list[type] = []

    def need(kind: type[T]) -> T:
        if kind not in built:
            if kind not in by_kind:
                raise LookupError(f"no feature provides {kind.__name__}")
            if kind in making:
                raise LookupError(f"services made from each other: {' → '.join(k.__name__ for k in [*making, kind])}")
            making.append(kind)
            built[kind] = by_kind[kind].build(config, need)
            making.pop()
        return cast(T, built[kind])

    for kind in by_kind:
        need(kind)
    return built


class Roles:
    """Who runs the community besides the admins of the configuration: per-room admins and
    operators, kept by the feature that provides this (a plain base class rather than an ABC:
    `deps.service(Roles)` needs a concrete class)."""

    def is_room_admin(self, conn: Connection, member: str, room: str) -> bool:
        raise NotImplementedError

    def is_operator(self, conn: Connection, member: str) -> bool:
        """An operator of some room; a room admin counts as one."""
        raise NotImplementedError

    def operators(self, conn: Connection) -> frozenset[str]:
        """Every room's operators."""
        raise NotImplementedError


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    services: Mapping[type, object] = field(default_factory=dict)  # kind → the one instance
    # What features add under a room's welcome (Feature.welcome), in the registry's order.
    welcome_parts: tuple[Callable[[Connection, str], str | None], ...] = ()

    def service(self, kind: type[T]) -> T:
        """The service of this kind a feature provides."""
        found = self.services.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"no feature provides {kind.__name__}")
        return found

    def is_admin(self, member: str) -> bool:
        return member in self.settings.admin_ids

    def is_room_admin(self, conn: Connection, member: str, room: str | None) -> bool:
        """A per-room admin (`/admin @成员`) of `room`: a manager there."""
        return bool(room) and self.service(Roles).is_room_admin(conn, member, room or "")

    def staff(self, conn: Connection) -> frozenset[str]:
        """The admins and every room's operators: the people who run the community, never on
        its leaderboards."""
        return self.settings.admin_ids | self.service(Roles).operators(conn)

    def is_operator(self, conn: Connection, member: str) -> bool:
        """An operator of some room; a room admin counts as one (their list, 控制台)."""
        return self.service(Roles).is_operator(conn, member)
