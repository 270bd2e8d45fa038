"""One import: the files of a call, read by their format and merged in time order in a second
process (bot.importer.read), guarded here against live history, and fed to the pipeline
silently (no replies, no commands)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bot.core.events import Event
from bot.core.readahead import Readahead, unpacked
from bot.importer.progress import Progress
from bot.importer.read import read_all
from bot.importer.source import ImportOptions, Summary

if TYPE_CHECKING:
    from bot.core.pipeline import Pipeline

IMPORT_BATCH = 20_000  # events a transaction: history waits on nobody, and commits cost


def reading(paths: Iterable[Path], opts: ImportOptions, *, store: bool) -> Readahead:
    """The files' reading, started in its own process at once: their first pass runs while this
    process builds the pipeline. `store`: the store's names are asked of `run_import` (a dry run
    has no store)."""
    return Readahead(read_all, list(paths), opts, store)


def run_import(reader: Readahead, pipeline: Pipeline | None, *, overlap_ok: bool = False,
               progress: Progress | None = None) -> Summary:
    """Receive what `reader` reads and, unless `pipeline` is None (a dry run), store what is new."""
    progress = progress or Progress(total=0, enabled=False)
    if pipeline is not None:
        # The store's side (SQLAlchemy, the models) is imported only when there is a store.
        from bot.importer.guards import store_names

        reader.serve = store_names(pipeline.engine)
    batches = reader.batches()
    progress.total = next(batches)
    tracked = progress.track(_events(batches, progress))
    if pipeline is None:  # a dry run: no store to guard against or to write
        for _ in tracked:
            pass
        summary: Summary = reader.result
    else:
        from bot.core.merge import merge_names
        from bot.importer.guards import LegacyGuard, LiveGuard, stored_events

        engine = pipeline.engine
        guarded = Summary()  # what the guards leave out, counted here as the events go by
        events = LegacyGuard(engine, guarded).keep(LiveGuard(engine, overlap_ok, guarded).keep(tracked))
        before = stored_events(engine)
        pipeline.process(events, silent=True, commands=False, batch_size=IMPORT_BATCH)
        summary = reader.result
        summary.newer_than_live, summary.imported_before = guarded.newer_than_live, guarded.imported_before
        summary.new_events = stored_events(engine) - before
        # Name-only members whose wxid the files or the store now tell (bot.core.merge).
        with pipeline.engine.begin() as conn:
            for room in sorted(summary.rooms):
                summary.merged += merge_names(conn, room, summary.name_ids.get(room, {}))
    progress.close()
    return summary


def _events(batches: Iterator[Any], progress: Progress) -> Iterator[Event]:
    """The events the reader process sent (a message as its fields), and the name of the file
    each run of them came from, for the progress bar."""
    for batch in batches:
        for item in batch:
            if type(item) is tuple:
                yield unpacked(item)
            elif type(item) is str:
                progress.current = item
            else:
                yield item


def is_terminal(stream: IO[Any]) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False

