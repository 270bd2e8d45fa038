"""Orders in the store: recording purchases and refunds, referrals, and per-member totals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.events import Order
from bot.core.memory import Memo
from bot.features.segments.models import Purchase
from bot.store.db import as_date, plain_rows
from bot.store.models import NO_ROOM, table_of

FEN = Decimal(100)


def to_fen(amount: Decimal) -> int:
    return int(amount * FEN)


def yuan(fen: int) -> float:
    return fen / 100


def refusal(conn: Connection, order: Order) -> str | None:
    """Why a refund cannot be taken (unknown order, another member's, or more than is left
    of it); None for a purchase or a sound refund."""
    if order.refund_of is None:
        return None
    p = table_of(Purchase).c
    row = conn.execute(select(p.member, p.amount_fen, p.refund_of).where(p.id == order.refund_of)).first()
    if row is None:
        return f"退款 {order.id} 对应的订单 {order.refund_of} 不存在（请先发送原订单）"
    member, amount, refund_of = row
    if refund_of is not None:
        return f"退款 {order.id} 指向的 {order.refund_of} 本身是一笔退款"
    if member != order.member:
        return f"退款 {order.id} 的成员 {order.member} 和原订单 {order.refund_of} 的成员 {member} 不一致"
    refunded = conn.execute(select(func.coalesce(func.sum(p.amount_fen), 0)).where(
        p.refund_of == order.refund_of)).scalar() or 0
    left = amount + refunded
    if to_fen(-order.amount) > left:
        return (f"退款 {order.id} 退 {-order.amount} 元，超过订单 {order.refund_of} "
                f"剩余可退的 {yuan(left):.2f} 元")
    return None


def record(conn: Connection, order: Order, day: date) -> None:
    conn.execute(table_of(Purchase).insert().values(
        id=order.id, member=order.member, ts=int(order.ts.timestamp()), day=day,
        amount_fen=to_fen(order.amount), item=order.item, room=order.room or NO_ROOM,
        refund_of=order.refund_of))


@dataclass(slots=True)
class OrderStats:
    """One member's orders: every count and sum nets refunds out. Not frozen: the community's figures
    make one per member with orders (a frozen dataclass's __init__ costs four times as much); nothing
    changes one once made."""

    orders: int = 0  # orders not wholly refunded, ever
    first_order: date | None = None
    last_order: date | None = None
    window_orders: int = 0
    window_fen: int = 0  # amount in the window, refunds subtracted on their own day

    @property
    def window_amount(self) -> float:
        return yuan(self.window_fen)


def order_stats(conn: Connection, start: date, end: date, members: list[str] | None = None
                ) -> dict[str, OrderStats]:
    """Per member order figures up to `end`, with the window [start, end] (of `members` only,
    when given)."""
    p = table_of(Purchase).c
    q = select(p.id, p.member, p.day, p.amount_fen, p.refund_of)
    wanted = set(members) if members is not None else None
    if members is None:
        rows = list(plain_rows(conn.execute(q.where(p.day <= end))))
    else:  # by the member's index (a day condition would make SQLite scan the days instead);
        # a refund is its order's member's (`refusal`), so their rows hold their refunds too
        rows = [row for i in range(0, len(members), 900)
                for row in conn.execute(q.where(p.member.in_(members[i : i + 900]))) if as_date(row[2]) <= end]
    refunded: dict[str, int] = defaultdict(int)
    for _, _, _, amount, refund_of in rows:
        if refund_of is not None:
            refunded[refund_of] += amount
    acc: dict[str, list[Any]] = {}  # member → OrderStats' fields, in order
    days: Memo[object, date] = Memo(as_date)  # orders share few days
    for oid, member, raw_day, amount, refund_of in rows:
        if wanted is not None and member not in wanted:
            continue
        day = days[raw_day]
        a = acc.setdefault(member, [0, None, None, 0, 0])
        in_window = start <= day
        if in_window:
            a[4] += amount
        if refund_of is not None or amount + refunded.get(oid, 0) <= 0:
            continue
        a[0] += 1
        a[1] = day if a[1] is None or day < a[1] else a[1]
        a[2] = day if a[2] is None or day > a[2] else a[2]
        if in_window:
            a[3] += 1
    return {m: OrderStats(*a) for m, a in acc.items()}


def has_orders(conn: Connection) -> bool:
    return conn.execute(select(col(Purchase.id)).limit(1)).first() is not None


def orders_of(conn: Connection, member: str, limit: int = 50) -> list[Purchase]:
    rows = conn.execute(select(Purchase).where(col(Purchase.member) == member)
                        .order_by(col(Purchase.ts).desc()).limit(limit)).all()
    return [Purchase.model_validate(r._mapping) for r in rows]
