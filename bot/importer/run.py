"""One import: the files of a call, read by their format, merged in time order, guarded
against live history, and fed to the pipeline silently (no replies, no commands)."""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bot.core.events import Event
from bot.importer import chatlab, memotrace_csv, memotrace_txt, weflow
from bot.importer.detect import FORMATS, detect, encoding_of
from bot.importer.notices import NameBook, Names
from bot.importer.progress import Progress
from bot.importer.source import FileError, ImportOptions, Summary

if TYPE_CHECKING:
    from bot.core.pipeline import Pipeline


def files_of(paths: Iterable[Path], summary: Summary) -> list[Path]:
    """The files named, and every file in a folder named (hidden files left out)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not found:
                summary.failed.append((str(path), "文件夹里没有文件"))
            out += found
        elif path.is_file():
            out.append(path)
        else:
            summary.failed.append((str(path), "没有这个文件或文件夹"))
    return out


IMPORT_BATCH = 20_000  # events a transaction: history waits on nobody, and commits cost


@dataclass
class _File:
    path: Path
    encoding: str
    fmt: str
    scan: Any = None  # what the format's first pass learned
    label: str = ""  # the format and generation, as the summary names it


def prepare(path: Path, opts: ImportOptions, summary: Summary, book: NameBook) -> _File | None:
    """A file's encoding, format and first pass; None (and the reason in the summary) for
    a file that cannot be read as a whole."""
    try:
        encoding = encoding_of(path, summary)
        found = detect(path, encoding)
        if opts.fmt != "auto" and found != opts.fmt:
            raise FileError(f"这是{FORMATS[found]}文件，不是 --format {opts.fmt}；"
                            "不同格式的文件可以一起导入：去掉 --format（默认 auto 按内容识别）")
        file = _File(path, encoding, found, label=FORMATS[found])
        if found == "memotrace-csv":
            file.scan = memotrace_csv.scan(path, encoding, opts, book)
            file.label = file.scan.label
        elif found == "memotrace-txt":
            file.label = memotrace_txt.LABELS[memotrace_txt.generation(path, encoding)]
        elif found == "chatlab":
            file.scan = chatlab.scan(path, encoding, opts, book)
        elif found == "weflow":
            file.scan = weflow.scan(path, encoding, opts, book)
    except FileError as exc:
        summary.failed.append((str(path), str(exc)))
        return None
    except UnicodeDecodeError as exc:
        summary.failed.append((str(path), f"第 {exc.start + 1} 字节附近的编码不对，无法读取"))
        return None
    except OSError as exc:
        summary.failed.append((str(path), f"无法读取（{exc.strerror or exc}）"))
        return None
    summary.files.append((str(path), file.label))
    return file


def read_file(file: _File, opts: ImportOptions, summary: Summary, book: NameBook) -> Iterator[Event]:
    """The events of one prepared file (what was read before a late error still counts)."""
    try:
        if file.fmt == "memotrace-csv":
            yield from memotrace_csv.read(file.path, file.encoding, opts, summary, file.scan, book)
        elif file.fmt == "memotrace-txt":
            yield from memotrace_txt.read(file.path, file.encoding, opts, summary)
        elif file.fmt == "weflow":
            yield from weflow.read(file.path, file.encoding, opts, summary, file.scan, book)
        else:
            yield from chatlab.read(file.path, file.encoding, opts, summary, file.scan, book)
    except FileError as exc:
        summary.failed.append((str(file.path), str(exc)))
    except UnicodeDecodeError as exc:
        summary.failed.append((str(file.path), f"第 {exc.start + 1} 字节附近的编码不对，读取到此为止"))
    except OSError as exc:
        summary.failed.append((str(file.path), f"无法读取（{exc.strerror or exc}）"))


def estimate(path: Path) -> int:
    """About how many messages a file holds (its lines; a TXT block takes three), for the
    progress bar's eta."""
    try:
        with open(path, "rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return 0
    return lines // 3 if path.suffix.lower() == ".txt" else lines


def run_import(paths: Iterable[Path], opts: ImportOptions, pipeline: Pipeline | None, *,
               overlap_ok: bool = False, progress: Progress | None = None) -> Summary:
    """Read every file and, unless `pipeline` is None (a dry run), store what is new."""
    summary = Summary()
    files = files_of(paths, summary)
    if pipeline is None:  # a dry run: no store to learn names from, to guard against or to write
        book = NameBook(lambda room: Names())
    else:
        # The store's side (SQLAlchemy, the models) is imported only when there is a store.
        from bot.importer.guards import store_names

        book = NameBook(store_names(pipeline.engine))
    # Every file's first pass before any is read: notices resolve names against them all.
    prepared = [f for f in (prepare(p, opts, summary, book) for p in files) if f is not None]
    progress = progress or Progress(total=0, enabled=False)
    progress.total = sum(estimate(f.path) for f in prepared)
    # Each export is in time order; merged, the history is replayed as it happened even
    # when the files overlap or come in any order.
    if len(prepared) == 1:  # one file: its events as they come, no merge or label around each
        progress.current = prepared[0].path.name
        merged: Iterator[Event] = read_file(prepared[0], opts, summary, book)
    else:
        merged = heapq.merge(*(progress.labelled(f.path.name, read_file(f, opts, summary, book))
                               for f in prepared), key=_ts)
    tracked = progress.track(merged)
    if pipeline is None:
        for _ in tracked:
            pass
    else:
        from bot.core.merge import merge_names
        from bot.importer.guards import LegacyGuard, LiveGuard, stored_events

        engine = pipeline.engine
        events = LegacyGuard(engine, summary).keep(LiveGuard(engine, overlap_ok, summary).keep(tracked))
        before = stored_events(engine)
        pipeline.process(events, silent=True, commands=False, batch_size=IMPORT_BATCH)
        summary.new_events = stored_events(engine) - before
        # Name-only members whose wxid the files or the store now tell (bot.core.merge).
        with pipeline.engine.begin() as conn:
            for room in sorted(summary.rooms):
                summary.merged += merge_names(conn, room, summary.name_ids.get(room, {}))
    progress.close()
    return summary


def _ts(event: Event) -> float:
    return event.ts.timestamp()


def is_terminal(stream: IO[Any]) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False

