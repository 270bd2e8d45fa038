#!/usr/bin/env python3
"""Several accounts on one PostgreSQL store: 3 `qunguan serve` processes (one per account),
each fed 50k events through its event API at once, one store.

Each account's events are its own groups' chat plus a group all three share (the same message
ids reach all three, as WeChat gives every account in a group the same id): the store must
end with every distinct event once. Prints events/s for the whole (events posted by all
processes / wall time) and the p50/p95 delay from an event being posted to it being stored
(its batch's answer: the API answers after the commit).

    .venv/bin/python scripts/bench_accounts.py [--events 50000] [--processes 3] [--batch 100]
                                               [--shared 0.2] [--pg postgresql+psycopg2://...]

Without --pg it starts a throwaway PostgreSQL server (tests/pg.py, as the test suite does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests import pg  # noqa: E402  (the suite's throwaway server, shared rather than copied)

TOKEN = "bench-accounts"
T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
WORDS = ["今天读完了第三章", "有人一起跑步吗", "这个课程多少钱", "早上好呀", "分享一个好方法", "谢谢大家的建议"]


def events_of(account: int, n: int, shared: float) -> list[dict]:
    """`n` events as account `account` receives them: its own two groups, and the shared one."""
    out = []
    every = round(1 / shared) if shared else 0
    for i in range(n):
        ts = (T0 + timedelta(seconds=2 * i)).isoformat()
        if every and i % every == 0:  # the shared group: same id whoever hears it
            out.append({"type": "message", "id": f"shared-{i}", "ts": ts, "room": "shared@chatroom",
                        "room_name": "共享群", "sender": f"wxid_s{i % 300}", "text": WORDS[i % len(WORDS)],
                        "account": f"wxid_bot{account}"})
        else:
            room = f"a{account}-r{i % 2}@chatroom"
            out.append({"type": "message", "id": f"a{account}-{i}", "ts": ts, "room": room,
                        "room_name": room.split("@")[0], "sender": f"wxid_a{account}_{i % 500}",
                        "text": WORDS[(i * 7) % len(WORDS)], "account": f"wxid_bot{account}"})
    return out


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, math.ceil(q * len(values)) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def feed(port: int, events: list[dict], batch: int, delays: list[float]) -> int:
    stored = 0
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        for i in range(0, len(events), batch):
            chunk = events[i:i + batch]
            posted = time.perf_counter()
            async with http.post("/api/events", data=json.dumps(chunk, ensure_ascii=False),
                                 headers={"Authorization": f"Bearer {TOKEN}",
                                          "Content-Type": "application/json"}) as r:
                result = await r.json()
                if r.status != 200:
                    raise SystemExit(f"the event API answered {r.status}: {result}")
            took = time.perf_counter() - posted
            delays.extend([took] * len(chunk))
            stored += result["stored"]
    return stored


async def wait_up(port: int, proc: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"qunguan serve exited: {log.read_text()[-2000:]}")
        try:
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/login") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("qunguan serve did not start within 60 s")


async def bench(url: str, args: argparse.Namespace, folder: Path) -> None:
    ports = [free_port() for _ in range(args.processes)]
    procs = []
    for n, port in enumerate(ports):
        env = {**os.environ, "QUNGUAN_DATABASE_URL": url, "QUNGUAN_API_TOKEN": TOKEN}
        log = folder / f"serve{n}.log"
        with log.open("wb") as out:
            procs.append((subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
                                           env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT), log))
    try:
        await asyncio.gather(*(wait_up(port, p, log) for port, (p, log) in zip(ports, procs, strict=True)))
        feeds = [events_of(n, args.events, args.shared) for n in range(args.processes)]
        delays: list[list[float]] = [[] for _ in ports]
        started = time.perf_counter()
        stored = await asyncio.gather(*(feed(port, feeds[n], args.batch, delays[n])
                                        for n, port in enumerate(ports)))
        wall = time.perf_counter() - started
    finally:
        for p, _ in procs:
            p.terminate()
        for p, _ in procs:
            p.wait(10)
    posted = sum(len(f) for f in feeds)
    distinct = len({e["id"] for f in feeds for e in f})
    engine = create_engine(url)
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT count(*) FROM eventlog")).scalar()
        counted = conn.execute(text("SELECT coalesce(sum(messages), 0) FROM dailyactivity")).scalar()
    engine.dispose()
    every = [d for ds in delays for d in ds]
    print(f"{args.processes} processes × {args.events} events (batches of {args.batch}, "
          f"{args.shared:.0%} in a group all share): {posted} posted, {distinct} distinct")
    print(f"whole: {posted / wall:,.0f} events/s posted ({sum(stored) / wall:,.0f} new events/s stored) "
          f"in {wall:.1f} s")
    print(f"event → stored: p50 {statistics.median(every) * 1000:.0f} ms, p95 {percentile(every, 0.95) * 1000:.0f} ms, "
          f"max {max(every) * 1000:.0f} ms")
    for n, ds in enumerate(delays):
        print(f"  process {n}: stored {stored[n]} new, p95 {percentile(ds, 0.95) * 1000:.0f} ms")
    ok = logged == distinct == sum(stored) == counted
    print(f"store: {logged} events logged, {counted} messages counted, expected {distinct}: "
          f"{'OK' if ok else 'MISMATCH'}")
    if not ok:
        raise SystemExit(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per process")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100, help="events per API request")
    parser.add_argument("--shared", type=float, default=0.2, help="share of events in the group all accounts are in")
    parser.add_argument("--pg", help="a PostgreSQL server's URL (default: start a throwaway one)")
    args = parser.parse_args()
    server = None if args.pg else pg.start()
    base = args.pg or (server.url if server else "")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    folder = Path(server.folder if server else "/tmp")
    try:
        asyncio.run(bench(url, args, folder))
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
        if server:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
