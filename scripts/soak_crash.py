#!/usr/bin/env python3
"""Crash soak: a replay killed with SIGKILL at random moments, restarted until it completes,
must end exactly where a clean replay ends, and send no reply twice and lose none.

Generates a community (joins, leaves, visits, check-ins, members' commands, an admin changing
tag rules mid-stream, redeliveries), replays it once cleanly, then replays it into a second
store, killing the replay after a random time (seeded) until `--kills` kills have landed,
and lets it finish. Compares every member's report fields (tags and tag reasons included)
and every table a replay writes (ledger, counters, check-ins, tags, hits, rules, event log,
outbox); counts replies duplicated (sent more often than queued) and lost (neither sent nor
marked unknown). Exits 1 on any mismatch.

    .venv/bin/python scripts/soak_crash.py [--events 50000] [--kills 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from soak_common import (
    community,
    delivery,
    first_differences,
    mismatches,
    read_replies,
    replay,
    snapshot,
    stamp,
    write_events,
)


def stored(db: Path) -> int:
    """Events the crash store holds so far (read beside the running replay: WAL allows it)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM eventlog").fetchone()[0]
    except sqlite3.Error:
        return 0  # not created yet, or locked for a moment


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="qunguan-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    events, admins = community(args.events, args.seed)
    path = folder / "events.jsonl"
    write_events(path, events)
    print(f"[{stamp()}] {len(events)} events ({sum(e['type'] == 'message' for e in events)} messages) "
          f"in {path}", flush=True)

    clean_db, crash_db = folder / "clean.db", folder / "crash.db"
    clean_replies, crash_replies = folder / "clean-replies.jsonl", folder / "crash-replies.jsonl"
    for f in (clean_db, crash_db, clean_replies, crash_replies):
        f.unlink(missing_ok=True)
    t = time.perf_counter()
    proc = replay(path, f"sqlite:///{clean_db}", clean_replies, admins)
    _, err = proc.communicate()
    clean_time = time.perf_counter() - t
    if proc.returncode != 0:
        print(f"clean replay failed ({proc.returncode}): {err.decode()[-2000:]}", file=sys.stderr)
        return 1
    print(f"[{stamp()}] clean replay: {clean_time:.1f} s", flush=True)

    # Each kill aims at a point of the stream: the k-th of n waits until about k/(n+1) of the
    # events are stored (plus a random delay), and the last tenth of the kills wait for all of
    # them, to land while the replies are being sent. So the kills spread over the whole
    # replay, the replies included, however long each restart spends skipping what is done.
    total = len({e["id"] for e in events})
    rng = random.Random(args.seed)
    targets = sorted(min(1.0, rng.uniform(0.0, 1.1)) for _ in range(args.kills))
    kills = runs = 0
    t = time.perf_counter()
    while True:
        runs += 1
        proc = replay(path, f"sqlite:///{crash_db}", crash_replies, admins)
        if kills < args.kills:
            goal = int(targets[kills] * total)
            while proc.poll() is None and stored(crash_db) < goal:
                time.sleep(0.05)
            time.sleep(rng.uniform(0, 1.0 if goal >= total else 0.3))
            if proc.poll() is None:
                proc.kill()  # SIGKILL
                proc.wait()
                kills += 1
                if kills % 10 == 0:
                    print(f"[{stamp()}] {kills} kills, {stored(crash_db)} of {total} events stored",
                          flush=True)
                continue
        _, err = proc.communicate()
        if proc.returncode != 0:
            print(f"replay exited {proc.returncode}: {err.decode()[-2000:]}", file=sys.stderr)
            return 1
        if kills >= args.kills:
            break
    crash_time = time.perf_counter() - t

    clean, crashed = snapshot(f"sqlite:///{clean_db}", admins), snapshot(f"sqlite:///{crash_db}", admins)
    found = mismatches(clean, crashed)
    sent = delivery(read_replies(clean_replies), read_replies(crash_replies), crashed["unknown"])
    total = sum(found.values())
    print(f"kills: {kills} in {runs} runs ({crash_time:.0f} s); members: {len(clean['report'])}; "
          f"tag rows: {sum(len(r.get('tags', [])) for r in clean['report'].values())}; "
          f"ledger rows: {sum(clean['ledger'].values())}")
    print("mismatches: " + ", ".join(f"{k} {v}" for k, v in found.items()) + f" — total {total}")
    print("replies: " + ", ".join(f"{k} {v}" for k, v in sent.items()))
    print(f"outbox status after the crashes: {dict(crashed['status'])}")
    print(f"wall time: {time.perf_counter() - started:.0f} s")
    if total or sent["duplicated"] or sent["lost"]:
        for line in first_differences(clean, crashed):
            print("  " + line[:300])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
