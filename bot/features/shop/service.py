"""The points shop: items with a price and an optional stock, redemptions paid through the
ledger, fulfilment by an operator, refunds that give the points and the stock back."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.pipeline import Batch
from bot.features.points.api import Award, Ledger, PointsChange
from bot.features.shop.models import Redemption, ShopItem
from bot.store.models import table_of
from tiers.followup import PendingRedemption

MAX_NAME = 30
MAX_PRICE = 1_000_000
MAX_STOCK = 1_000_000

_items = table_of(ShopItem)
_redemptions = table_of(Redemption)


class ShopError(ValueError):
    """A redemption or a shop change that cannot be done; the text (Chinese) says why."""


@dataclass(frozen=True)
class Redeemed:
    redemption_id: int
    item: str
    price: int
    points: PointsChange
    stock_left: int | None


@dataclass(frozen=True)
class Refunded:
    redemption_id: int
    member: str
    item: str
    price: int
    points: PointsChange


def items(conn: Connection, *, active_only: bool = True) -> list[ShopItem]:
    q = select(ShopItem).order_by(col(ShopItem.price), col(ShopItem.name))
    if active_only:
        q = q.where(col(ShopItem.active))
    return [ShopItem.model_validate(r._mapping) for r in conn.execute(q)]


def find_item(conn: Connection, name: str) -> ShopItem | None:
    row = conn.execute(select(ShopItem).where(col(ShopItem.name) == name)).first()
    return ShopItem.model_validate(row._mapping) if row else None


def add_item(conn: Connection, name: str, price: int, stock: int | None, by: str, at: int) -> ShopItem:
    """Add an item, or bring back / reprice one taken off the shelf under the same name."""
    if not name or len(name) > MAX_NAME:
        raise ShopError(f"商品名称应为 1–{MAX_NAME} 个字。")
    existing = find_item(conn, name)
    if existing is not None and existing.active:
        raise ShopError(f"商城里已经有「{name}」了。改价或补货请先 /shop off {name} 再添加。")
    if existing is not None:
        conn.execute(_items.update().where(_items.c.id == existing.id).values(
            price=price, stock=stock, active=True, created_by=by, created_at=at))
    else:
        conn.execute(_items.insert().values(name=name, price=price, stock=stock, active=True,
                                            created_by=by, created_at=at))
    found = find_item(conn, name)
    assert found is not None
    return found


def take_off(conn: Connection, name: str) -> bool:
    return conn.execute(_items.update().where(_items.c.name == name, _items.c.active)
                        .values(active=False)).rowcount > 0


def redeem(batch: Batch, ledger: Ledger, member: str, name: str, *, ts: datetime, room: str | None,
           ref: str | None) -> Redeemed:
    """Spend the item's price from the member's points and take one from its stock, both
    never below zero — each is one conditional statement, so two redemptions at once (in two
    processes) cannot both take the last one. ShopError when either fails: the caller's
    savepoint undoes whatever was taken."""
    conn = batch.conn
    item = find_item(conn, name)
    if item is None or not item.active:
        listed = "、".join(i.name for i in items(conn)) or "（商城还是空的）"
        raise ShopError(f"商城里没有「{name}」。现有：{listed}")
    assert item.id is not None
    took = conn.execute(update(_items).where(
        _items.c.id == item.id, _items.c.active,
        _items.c.stock.is_(None) | (_items.c.stock > 0)).values(
        stock=_items.c.stock - 1).returning(_items.c.stock)).first()
    if took is None:
        raise ShopError(f"「{name}」已经兑完了，等补货吧。")
    day = batch.day(ts)
    change = ledger.spend(conn, member, item.price, kind="redeem", ts=int(ts.timestamp()), day=day,
                          room=room, reason=f"兑换「{name}」", ref=ref)
    if change is None:
        have = ledger.points_of(conn, [member]).get(member, 0)
        raise ShopError(f"积分不够：「{name}」要 {item.price} 分，你现在有 {have} 分，还差 {item.price - have} 分。")
    result = conn.execute(_redemptions.insert().values(
        member=member, item_id=item.id, item=name, price=item.price, ts=int(ts.timestamp()),
        room=room or "", ref=ref, status="pending"))
    rid = int(result.inserted_primary_key[0])  # type: ignore[index]  # always set after an insert
    return Redeemed(rid, name, item.price, change, took[0])


def refund(batch: Batch, ledger: Ledger, redemption_id: int, *, ts: datetime, by: str) -> Refunded:
    """Undo a redemption: the points come back through the ledger, the stock is restored.
    A redemption is refunded at most once."""
    conn = batch.conn
    row = conn.execute(select(Redemption).where(col(Redemption.id) == redemption_id)).first()
    if row is None:
        raise ShopError(f"没有编号为 {redemption_id} 的兑换记录。")
    r = Redemption.model_validate(row._mapping)
    if r.status == "refunded":
        raise ShopError(f"第 {redemption_id} 号兑换已经退过了。")
    at = int(ts.timestamp())
    done = conn.execute(_redemptions.update().where(
        _redemptions.c.id == redemption_id, _redemptions.c.status != "refunded").values(
        status="refunded", done_at=at, done_by=by)).rowcount
    if done != 1:
        raise ShopError(f"第 {redemption_id} 号兑换已经退过了。")
    conn.execute(_items.update().where(_items.c.id == r.item_id, _items.c.stock.is_not(None))
                 .values(stock=_items.c.stock + 1))
    change = ledger.award(batch, [Award(r.member, r.price, "refund", at, batch.day(ts), None,
                                        reason=f"退回兑换「{r.item}」", ref=f"redemption:{redemption_id}",
                                        by=by)])[r.member]
    return Refunded(redemption_id, r.member, r.item, r.price, change)


def pending(conn: Connection, tz: tzinfo | None, until: int) -> dict[str, list[PendingRedemption]]:
    """Redemptions not yet handed over, made by `until`, per member."""
    out: dict[str, list[PendingRedemption]] = defaultdict(list)
    q = select(_redemptions.c.id, _redemptions.c.member, _redemptions.c.item, _redemptions.c.price,
               _redemptions.c.ts).where(_redemptions.c.status == "pending", _redemptions.c.ts <= until
                                        ).order_by(_redemptions.c.ts)
    for rid, member, item, price, ts in conn.execute(q):
        out[member].append(PendingRedemption(rid, item, price, datetime.fromtimestamp(ts, tz)))
    return out


def fulfil(conn: Connection, member: str, until: int, at: int, by: str) -> int:
    """Mark the member's pending redemptions made by `until` handed over; how many."""
    return conn.execute(_redemptions.update().where(
        _redemptions.c.member == member, _redemptions.c.status == "pending", _redemptions.c.ts <= until
    ).values(status="fulfilled", done_at=at, done_by=by)).rowcount


def redemptions(conn: Connection, *, member: str | None = None, limit: int = 200) -> list[Redemption]:
    q = select(Redemption).order_by(col(Redemption.id).desc()).limit(limit)
    if member is not None:
        q = q.where(col(Redemption.member) == member)
    return [Redemption.model_validate(r._mapping) for r in conn.execute(q)]


def fulfil_one(conn: Connection, redemption_id: int, at: int, by: str) -> bool:
    """Mark one pending redemption handed over; False when it is not pending."""
    return conn.execute(_redemptions.update().where(
        _redemptions.c.id == redemption_id, _redemptions.c.status == "pending"
    ).values(status="fulfilled", done_at=at, done_by=by)).rowcount == 1
