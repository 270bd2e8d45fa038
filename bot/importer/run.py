"""One import: the files of a call, read by their format, merged in time order, guarded
against live history, and fed to the pipeline silently (no replies, no commands)."""

from __future__ import annotations

import heapq
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import ColumnElement, Engine, func, select
from sqlmodel import col

from bot.core.events import Event, Join, Leave, Message, Recall
from bot.core.merge import merge_names
from bot.core.pipeline import Pipeline
from bot.importer import chatlab, memotrace_csv, memotrace_txt, weflow
from bot.importer.detect import FORMATS, detect, encoding_of
from bot.importer.notices import NameBook, Names
from bot.importer.progress import Progress
from bot.importer.source import ID_PREFIX, LEGACY_ID_LENGTH, FileError, ImportOptions, Summary
from bot.store.models import NO_ROOM, EventLog, Member, Membership


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


class LiveGuard:
    """Live and imported copies of one message cannot be matched by id, so an import stops
    at the first live (not imported) event of each chat: what is newer is left out."""

    def __init__(self, engine: Engine | None, allow: bool, summary: Summary) -> None:
        self.engine, self.allow, self.summary = engine, allow, summary
        self._first: dict[tuple[str, str | None], int | None] = {}

    def keep(self, events: Iterable[Event]) -> Iterator[Event]:
        """The events older than their chat's first live event (a million: one look-up each)."""
        if self.allow or self.engine is None:
            yield from events
            return
        firsts = self._first
        for event in events:
            room = getattr(event, "room", None)
            key = (room, None) if room else (NO_ROOM, getattr(event, "sender", None))
            try:
                first = firsts[key]
            except KeyError:
                first = firsts[key] = self._first_live(key)
            if first is not None and event.ts.timestamp() >= first:
                self.summary.newer_than_live += 1
                continue
            yield event

    def _first_live(self, key: tuple[str | None, str | None]) -> int | None:
        assert self.engine is not None
        q = select(func.min(col(EventLog.ts))).where(
            col(EventLog.room) == key[0], ~col(EventLog.id).startswith(ID_PREFIX))
        if key[1] is not None:
            q = q.where(col(EventLog.member) == key[1])
        with self.engine.connect() as conn:
            first: int | None = conn.execute(q).scalar()
        return first


class LegacyGuard:
    """Release 0.2 built an imported event's id with its sender, 0.3 without (an export without
    wxids must give the same ids), so a file imported by 0.2 and again now would count twice.
    Where the store holds such ids, each event is looked for among them by what it is (room,
    time, member, type and text; a text erased by retention matches any)."""

    CHUNK = 2000

    def __init__(self, engine: Engine | None, summary: Summary) -> None:
        self.engine, self.summary = engine, summary
        self.active = False
        if engine is not None:
            with engine.connect() as conn:
                self.active = conn.execute(select(col(EventLog.id)).where(*self._legacy()).limit(1)).first() is not None

    @staticmethod
    def _legacy() -> tuple[ColumnElement[bool], ...]:
        return (col(EventLog.id).startswith(ID_PREFIX), func.length(col(EventLog.id)) == LEGACY_ID_LENGTH)

    def keep(self, events: Iterable[Event]) -> Iterator[Event]:
        if not self.active or self.engine is None:
            return iter(events)  # no generator of its own around a million events
        return self._keep(events)

    def _keep(self, events: Iterable[Event]) -> Iterator[Event]:
        chunk: list[Event] = []
        for event in events:
            chunk.append(event)
            if len(chunk) >= self.CHUNK:
                yield from self._new(chunk)
                chunk = []
        yield from self._new(chunk)

    def _new(self, chunk: list[Event]) -> Iterator[Event]:
        if not chunk or self.engine is None:
            return
        lo, hi = int(chunk[0].ts.timestamp()), int(chunk[-1].ts.timestamp())
        stored: dict[_What, list[str | None]] = defaultdict(list)
        with self.engine.connect() as conn:
            for room, ts, member, kind, text in conn.execute(
                    select(col(EventLog.room), col(EventLog.ts), col(EventLog.member), col(EventLog.type),
                           col(EventLog.text)).where(*self._legacy(), col(EventLog.ts) >= min(lo, hi),
                                                     col(EventLog.ts) <= max(lo, hi))):
                stored[(room, ts, member, kind)].append(text)
        for event in chunk:
            texts = stored.get(_what(event))
            text = getattr(event, "text", None)
            match = next((i for i, t in enumerate(texts or ()) if t is None or t == text or not text), None)
            if texts is not None and match is not None:
                texts.pop(match)
                self.summary.imported_before += 1
                continue
            yield event


_What = tuple[str, int, str | None, str]  # room, ts, member, kind: how a legacy import stored it


def _what(event: Event) -> _What:
    room = getattr(event, "room", None) or NO_ROOM
    kind = {Message: "message", Join: "join", Leave: "leave", Recall: "recall"}.get(type(event), "")
    return room, int(event.ts.timestamp()), getattr(event, "member", None), kind


def store_names(engine: Engine | None) -> Callable[[str], Names]:
    """Names of a room's members as the store knows them, to resolve notices by."""
    def names(room: str) -> Names:
        found = Names()
        if engine is None:
            return found
        q = select(col(Member.id), col(Member.name), col(Membership.room_alias)).join(
            Membership, col(Membership.member) == col(Member.id)).where(col(Membership.room) == room)
        with engine.connect() as conn:
            for member, name, alias in conn.execute(q):
                found.add(name, member)
                found.add(alias, member)
        return found
    return names


def run_import(paths: Iterable[Path], opts: ImportOptions, pipeline: Pipeline | None, *,
               overlap_ok: bool = False, progress: Progress | None = None) -> Summary:
    """Read every file and, unless `pipeline` is None (a dry run), store what is new."""
    summary = Summary()
    files = files_of(paths, summary)
    engine = pipeline.engine if pipeline is not None else None
    book = NameBook(store_names(engine))
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
    guard = LiveGuard(engine, overlap_ok, summary)
    events = LegacyGuard(engine, summary).keep(guard.keep(progress.track(merged)))
    if pipeline is None:
        for _ in events:
            pass
    else:
        before = _stored(pipeline.engine)
        pipeline.process(events, silent=True, commands=False, batch_size=IMPORT_BATCH)
        summary.new_events = _stored(pipeline.engine) - before
        # Name-only members whose wxid the files or the store now tell (bot.core.merge).
        with pipeline.engine.begin() as conn:
            for room in sorted(summary.rooms):
                summary.merged += merge_names(conn, room, summary.name_ids.get(room, {}))
    progress.close()
    return summary


def _ts(event: Event) -> float:
    return event.ts.timestamp()


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(EventLog)).scalar() or 0


def is_terminal(stream: IO[Any]) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False

