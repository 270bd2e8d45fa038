"""Deleting a member's data on their confirmation: erased at the end of the batch, the anonymous
id they leave behind kept out of the rankings and of outreach."""

from __future__ import annotations

import logging

from sqlalchemy import delete
from sqlmodel import col

from bot.core.pipeline import Batch, invalidate_caches
from bot.features.outreach.api import set_subscribed
from bot.features.privacy.eraser import erase_member, scrub_file
from bot.features.privacy.models import DeletionRequest, RankOptOut
from bot.store.db import upsert
from bot.store.models import table_of

log = logging.getLogger(__name__)


def confirm_deletion(batch: Batch, member: str) -> None:
    """Erase the member once this batch's events are written (the confirmation itself
    included), then, after the commit, make the erased bytes gone from the file."""
    conn = batch.conn
    conn.execute(delete(table_of(DeletionRequest)).where(col(DeletionRequest.member) == member))

    def erase(b: Batch) -> None:
        b.flush_hooks.remove(erase)
        b.session.flush()
        done = erase_member(b.conn, member)
        # The anonymous member is never ranked, and never messaged (the id reaches nobody).
        upsert(b.conn, table_of(RankOptOut), [{"member": done.anon, "at": 0}], ["member"])
        set_subscribed(b.conn, done.anon, False, 0)
        b.session.expunge_all()
        b.known.clear()
        invalidate_caches(b.conn)  # what every hook keeps about the member is stale now
        engine = b.conn.engine
        b.after_commit.append(lambda: log.info("after an erasure: %s", scrub_file(engine, done.tables)))

    batch.flush_hooks.append(erase)
