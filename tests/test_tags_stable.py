"""Tags are a function of the events alone: two clean runs give the same tag rows, and runs cut
into different batches (one event per batch as the live bot does, a few, the bulk size) give
the same tags, counts and hits. Holds the fixes of the statement cache (keyed by the statement,
not its id) and of count rules that must not restart with each batch.

(A count tag's `at`/`since` still depend on the batching: a count rule is evaluated when a
batch flushes, so bulk replay stamps it at the batch's end. Compared apart below.)"""

from __future__ import annotations

import gc

from sqlalchemy import text

from bot.core.events import parse_event
from bot.core.settings import Settings
from bot.demo.run import EXAMPLE_CONFIG
from bot.demo.sample import generate_community
from bot.wiring import build
from tests.harness import NOT_AFTER

RULES = ["/rule add keyword 读书 读书,看书,读完 hits=2 days=7", "/rule add count 话唠 8 7"]


def community() -> list[dict]:
    events = generate_community(seed=11, members=40, days=12)
    host = max({e["sender"] for e in events if e["type"] == "message"},
               key=lambda m: sum(e.get("sender") == m for e in events))
    for i, rule in enumerate(RULES):
        at = events[len(events) * (i + 1) // 3]
        events.insert(len(events) * (i + 1) // 3, {"type": "message", "id": f"rule-{i}", "ts": at["ts"],
                                                    "room": "r1@chatroom", "sender": host, "text": rule})
    return events


def tags_after(tmp_path, name: str, events: list[dict], batch: int, admin: str) -> dict[str, list]:
    gc.collect()  # frees the last run's statements: a cache keyed by id() would see reused ids
    settings = Settings(database_url=f"sqlite:///{tmp_path / name}.db", admins=admin, config=EXAMPLE_CONFIG)
    pipeline, deps = build(settings)
    parsed = [parse_event(e, not_after=NOT_AFTER) for e in events]
    for i in range(0, len(parsed), batch):
        pipeline.process(parsed[i:i + batch])
    with deps.engine.connect() as conn:
        out = {
            "tags": [tuple(r) for r in conn.execute(text(
                "SELECT member, tag, source, rule_id, keyword, message_id, count, days, at, since, expires_at "
                "FROM membertag ORDER BY member, tag"))],
            "hits": [tuple(r) for r in conn.execute(text(
                "SELECT member, rule_id, ts, message_id FROM keywordhit ORDER BY message_id, rule_id"))],
            "counted": [tuple(r) for r in conn.execute(text(
                "SELECT member, room, day, messages, counted FROM dailyactivity ORDER BY 1, 2, 3"))],
        }
    deps.engine.dispose()
    return out


def test_tags_are_the_same_in_two_clean_runs_and_in_any_batching(tmp_path):
    events = community()
    admin = next(e["sender"] for e in events if e["id"] == "rule-0")
    first = tags_after(tmp_path, "first", events, 300, admin)
    assert len(first["tags"]) > 20 and any(t[1] == "话唠" for t in first["tags"])
    assert any(t[1] == "读书" for t in first["tags"])
    assert tags_after(tmp_path, "second", events, 300, admin) == first
    for name, batch in (("small", 7), ("live", 1)):
        other = tags_after(tmp_path, name, events, batch, admin)
        assert other["hits"] == first["hits"] and other["counted"] == first["counted"]
        assert [t[:8] for t in other["tags"]] == [t[:8] for t in first["tags"]]
