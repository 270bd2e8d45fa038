#!/usr/bin/env python3
"""Two-writer soak: two `qunguan replay`s of one community into one store at the same time must
end where one replay ends: the same counts, points, caps, tags and outbox, and every reply
sent exactly once between them.

On SQLite (always) and on PostgreSQL when `--pg URL` names a server (each run gets fresh
schemas there). Exits 1 on any mismatch.

    .venv/bin/python scripts/soak_writers.py [--events 20000] [--seed 2] [--pg postgresql+psycopg2://...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
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
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url


def pg_schema(base: str, name: str) -> tuple[str, str]:
    """A fresh schema on the server at `base`: (its URL, its name)."""
    schema = f"soak_{name}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schemas(base: str, schemas: list[str]) -> None:
    engine = create_engine(base)
    with engine.begin() as conn:
        for s in schemas:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
    engine.dispose()


def run(label: str, one: str, two: str, path: Path, folder: Path, admins: list[str]) -> int:
    """One writer into `one`, two at once into `two`; returns the number of problems."""
    single = folder / f"{label}-single.jsonl"
    a, b = folder / f"{label}-a.jsonl", folder / f"{label}-b.jsonl"
    for f in (single, a, b):
        f.unlink(missing_ok=True)
    t = time.perf_counter()
    proc = replay(path, one, single, admins)
    _, err = proc.communicate()
    if proc.returncode != 0:
        print(f"{label}: single replay failed: {err.decode()[-2000:]}", file=sys.stderr)
        return 1
    one_time = time.perf_counter() - t
    t = time.perf_counter()
    procs = [replay(path, two, a, admins), replay(path, two, b, admins)]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            print(f"{label}: a concurrent replay failed: {err.decode()[-2000:]}", file=sys.stderr)
            return 1
    two_time = time.perf_counter() - t
    first, second = snapshot(one, admins), snapshot(two, admins)
    found = mismatches(first, second)
    sent = delivery(read_replies(single), read_replies(a, b), second["unknown"])
    total = sum(found.values())
    split = (sum(read_replies(a).values()), sum(read_replies(b).values()))
    print(f"{label}: one writer {one_time:.1f} s, two writers {two_time:.1f} s; "
          f"members {len(first['report'])}, speaking points "
          f"{sum(int(r[3]) * n for r, n in first['ledger'].items() if r[4] == 'speaking')}")
    print(f"{label}: mismatches: " + ", ".join(f"{k} {v}" for k, v in found.items()) + f" — total {total}")
    print(f"{label}: replies: " + ", ".join(f"{k} {v}" for k, v in sent.items())
          + f" (sent by the two writers: {split[0]} + {split[1]})")
    if total or sent["duplicated"] or sent["lost"] or sent["unknown"]:
        for line in first_differences(first, second):
            print("  " + line[:300])
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--pg", help="a PostgreSQL server URL to soak on too")
    p.add_argument("--dir", type=Path)
    args = p.parse_args(argv)
    started = time.perf_counter()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="qunguan-writers-"))
    folder.mkdir(parents=True, exist_ok=True)
    events, admins = community(args.events, args.seed)
    path = folder / "events.jsonl"
    write_events(path, events)
    print(f"[{stamp()}] {len(events)} events in {path}", flush=True)
    for f in ("one.db", "two.db"):
        for suffix in ("", "-wal", "-shm"):
            (folder / (f + suffix)).unlink(missing_ok=True)
    problems = run("sqlite", f"sqlite:///{folder / 'one.db'}", f"sqlite:///{folder / 'two.db'}", path,
                   folder, admins)
    if args.pg:
        (one, s1), (two, s2) = pg_schema(args.pg, "one"), pg_schema(args.pg, "two")
        try:
            problems += run("postgresql", one, two, path, folder, admins)
        finally:
            drop_schemas(args.pg, [s1, s2])
    print(f"wall time: {time.perf_counter() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
