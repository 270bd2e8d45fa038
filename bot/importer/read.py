"""The reading side of an import, run in a process of its own (bot.core.readahead): the files
of a call, each read by its format, merged in time order, sent to the importing process with
the file each event came from; the summary of what was read is its result."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.events import Event, Message
from bot.core.readahead import Feed, packed
from bot.importer import chatlab, memotrace_csv, memotrace_txt, weflow
from bot.importer.detect import FORMATS, detect, encoding_of
from bot.importer.notices import NameBook, Names
from bot.importer.progress import Progress
from bot.importer.source import FileError, ImportOptions, Summary


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


def read_all(feed: Feed, paths: list[Path], opts: ImportOptions, store: bool) -> Summary:
    """In the reader process: every file's first pass, then their events merged in time order,
    put on `feed` (a message as its fields), each run of them after the name of the file it came
    from (for the progress bar). The store's names of a room are asked of the importing process
    (`store`; a dry run has none). The first thing sent is the files' estimated message count."""
    summary = Summary()
    files = files_of(paths, summary)
    book = NameBook(feed.call if store else lambda room: Names())
    # Every file's first pass before any is read: notices resolve names against them all.
    prepared = [f for f in (prepare(p, opts, summary, book) for p in files) if f is not None]
    feed.send(sum(estimate(f.path) for f in prepared))
    labels = Progress(0, enabled=False)
    # Each export is in time order; merged, the history is replayed as it happened even
    # when the files overlap or come in any order.
    if len(prepared) == 1:  # one file: its events as they come, no merge or label around each
        labels.current = prepared[0].path.name
        merged: Iterator[Event] = read_file(prepared[0], opts, summary, book)
    else:
        merged = heapq.merge(*(labels.labelled(f.path.name, read_file(f, opts, summary, book))
                               for f in prepared), key=_ts)
    put, shown = feed.put, ""
    for event in merged:
        if labels.current != shown:
            shown = labels.current
            put(shown)
        put(packed(event) if type(event) is Message else event)
    return summary


def _ts(event: Event) -> float:
    return event.ts.timestamp()
