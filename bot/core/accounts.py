"""Several bot accounts on one store: which account reaches a member, and which account each
outgoing message goes through.

Each `qunguan run` is one WeChat account (its id is the logged-in bot's id). Events carry the
account that received them; the pipeline notes in `AccountReach` which account reaches which
member where (a group both are in, or a 1:1 chat) and when the member last spoke there.

`route(conn, out)` is THE place that decides "the account a row goes through"; `enqueue` stores
its answer in `Outbox.account`, and only the process logged in as that account claims the row
(`bot.core.outbox`). The rules:

- a reply goes through the account that received the message (`Outgoing.account`, set by
  `Batch.reply`);
- a DM (a follow-up list, an alert, a 1:1 note) goes through an account that is the member's
  friend (a 1:1 chat was seen) or shares a group they are still in with them, the one they
  spoke to or near last;
- a message into a room goes through the account that heard from that room last;
- with no account known (a replay, the console, a single process before its first login) the
  row has no account and any process may send it.

Features that pace or cap per account (outreach's daily cap, paced friend accepts) read
`Outbox.account`.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.adapters.base import Outgoing
from bot.store.db import upsert
from bot.store.models import NO_ROOM, AccountReach, BotAccount, Membership, table_of


def register(conn: Connection, account: str, label: str | None, at: int) -> None:
    """Note that this process runs as `account` (at its login)."""
    upsert(conn, table_of(BotAccount), [{"id": account, "label": label, "seen_at": at}], ["id"],
           replace=["label", "seen_at"])


HEARTBEAT_SECONDS = 30.0  # how often a run notes in the store that it is alive (the health check reads it)


def heartbeat(conn: Connection, account: str, *, connected: bool, changed: bool, at: int, event_at: int,
              leading: bool) -> None:
    """Note how this account's `run` is (read by the health check): alive at `at`, logged in
    or not (`changed`: since the previous note), when its latest event came, whether it leads."""
    values: dict[str, object] = {"connected": connected, "alive_at": at, "leading": leading}
    if event_at:
        values["event_at"] = event_at
    if changed:
        values["state_at"] = at
    conn.execute(update(BotAccount).where(col(BotAccount.id) == account).values(**values))


def bot_accounts(conn: Connection) -> frozenset[str]:
    """Every account the bot runs as on this store: none of them is a member."""
    return frozenset(conn.execute(select(col(BotAccount.id))).scalars())


# The account a reply goes through, for every reply: built once (building a statement costs
# more than running it).
_BY_ROOM = (select(col(AccountReach.account)).where(col(AccountReach.room) == bindparam("room"))
            .group_by(col(AccountReach.account))
            .order_by(func.max(col(AccountReach.last_at)).desc(), col(AccountReach.account))
            .limit(1))
_BY_MEMBER = (select(col(AccountReach.account))
              .outerjoin(Membership, (col(Membership.room) == col(AccountReach.room))
                         & (col(Membership.member) == col(AccountReach.member)))
              .where(col(AccountReach.member) == bindparam("member"),
                     or_(col(AccountReach.room) == NO_ROOM, col(Membership.active).is_(True)))
              .order_by(col(AccountReach.last_at).desc(), col(AccountReach.account))
              .limit(1))


def route(conn: Connection, out: Outgoing) -> str | None:
    """The account `out` goes through; None when any process may send it."""
    if out.account:
        return out.account
    if out.room:
        return conn.execute(_BY_ROOM, {"room": out.room}).scalar()
    if not out.to:
        return None
    return conn.execute(_BY_MEMBER, {"member": out.to}).scalar()


__all__ = ["HEARTBEAT_SECONDS", "bot_accounts", "heartbeat", "register", "route"]
