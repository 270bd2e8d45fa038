"""The people feature's tables: login links, per-room admins, the shared login throttle."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class LoginLink(SQLModel, table=True):
    """A one-time console login link sent to a member by DM. Only the token's SHA-256 is kept,
    so the store alone logs nobody in; `used_at` makes it single use."""

    token_hash: str = Field(primary_key=True, max_length=64)
    member: str = Field(max_length=200, index=True)
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger)
    used_at: int | None = Field(default=None, sa_type=BigInteger)
    next_path: str = Field(default="/", max_length=2000)  # where the link lands


class RoomAdmin(SQLModel, table=True):
    """A per-room admin (`/admin @成员` in the room, by a global admin)."""

    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    by: str = Field(max_length=200)
    at: int = Field(sa_type=BigInteger)


class LoginThrottle(SQLModel, table=True):
    """Failed console logins per client (and `*` for all clients together), kept in the store
    so every process sharing it sees the same lockout. `counted` is how many failures the
    current run of failures has seen (its one audit row carries the count)."""

    client: str = Field(primary_key=True, max_length=100)
    failures: int = 0
    lockouts: int = 0
    until: int = Field(default=0, sa_type=BigInteger)
    last: int = Field(default=0, sa_type=BigInteger)
    # The audit row of the current run of failures, how many it counts, and the end of the
    # lockout it reached (0: none yet): a failure after that starts a new row.
    audit_id: int = Field(default=0, sa_type=BigInteger)
    counted: int = 0
    run_until: int = Field(default=0, sa_type=BigInteger)
