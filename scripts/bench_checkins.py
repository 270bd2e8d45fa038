"""How fast check-ins are recognised: `recognise` over the table of tests/checkin_lines.py, and a
day of 40 versions of one 接龙 parsed and compared (prints its figures with the load average).

    .venv/bin/python scripts/bench_checkins.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.checkin_lines import LINES, NAMES, TRIGGERS
from tiers import jielong
from tiers.checkin import recognise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="times the table is read")
    args = parser.parse_args()
    lines = [line for line, _, _ in LINES] * args.repeat
    start = time.perf_counter()
    for line in lines:
        recognise(line, TRIGGERS, NAMES)
    took = time.perf_counter() - start
    print(f"recognise: {len(lines)} lines in {took:.3f} s = {len(lines) / took:,.0f} lines/s")
    entries = [f"成员{i:02d} 打卡第{i + 1}天 深蹲{i}个" for i in range(40)]
    header = "@班长 打卡#接龙\n\n12月2日打卡\n例 打卡第n天 内容\n\n"
    versions = [header + "\n".join(f"{k}. {e}" for k, e in enumerate(entries[:n], 1)) for n in range(1, 41)]
    start = time.perf_counter()
    previous = None
    for n, text in enumerate(versions):
        current = jielong.parse(text)
        assert current is not None and jielong.senders_entry(previous, current, [f"成员{n:02d}"]) is not None
        previous = current
    print(f"接龙: 40 versions of a 40-entry list parsed and compared in {(time.perf_counter() - start) * 1000:.1f} ms")
    print(f"(load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
