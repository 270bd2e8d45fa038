"""What the benchmarks share: the load average beside every figure, and the rate of bare
python-jieba (`jieba.lcut`), the floor ingest is measured against."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import jieba


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def bare_jieba(texts: Sequence[str]) -> tuple[float, float]:
    """Texts per second of bare `jieba.lcut` over `texts`, by the wall clock and per CPU-second
    (the second barely moves with the machine's load)."""
    jieba.setLogLevel(60)
    jieba.initialize()
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        jieba.lcut(text)
    return len(texts) / (time.perf_counter() - started), len(texts) / (time.process_time() - cpu)
