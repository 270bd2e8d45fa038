#!/usr/bin/env python3
"""Web console benchmark over real loopback HTTP.

Builds a store of 100k members with 90 days of daily counters (bulk inserts straight into
the tables), one room of 500 members in it, starts the real web server, then prints the
median and p95 time of the room page and of the members page for that room, and the event
API's events/s for batches of 1000 visits.

    .venv/bin/python scripts/bench_web.py [--members 100000] [--room-size 500] [--requests 50]
                                          [--batches 20] [--store PATH]

Targets: p95 under 200 ms for both pages; at least 5000 events/s for the API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from bigstore import BENCH_ROOM, DAYS, TZ, build_store

from bot.core.settings import Settings
from bot.web.app import start_server
from bot.wiring import FEATURES, build

TOKEN = "bench-token"
PASSWORD = "bench-password"


def summary(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]  # nearest rank
    return statistics.median(times) * 1000, p95 * 1000


async def run(path: Path, requests: int, batches: int) -> None:
    settings = Settings(database_url=f"sqlite:///{path}", api_token=TOKEN, web_password=PASSWORD)
    pipeline, deps = build(settings)
    runner = await start_server(pipeline, deps, FEATURES, host="127.0.0.1", port=0)
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get("/login") as r:
                text = await r.text()
            csrf = text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            async with http.post("/login", data={"password": PASSWORD, "csrf": csrf},
                                 allow_redirects=False) as r:
                assert r.status == 303, await r.text()
            for label, url in (("room page", f"/rooms/{BENCH_ROOM}"),
                               ("members page", f"/members?room={BENCH_ROOM}")):
                times = []
                for i in range(requests + 3):
                    started = time.perf_counter()
                    async with http.get(url) as r:
                        body = await r.read()
                        assert r.status == 200, body[:500]
                    if i >= 3:  # the first requests warm caches and the SQLite page cache
                        times.append(time.perf_counter() - started)
                median, p95 = summary(times)
                print(f"{label:13s} ({len(body) // 1024} KiB): median {median:.1f} ms, "
                      f"p95 {p95:.1f} ms over {requests} requests")

            at = datetime(2026, 11, 21, 9, tzinfo=TZ)
            total = 0
            started = time.perf_counter()
            for b in range(batches):
                events = [{"type": "visit", "id": f"bench-v{b}-{i}",
                           "ts": (at + timedelta(seconds=i)).isoformat(),
                           "member": f"wxid_{(b * 1000 + i) % 100_000:06d}", "source": "h5"}
                          for i in range(1000)]
                async with http.post("/api/events", data=json.dumps(events),
                                     headers={"Authorization": f"Bearer {TOKEN}",
                                              "Content-Type": "application/json"}) as r:
                    result = await r.json()
                    assert r.status == 200, result
                total += result["stored"]
            took = time.perf_counter() - started
            print(f"event API: {total} visits in {batches} batches of 1000: "
                  f"{total / took:,.0f} events/s")
    finally:
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--room-size", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--store", type=Path, help="keep the store here and reuse it next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.store or Path(tmp) / "bench.db"
        if not path.exists():
            started = time.perf_counter()
            build_store(path, args.members, args.room_size)
            print(f"store: {args.members} members, {DAYS} days of counters, room of "
                  f"{args.room_size}: built in {time.perf_counter() - started:.1f} s")
        asyncio.run(run(path, args.requests, args.batches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
