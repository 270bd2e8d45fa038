#!/usr/bin/env python3
"""Import benchmark: a generated one-group history of N messages (5% check-ins with notes,
10% media, a few hundred joins) as a MemoTrace CSV and as a ChatLab JSONL, each imported by
`qunguan import` in its own process into a fresh SQLite file with the example config's
rules. Prints messages/s and the import process's peak RSS, next to bare jieba.lcut over the
same texts (the floor of ingest). Then times rule backtests (/rule preview, the console's
回测 page) on the store the CSV import filled.

    .venv/bin/python scripts/bench_import.py [--messages 1000000] [--profile]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import jieba

from bot.core.settings import Settings
from bot.demo.exports import group_history, write_chatlab_jsonl, write_memotrace_csv
from bot.demo.run import EXAMPLE_CONFIG
from bot.features.tags.backtest import backtest
from bot.features.tags.service import parse_rule_text
from bot.wiring import build

ROOM = "10001@chatroom"
BACKTESTS = (
    "keyword 意向 多少钱,价格 lead=yes",  # the example config's rule: few messages hold it
    "keyword 书虫 读完 mode=substring",  # check-in notes: thousands
    "keyword 常客 今天 hits=3 days=7",  # one chat message in ten holds it: the worst case
)


def time_backtests(db: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{db}", config=EXAMPLE_CONFIG)
    _, deps = build(settings)
    with deps.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM eventlog WHERE type = 'message'").scalar()
        at = datetime.fromtimestamp(conn.exec_driver_sql("SELECT max(ts) FROM eventlog").scalar() or 0,
                                    settings.tz)
        for text in BACKTESTS:
            rule = parse_rule_text(text)
            started = time.perf_counter()
            found = backtest(conn, deps.tagging, rule, at)
            took = time.perf_counter() - started
            print(f"backtest over {stored} stored messages, {text!r}: {took:.2f}s "
                  f"({found.candidates} messages hold a keyword, {found.members} members tagged)")


def run_import(path: Path, db: Path, profile: Path | None) -> tuple[float, int, str]:
    """Seconds, peak RSS (KiB) and output of one `qunguan import` process."""
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += ["-m", "bot.cli", "import", str(path), "--room", ROOM, "--db", str(db),
            "--config", str(EXAMPLE_CONFIG)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"import failed ({status}):\n{out}")
    return took, usage.ru_maxrss, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true", help="write a cProfile of each import")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qunguan-import-"))
    csv_path, jsonl_path = work / "读书群_utf8.csv", work / "读书群.jsonl"
    t = time.perf_counter()
    n = write_memotrace_csv(group_history(args.messages), csv_path)
    write_chatlab_jsonl(group_history(args.messages), jsonl_path, ROOM, "读书群")
    print(f"generated {n} messages twice in {time.perf_counter() - t:.1f}s ({work})")

    texts = [s.text for s in group_history(args.messages) if s.kind == "text"]
    jieba.setLogLevel(60)
    jieba.initialize()
    t = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    jieba_rate = len(texts) / (time.perf_counter() - t)
    print(f"bare jieba.lcut over its {len(texts)} texts: {jieba_rate:>9,.0f} texts/s "
          f"(= {jieba_rate * n / len(texts):,.0f} messages/s with media needing none)")
    for label, path in (("MemoTrace CSV", csv_path), ("ChatLab JSONL", jsonl_path)):
        db = work / f"{path.suffix[1:]}.db"
        profile = work / f"{path.suffix[1:]}.prof" if args.profile else None
        took, rss, out = run_import(path, db, profile)
        # The whole process: start-up, jieba's dictionary, both passes over the file, the store.
        rate = n / took
        print(f"{label}: {n} messages in {took:.1f}s = {rate:>9,.0f} messages/s, "
              f"peak RSS {rss / 1024:.0f} MB ({rate / jieba_rate:.0%} of bare jieba)"
              + (f", profile {profile}" if profile else ""))
        if "跳过" in out:
            print(out)
    time_backtests(work / "csv.db")


if __name__ == "__main__":
    main()
