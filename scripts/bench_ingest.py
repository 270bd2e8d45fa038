#!/usr/bin/env python3
"""Ingest benchmark: 200k Chinese chat messages replayed silently into a fresh SQLite file.

Prints messages/s of the real replay path (JSONL parse, pipeline, batched writes) next to
the rate of bare `jieba.lcut` over the same texts in the same run: with the example
config's rules, with 500 keyword rules of topical words, and with 500 rules of the most
common words (a stress test: nearly every message then needs tokenizing).

    .venv/bin/python scripts/bench_ingest.py [--messages 200000]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import jieba
from bench_common import bare_jieba, load

from bot.adapters.file import FileAdapter
from bot.core.settings import Settings
from bot.demo.run import EXAMPLE_CONFIG
from bot.demo.sample import generate_messages, write_jsonl
from bot.wiring import build


def rule_words(n: int, *, common: bool, seed: int = 5) -> list[str]:
    """2–4 character words from jieba's own dictionary. Topical words (frequency 100–3000,
    like 退款, 报名, 发票) are what managers pick; the most common words (frequency ≥ 3000,
    like 我们, 时候) are a stress test: nearly every message contains one."""
    dict_path = Path(jieba.__file__).with_name("dict.txt")
    words = []
    with open(dict_path, encoding="utf-8") as fh:
        for line in fh:
            word, freq, *_ = line.split()
            f = int(freq)
            if 2 <= len(word) <= 4 and ((f >= 3000) if common else (100 <= f < 3000)):
                words.append(word)
    random.Random(seed).shuffle(words)
    return words[:n]


def write_rules_config(path: Path, n_rules: int, *, common: bool = False) -> None:
    words = rule_words(n_rules * 3, common=common)
    lines = [EXAMPLE_CONFIG.read_text(encoding="utf-8")]
    rng = random.Random(9)
    for i in range(n_rules):
        kws = ",".join(words[i * 3 : i * 3 + rng.randint(2, 3)])
        mode = " mode=substring" if i % 5 == 0 else ""
        lines.append(f'[[tag_rules]]\nrule = "keyword 标签{i} {kws}{mode}"\n')
    path.write_text("\n".join(lines), encoding="utf-8")


def replay(events: Path, db: Path, config: Path) -> tuple[float, float, int]:
    """Seconds and CPU seconds of replaying `events` silently, and the events stored."""
    settings = Settings(database_url=f"sqlite:///{db}", config=config)
    pipeline, _ = build(settings)  # loads jieba and adds the rule words: not timed

    started, cpu = time.perf_counter(), time.process_time()
    adapter = FileAdapter(events)
    pipeline.process(adapter.read(), silent=True)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    with pipeline.engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM eventlog").scalar()
    return took, cpu, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qunguan-bench-"))
    events = work / "events.jsonl"
    t = time.perf_counter()
    write_jsonl(generate_messages(args.messages, seed=1), events)
    print(f"generated {args.messages} messages in {time.perf_counter() - t:.1f}s ({events})")
    texts = [json.loads(line)["text"] for line in events.open(encoding="utf-8")]

    jieba_rate, jieba_cpu = bare_jieba(texts)
    print(f"bare jieba.lcut:              {jieba_rate:>9,.0f} messages/s ({jieba_cpu:,.0f} per CPU-second); {load()}")

    topical, common = work / "rules500.toml", work / "rules500-common.toml"
    write_rules_config(topical, 500)
    write_rules_config(common, 500, common=True)
    runs = (("example rules (3)", EXAMPLE_CONFIG), ("500 topical rules", topical),
            ("500 common-word rules", common))
    results = {}
    for label, config in runs:
        took, cpu, n = replay(events, work / f"{len(results)}.db", config)
        assert n == len(texts), (n, len(texts))
        rate = n / took
        results[label] = rate
        print(f"replay, {label:<22} {rate:>9,.0f} messages/s  ({took:.1f}s, {n / cpu:,.0f} per CPU-second; "
              f"{rate / jieba_rate:.2f}x bare jieba, {n / cpu / jieba_cpu:.2f}x by CPU); {load()}")
    base = results["example rules (3)"]
    ratio = base / jieba_rate
    print(f"target: replay with the example rules at least 1.0x bare jieba: "
          f"{'met' if ratio >= 1.0 else 'NOT met'} ({ratio:.2f}x)")
    for label in ("500 topical rules", "500 common-word rules"):
        print(f"slowdown with {label}: {1 - results[label] / base:.1%}")


if __name__ == "__main__":
    main()
