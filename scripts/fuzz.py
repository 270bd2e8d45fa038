#!/usr/bin/env python3
"""Fuzz soak: tests/test_fuzz.py with many more generated examples than the suite runs (the
event validator and the pipeline behind it, the chat-option parser, every command as an admin
and as an ordinary member). Prints how many examples each property ran and how long it took.

    .venv/bin/python scripts/fuzz.py [--examples 10000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=10_000)
    args = p.parse_args(argv)
    started = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py",
         "--hypothesis-show-statistics"],
        cwd=ROOT, env={**os.environ, "QUNGUAN_FUZZ_EXAMPLES": str(args.examples)},
        capture_output=True, text=True)
    took = time.perf_counter() - started
    for line in res.stdout.splitlines():
        if re.match(r"tests/test_fuzz.py::", line) or "passing examples" in line or "failing" in line \
                or "Stopped because" in line or re.search(r"\d+ (passed|failed)", line):
            print(line.strip())
    if res.returncode:
        print(res.stdout[-6000:])
        print(res.stderr[-2000:], file=sys.stderr)
    print(f"wall time: {took:.0f} s")
    return res.returncode


if __name__ == "__main__":
    sys.exit(main())
