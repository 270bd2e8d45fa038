"""Hostile input at every door: `replay` of a file with each bad category, bounded line reading,
and the event API storing the good events of a batch with bad ones."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from bot.adapters.file import FileAdapter, jsonl_lines
from bot.core.events import MAX_LINE
from tests.test_cli import msg, run

BAD = [
    '{"type": [], "id": "b1", "ts": 1793498400}',
    '{"type": {}, "id": "b2", "ts": 1793498400}',
    '{"type":"message","id":"b3","ts":' + "9" * 5000 + ',"sender":"a","text":"x"}',
    '{"type":"message","id":"b4","ts":"0001-01-01T00:00:00+08:00","sender":"a","text":"x"}',
    '{"type":"message","id":"b5","ts":"9999-12-31T23:59:59-08:00","sender":"a","text":"x"}',
    '{"type":"message","id":"b6","ts":"9999-12-31T00:00:00+00:00","sender":"a","text":"x"}',
    '{"type":"message","id":"b7","ts":1793498400,"sender":"a","text":"a\\ud800"}',
    '{"type":"message","id":"b8","ts":1793498400,"sender":"a","text":"a\\u0000"}',
    '{"type":"message","id":"b9","ts":1793498400,"sender":"a\\u200b","text":"hi"}',
    "[" * 1000 + "]" * 1000,
    '{"a":' * 1000 + "1" + "}" * 1000,
    '{"type":"message","id":"b12","ts":1793498400,"sender":"a","text":"' + "长" * 600_000 + '"}',
    "\xff not utf-8",
]


def test_replay_of_every_hostile_category_names_each_line_and_keeps_the_good(tmp_path):
    lines: list[bytes] = [b"\xef\xbb\xbf" + json.dumps(msg(1)).encode()]  # a BOM on line 1
    for i, bad in enumerate(BAD):
        lines.append(bad.encode("utf-8", "surrogateescape") if bad[0] != "\xff" else b"\xff bad")
        lines.append(json.dumps(msg(10 + i), ensure_ascii=False).encode())
    # a bare \r inside a line does not start a new line; \r\n ends one like \n
    lines.append(json.dumps(msg(90)).encode() + b"\r")
    lines.append(b'{"type":"visit",\r"id":"v1","ts":1793498400,"member":"wxid_a"}')
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "q.db"
    res = run("replay", str(path), "--db", str(db), "--silent")
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    bad_lines = [2 + 2 * i for i in range(len(BAD))]
    named = sorted(int(line.split(":")[1]) for line in res.stderr.splitlines() if "已跳过" in line)
    assert named == bad_lines, res.stderr
    assert f"{len(BAD)} 行被跳过" in res.stderr
    with sqlite3.connect(db) as conn:
        ids = {r[0] for r in conn.execute("SELECT id FROM eventlog")}
    assert ids == {"m1", *(f"m{10 + i}" for i in range(len(BAD))), "m90", "v1"}


class _Generated(io.RawIOBase):
    """A stream of one huge line then a good one, generated as it is read (nothing on disk)."""

    def __init__(self, size: int, tail: bytes) -> None:
        self.left = size
        self.tail = tail
        self.biggest = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self.left > 0:
            n = min(len(buf), self.left)
            buf[:n] = b"x" * n
            self.left -= n
        else:
            n = min(len(buf), len(self.tail))
            buf[:n] = self.tail[:n]
            self.tail = self.tail[n:]
        self.biggest = max(self.biggest, n)
        return n


def test_a_300_mb_line_is_skipped_without_being_held():
    raw = _Generated(300 * 1024 * 1024, b"\n" + json.dumps(msg(1)).encode() + b"\n")
    got = []
    for n, line in jsonl_lines(io.BufferedReader(raw, 1 << 16)):
        got.append((n, None if line is None else len(line)))
        if line is not None:
            assert len(line) <= MAX_LINE
    assert got[0] == (1, None)
    assert got[1][0] == 2 and got[1][1] > 0


def test_the_file_adapter_reports_the_long_line_and_reads_on(tmp_path):
    path = tmp_path / "e.jsonl"
    with open(path, "wb") as fh:
        fh.write(b"x" * (MAX_LINE * 3) + b"\n" + json.dumps(msg(2)).encode() + b"\n")
    adapter = FileAdapter(path, errors=io.StringIO())
    events = list(adapter.read())
    assert [e.id for e in events] == ["m2"]
    assert [(r.line, "太长" in r.reason) for r in adapter.rejected] == [(1, True)]


def test_crlf_lines_and_a_bom_are_read(tmp_path):
    path = Path(tmp_path / "e.jsonl")
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(json.dumps(msg(i)).encode() for i in (1, 2, 3)))
    adapter = FileAdapter(path, errors=io.StringIO())
    assert [e.id for e in adapter.read()] == ["m1", "m2", "m3"]
    assert adapter.rejected == []
