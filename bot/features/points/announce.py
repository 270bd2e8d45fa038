"""The level-up announcement: the Chinese message for a level reached, sent where it happened."""

from __future__ import annotations

from collections.abc import Iterable

from bot.adapters.base import Outgoing
from bot.core.pipeline import Batch
from bot.features.points.service import PointsChange


def announce_level_ups(batch: Batch, changes: Iterable[PointsChange]) -> None:
    """Congratulate each member who reached a new level, naming the benefits (权益) it
    unlocks, in the room of their last award there (or 1:1). Callers send their own reply
    first, so the congratulation follows it."""
    for change in changes:
        if not change.reached:
            continue
        top = change.reached[-1]
        perks = f"解锁权益：{'、'.join(f'「{b}」' for b in change.unlocked)}。" if change.unlocked else ""
        text = f"🎉 恭喜升到 Lv{top.n}「{top.name}」！{perks}继续加油～"
        m = change.member
        batch.send(Outgoing(text=text, room=change.room, to=m, mentions=(m,)) if change.room
                   else Outgoing(text=text, to=m))
