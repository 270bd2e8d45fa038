#!/usr/bin/env python3
"""Scoring benchmark on a store of 100k members with 90 days of daily counters and orders:
the day's split values of the types and every member's activity figures of the days before it
and the community's types, stages and grades as of 00:01 (what the daily job computes as the day
begins), typing
every member (all rooms, and room by room), the playbook models (RFM segments, lifecycle stages,
ABCD grades; target together at most 3 s; one room's at most 100 ms), the follow-up list over
every room (at most 1.5 s; with nothing changed since the job, and again after a tenth of the members
spoke through the pipeline, recomputed), 我的等级 (p99 at most 5 ms) and the peak RSS (at most 200 MB), each
figure printed beside its target with the load average.

    .venv/bin/python scripts/bench_scoring.py [--members 100000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bigstore import BENCH_ROOM, build_store

from bot.core.events import Message, parse_event
from bot.core.settings import Settings
from bot.features.followup.service import build_items, operator_rooms
from bot.features.member_types.service import keep_splits, scope_for, type_floor, type_members
from bot.features.points.service import Ledger
from bot.features.segments.service import Playbook, assess, keep_activity, keep_assessment
from bot.store.db import one_pass_cache, open_engine
from bot.wiring import build


def timed(fn, repeat: int = 3) -> tuple[float, float, object]:
    """The median wall time of `repeat` runs (of two, the faster), that run's CPU time (every
    thread of the process: the background read's SQLite time too), and the last result. The
    machine's load is printed beside each figure: on a shared machine the wall time grows with
    it, the CPU time far less."""
    runs, result = [], None
    for _ in range(repeat):
        result = None  # the last run's result goes first: the peak RSS is one run's, not two results at once
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        runs.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = sorted(runs)[(len(runs) - 1) // 2]
    return wall, cpu, result


def load() -> str:
    return f"(load {os.getloadavg()[0]:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="qunguan-scoring-"))
    try:
        scoring(where / "big.db", args.members)
    finally:
        shutil.rmtree(where, ignore_errors=True)  # the 100k store is some 480 MB


def scoring(path: Path, members: int) -> None:
    t = time.perf_counter()
    # Built in a process of its own: the peak RSS printed at the end is the scoring's alone.
    builder = multiprocessing.get_context("spawn").Process(target=build_store, args=(path, members, 500))
    builder.start()
    builder.join()
    if builder.exitcode:
        raise SystemExit(f"building the store failed (exit status {builder.exitcode})")
    settings = Settings(database_url=f"sqlite:///{path}", admins="wxid_000000")
    engine = open_engine(settings.database_url)
    # The bench's own count goes over the whole counters' table once: through the small page cache, as
    # the scoring's own one-pass reads, or its pages (some 60 MB) would stay in the pooled connection's cache.
    with engine.connect() as conn, one_pass_cache(conn):
        rows = conn.exec_driver_sql("SELECT count(*) FROM dailyactivity").scalar()
        n_rooms = conn.exec_driver_sql("SELECT count(*) FROM room").scalar()
    print(f"store: {members} members, {n_rooms} rooms, {rows:,} daily counter rows "
          f"(built in {time.perf_counter() - t:.1f}s)")
    pipeline, deps = build(settings, engine)
    at = datetime.fromisoformat("2026-11-21T09:00:00+08:00")

    with engine.begin() as conn:
        took, cpu, rooms = timed(lambda: keep_splits(conn, at, settings.window_days), repeat=1)
        print(f"the day's split values of {rooms} scopes (the daily job, once a day): {took:.2f}s "
              f"[CPU {cpu:.2f}s] {load()}")
    with engine.begin() as conn:  # the same job's second part: what the list and the playbook read
        took, cpu, kept = timed(lambda: keep_activity(conn, at.date(), deps.service(Playbook), settings.window_days),
                                repeat=1)
        print(f"the activity figures of the days before today of {kept:,} members (the same daily job): "
              f"{took:.2f}s [CPU {cpu:.2f}s] {load()}")
    with engine.begin() as conn:  # its third part: the assessment the list takes for members unchanged since
        job = at.replace(hour=0, minute=1)
        took, cpu, kept = timed(lambda: keep_assessment(conn, job, deps.service(Playbook), deps.service(Ledger).levels,
                                                        settings.window_days, type_floor(settings)), repeat=1)
        print(f"the types, stages and grades of {kept:,} members as of 00:01 (the same daily job): "
              f"{took:.2f}s [CPU {cpu:.2f}s] {load()}")
    with engine.connect() as conn:
        took, cpu, typed = timed(lambda: type_members(conn, at, scope_for(conn, at, None, 30)))
        print(f"type all {len(typed):,} members (all rooms, 30-day window): {took:.2f}s [CPU {cpu:.2f}s] {load()}")
        took, _, typed = timed(lambda: type_members(conn, at, scope_for(conn, at, BENCH_ROOM, 30)))
        print(f"type one room of {len(typed)} members: {took * 1000:.0f} ms {load()}")
        n_orders = conn.exec_driver_sql("SELECT count(*) FROM purchase").scalar()
        took, cpu, found = timed(lambda: assess(conn, at, None, deps.service(Playbook), deps.service(Ledger).levels))
        print(f"RFM segments + lifecycle stages + grades of all {len(found.rfm):,} members "
              f"({n_orders:,} orders, 90-day RFM window): {took:.2f}s [CPU {cpu:.2f}s] (target ≤ 3 s) {load()}")
        took, _, found = timed(lambda: assess(conn, at, BENCH_ROOM, deps.service(Playbook),
                                              deps.service(Ledger).levels))
        print(f"the same for one room of {len(found.rfm)} members: {took * 1000:.0f} ms (target ≤ 100 ms) {load()}")
        rooms = operator_rooms(conn, ["wxid_000000"])["wxid_000000"]
        took, cpu, day = timed(lambda: build_items(conn, deps, at, rooms), repeat=2)
        items = day.items
        print(f"follow-up list over all {len(rooms)} rooms ({len(items):,} items), no member changed since the "
              f"job: {took:.2f}s [CPU {cpu:.2f}s] (target ≤ 1.5 s) {load()}")
    me_latency(pipeline, at)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the scoring (the store built in another process) {rss:.0f} MB (target ≤ 200 MB) {load()}")
    engine.dispose()  # before its file goes
    # In a process of its own (the pipeline's tokenizer would count in the peak RSS above).
    day = multiprocessing.get_context("spawn").Process(target=list_after_a_day, args=(path, 10))
    day.start()
    day.join()


def list_after_a_day(path: Path, share: int) -> None:
    """The follow-up list after every `share`th member of the rooms said something this morning,
    through the pipeline: the members the list recomputes on a typical day, not none."""
    settings = Settings(database_url=f"sqlite:///{path}", admins="wxid_000000")
    engine = open_engine(settings.database_url)
    pipeline, deps = build(settings, engine)
    at = datetime.fromisoformat("2026-11-21T09:00:00+08:00")
    with engine.connect() as conn:
        speakers = list(conn.exec_driver_sql("SELECT member, room FROM membership WHERE active ORDER BY member"))
    speakers = speakers[::share]
    for i in range(0, len(speakers), 500):
        pipeline.process([parse_event({
            "type": "message", "id": f"day-{i + j}", "ts": at.replace(hour=8, minute=(i + j) % 60).isoformat(),
            "room": room, "sender": member, "text": "早上好，今天也来读书"}) for j, (member, room) in
            enumerate(speakers[i : i + 500])], silent=True)
    with engine.connect() as conn:
        rooms = operator_rooms(conn, ["wxid_000000"])["wxid_000000"]
        took, cpu, day = timed(lambda: build_items(conn, deps, at, rooms), repeat=2)
        print(f"the same list after {len(speakers):,} members (1 in {share}) spoke this morning, each recomputed: "
              f"{took:.2f}s [CPU {cpu:.2f}s] ({len(day.items):,} items) {load()}")
    engine.dispose()


def me_latency(pipeline, at: datetime, n: int = 200) -> None:
    """我的等级 as a member sends it, each its own batch as live: in the room and 1:1."""
    for room in (BENCH_ROOM, None):
        times = []
        for i in range(n):
            msg = Message(id=f"me-{room}-{i}", ts=at.replace(second=i % 60, minute=i // 60),
                          sender=f"wxid_{i * 7 % 500:06d}", text="我的等级", room=room)
            t = time.perf_counter()
            replies = pipeline.process_batch([msg])
            times.append(time.perf_counter() - t)
            assert replies and "积分" in replies[0].text, replies
        times.sort()
        p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99) - 1]
        where = "in the room of 500" if room else "1:1"
        print(f"我的等级 {where}: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (target p99 ≤ 5 ms) {load()}")


if __name__ == "__main__":
    main()
