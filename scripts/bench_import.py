#!/usr/bin/env python3
"""Import benchmark: a generated one-group history of N messages (5% check-ins with notes,
10% media, a few hundred joins) as a MemoTrace 2024 CSV, a MemoTrace 2025 CSV (WeChat 4.x:
display names only, in its `聊天记录/{备注}({id})/` folder), a ChatLab JSONL and a WeFlow JSON
(with a large base64 avatar in its session), each imported by `qunguan import` in its own
process into a fresh SQLite file with the example config's rules. Prints messages/s and the
import process's peak RSS with the load average, next to bare jieba.lcut over the same texts
(the floor of ingest). Then times rule backtests (/rule preview, the console's 回测 page) on
the store the CSV import filled.

    .venv/bin/python scripts/bench_import.py              # 200k messages a format
    .venv/bin/python scripts/bench_import.py --million    # 1M (the targets: 20k/s, 300 MB)
    .venv/bin/python scripts/bench_import.py --messages N --formats 2025,weflow [--profile] [--readers]
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

from bench_common import bare_jieba, load

from bot.core.events import latest_ts
from bot.core.settings import Settings
from bot.demo.exports import (
    group_history,
    write_chatlab_jsonl,
    write_memotrace_2025_csv,
    write_memotrace_csv,
    write_weflow_json,
)
from bot.demo.run import EXAMPLE_CONFIG
from bot.features.tags.backtest import backtest
from bot.features.tags.service import Tagging, parse_rule_text
from bot.importer.run import run_import as read_only
from bot.importer.source import ImportOptions
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
            found = backtest(conn, deps.service(Tagging), rule, at)
            took = time.perf_counter() - started
            print(f"backtest over {stored} stored messages, {text!r}: {took:.2f}s "
                  f"({found.candidates} messages hold a keyword, {found.members} members tagged)")


# The import process's own peak RSS: its VmHWM, written at exit. The ru_maxrss that wait4 gives for
# a child also counts the pages of this process it was forked from (Linux keeps the parent's
# high-water mark across exec), and this process holds a generated history and python-jieba's
# dictionary: every child would seem to take 180 MB before reading a line.
PEAK = "peak RSS KiB:"
_RUN = ("import atexit, runpy, sys\n"
        "def peak():\n"
        "    with open('/proc/self/status') as fh:\n"
        "        kib = next((ln.split()[1] for ln in fh if ln.startswith('VmHWM:')), '0')\n"
        f"    sys.stderr.write('{PEAK} ' + kib + '\\n')\n"
        "atexit.register(peak)\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n")


def run_import(path: Path, db: Path, profile: Path | None, *, dry_run: bool = False
               ) -> tuple[float, float, int, str]:
    """Seconds, CPU seconds, peak RSS (KiB) and output of one `qunguan import` process
    (`--dry-run`: the reading side alone: detection, both passes, names, events, no store)."""
    cmd = [sys.executable, "-c", _RUN]
    if profile is not None:
        cmd += ["cProfile", "-o", str(profile), "-m"]
    # The 2025 CSV and WeFlow files carry the room's id themselves (folder name, session).
    room = [] if path.suffix == ".json" or path.parent.name.endswith(")") else ["--room", ROOM]
    cmd += ["bot.cli", "import", str(path), *room, "--db", str(db),
            "--config", str(EXAMPLE_CONFIG), *(["--dry-run"] if dry_run else [])]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"import failed ({status}):\n{out}")
    kept, _, peak = out.rpartition(PEAK)
    return took, usage.ru_utime + usage.ru_stime, int(peak.split()[0]), kept


def reader_cpu(path: Path) -> float:
    """CPU µs a message of reading one file (detection, both passes, names, events, guards: what
    `import --dry-run` does after start-up), the best of three."""
    room = None if path.suffix == ".json" or path.parent.name.endswith(")") else ROOM
    opts = ImportOptions(tz=Settings().tz, not_after=latest_ts(), room=room)
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        read = read_only([path], opts, None).messages
        best = min(best, (time.process_time() - started) / max(read, 1) * 1e6)
    return best


FORMATS = ("2024", "2025", "chatlab", "weflow")
TARGET_RATE, TARGET_MB = 20_000, 300


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--million", action="store_true", help="1,000,000 messages a format")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"some of {','.join(FORMATS)}")
    parser.add_argument("--profile", action="store_true", help="write a cProfile of each import")
    parser.add_argument("--no-backtests", action="store_true")
    parser.add_argument("--readers", action="store_true",
                        help="also time each file's reading alone (import --dry-run), in µs a message")
    args = parser.parse_args()
    count = 1_000_000 if args.million else args.messages
    wanted = [f.strip() for f in args.formats.split(",") if f.strip()]
    work = Path(tempfile.mkdtemp(prefix="qunguan-import-"))
    folder = work / "聊天记录" / f"读书群({ROOM})"
    folder.mkdir(parents=True)
    paths = {"2024": work / "读书群_utf8.csv", "2025": folder / "读书群.csv", "chatlab": work / "读书群.jsonl",
             "weflow": work / "读书群.json"}
    labels = {"2024": "MemoTrace 2024 CSV", "2025": "MemoTrace 2025 CSV", "chatlab": "ChatLab JSONL",
              "weflow": "WeFlow JSON (8 MB avatar)"}
    t = time.perf_counter()
    for fmt in wanted:
        if fmt == "2024":
            n = write_memotrace_csv(group_history(count), paths[fmt])
        elif fmt == "2025":
            n = write_memotrace_2025_csv(group_history(count), paths[fmt], "读书群")
        elif fmt == "chatlab":
            n = write_chatlab_jsonl(group_history(count), paths[fmt], ROOM, "读书群")
        else:
            n = write_weflow_json(group_history(count), paths[fmt], ROOM, "读书群", avatar_bytes=8 << 20)
    print(f"generated {n} messages in each of {len(wanted)} formats in {time.perf_counter() - t:.1f}s ({work})")

    texts = [s.text for s in group_history(min(count, 200_000)) if s.kind == "text"]
    jieba_rate, jieba_cpu_rate = bare_jieba(texts)
    share = len(texts) / min(count, 200_000)
    print(f"bare jieba.lcut over {len(texts)} texts: {jieba_rate:>9,.0f} texts/s "
          f"(= {jieba_rate / share:,.0f} messages/s with media needing none; "
          f"{jieba_cpu_rate:,.0f} texts per CPU-second); {load()}")
    verdicts: list[str] = []
    for fmt in wanted:
        path = paths[fmt]
        db = work / f"{fmt}.db"
        profile = work / f"{fmt}.prof" if args.profile else None
        took, cpu, rss, out = run_import(path, db, profile)
        # The whole process: start-up, jieba's dictionary, both passes over the file, the store.
        rate, cpu_rate, mb = n / took, n / cpu, rss / 1024
        print(f"{labels[fmt]}: {n} messages in {took:.1f}s = {rate:>9,.0f} messages/s "
              f"({cpu_rate:,.0f} per CPU-second), peak RSS {mb:.0f} MB "
              f"({rate / jieba_rate * share:.2f}x bare jieba, {cpu_rate / jieba_cpu_rate * share:.2f}x by CPU); "
              f"{load()}" + (f", profile {profile}" if profile else ""))
        verdicts.append(f"  {labels[fmt]}: {'met' if rate >= TARGET_RATE and mb <= TARGET_MB else 'NOT met'} "
                        f"({rate:,.0f} messages/s, {mb:.0f} MB; {rate / jieba_rate * share:.2f}x bare jieba)")
        if "跳过" in out or "✗" in out:
            print(out)
        if args.readers:
            read_s, read_cpu, read_rss, _ = run_import(path, work / f"{fmt}-dry.db", None, dry_run=True)
            print(f"  reading alone (--dry-run): {read_s:.1f}s = {read_s / n * 1e6:.1f} µs a message "
                  f"of the import's {took / n * 1e6:.1f} ({read_s / took:.0%}; by CPU {read_cpu / n * 1e6:.1f} "
                  f"of {cpu / n * 1e6:.1f} µs), peak RSS {read_rss / 1024:.0f} MB; {load()}")
            print(f"  the readers themselves (in this process, no start-up): {reader_cpu(path):.1f} µs a message "
                  f"by CPU, best of 3; {load()}")
    print(f"targets: at least {TARGET_RATE:,} messages/s and at most {TARGET_MB} MB a format"
          " (at 1M messages, quiet machine), and at least 1.0x bare jieba")
    print("\n".join(verdicts))
    if not args.no_backtests and "2024" in wanted:
        time_backtests(work / "2024.db")


if __name__ == "__main__":
    main()
