"""Finding rooms and members by name or id, for the console and for commands."""

from __future__ import annotations

from sqlalchemy import Engine, or_, select

from bot.store.models import Member, Room


class Lookup:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _one(self, model, value: str) -> str:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(model.id).where(or_(model.id == value, model.name == value)).limit(2)
            ).scalars().all()
        return rows[0] if len(rows) == 1 else value

    def member_id(self, name: str) -> str:
        return self._one(Member, name)

    def room_id(self, name: str) -> str:
        return self._one(Room, name)

    def _name(self, model, ident: str) -> str:
        with self.engine.connect() as conn:
            name = conn.execute(select(model.name).where(model.id == ident)).scalar()
        return name or ident

    def member_name(self, ident: str) -> str:
        return self._name(Member, ident)

    def room_name(self, ident: str) -> str:
        return self._name(Room, ident)
