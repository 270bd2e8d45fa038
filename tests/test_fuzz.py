"""Hostile input, generated: the event validator, the chat-option parser and every command
handler (as an admin and as an ordinary member) never let an exception escape, and ordinary
members change nothing with manager commands.

The suite runs a few hundred examples each; scripts/fuzz.py runs 10,000 and more
(QUNGUAN_FUZZ_EXAMPLES)."""

from __future__ import annotations

import itertools
import logging
import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.commands import FAILURE, Command
from bot.core.errors import UsageError
from bot.core.events import EventError, Message, parse_event, validate
from bot.wiring import FEATURES
from tests.harness import ADMIN, ROOM, T0, Bot

EXAMPLES = int(os.environ.get("QUNGUAN_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NOW = datetime(2026, 12, 1, tzinfo=UTC)
COMMANDS: list[Command] = [c for f in FEATURES for c in f.commands]
MANAGER_COMMANDS = [c for c in COMMANDS if c.admin or c.operator]

# Pieces people (and attackers) type: option words, numbers, names, quotes, mentions, junk.
HOSTILE_TEXT = ["", " ", "\u2005", "\u3000", "\x00", "\ud800", "\u200b", "\u202e", "\n", "\t", "「", "」",
                '"', "'", "\\", "=", ",", "，", "：", ":", "-1", "0", "99999999999999999999", "1e309",
                "NaN", "@", "@Alice", "@\u2005", "<script>", "%s", "{0}", "../", "群管", "全部", "all"]
WORDS = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(["keyword", "count", "add", "del", "preview", "on", "off", "today", "week", "本周",
                     "lead=yes", "mode=substring", "hits=2", "days=7", "expire=30", "group=阶段",
                     "rooms=读书群", "window=05:00-09:00", "points=10", "+5", "-5", "意向", "潜水",
                     "核心", "exclusive", "normal", "1", "2", "3", "打卡", "Alice 爱丽丝"]),
    st.text(max_size=12),
    st.integers(min_value=-10**6, max_value=10**6).map(str),
)
ARGS = st.lists(WORDS, max_size=8).map(" ".join)


def _raw_values():
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.integers(min_value=10**20, max_value=10**40),
        st.floats(), st.text(max_size=30), st.sampled_from(HOSTILE_TEXT),
        st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.sampled_from(["9999-12-31T23:59:59-08:00", "0001-01-01T00:00:00+08:00", "2026-11-01T08:00:00",
                         "2026-11-01T08:00:00+08:00", "2026-02-30T00:00:00+08:00", "1761955200"]))


VALID = {"type": "message", "id": "m1", "ts": "2026-11-01T08:00:00+08:00", "room": ROOM, "room_name": "读书群",
         "sender": "wxid_a", "sender_name": "Alice", "text": "打卡", "mentions": []}


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Bot:
    return Bot(tmp_path_factory.mktemp("fuzz"))


@FUZZ
@given(changes=st.dictionaries(st.sampled_from([*VALID, "member", "inviter", "source", "kind", "extra"]),
                               _raw_values(), max_size=4),
       drop=st.sets(st.sampled_from(list(VALID)), max_size=2),
       etype=st.sampled_from(["message", "join", "leave", "visit", None]))
def test_the_validator_takes_any_event_and_the_pipeline_any_valid_one(bot, changes, drop, etype):
    raw = {k: v for k, v in {**VALID, **changes}.items() if k not in drop}
    if etype:
        raw["type"] = etype
    raw["id"] = f"fz-{next(_ids)}" if isinstance(raw.get("id"), str) else raw.get("id")
    try:
        event = parse_event(raw, not_after=NOW)
    except EventError as exc:
        assert str(exc)
        return
    bot.pipeline.process([event])  # whatever passed the validator, the store takes


_ids = itertools.count()


@FUZZ
@given(command=st.sampled_from(COMMANDS), text=ARGS,
       mentions=st.lists(st.sampled_from(["wxid_a", "wxid_b", "", "\u200b"]), max_size=3))
def test_the_option_parser_answers_everything_with_options_or_a_usage_error(command, text, mentions):
    try:
        command.options(text, tuple(mentions))
    except UsageError as exc:
        assert str(exc)


def _state(bot: Bot) -> dict[str, list]:
    """Everything a manager command may change (not the message's own traces: its event, the
    counters, the reply, its sender's name)."""
    out = {}
    for table in ("tagrule", "taggroup", "membertag", "pointsentry", "checkintask", "checkin",
                  "checkincards", "roomsettings", "roomoperator", "followuplist", "followupitem",
                  "followuprecord", "keywordhit"):
        out[table] = bot.rows(f"SELECT * FROM {table} ORDER BY 1, 2")
    out["points"] = bot.rows("SELECT id, points FROM member ORDER BY id")
    return out


def _say(bot: Bot, sender: str, text: str, mentions: list[str]) -> list | None:
    """The message as a chat adapter hands it to the app: through the validator first (None
    when it refuses it), then the pipeline."""
    bot.tick(seconds=61)
    event = Message(id=f"fz-{next(_ids)}", ts=bot.clock, sender=sender, text=text[:5000],
                    sender_name=sender, room=ROOM, room_name="读书群", mentions=tuple(m for m in mentions if m))
    try:
        event = validate(event, not_after=NOW + timedelta(days=3650))
    except EventError:
        return None
    return bot.pipeline.process([event])


class _Errors(logging.Handler):
    """ERROR records logged inside the block (a command that failed unexpectedly logs one)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> _Errors:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)


def _words(cmd: Command) -> list[str]:
    return ["/" + cmd.name, *cmd.aliases]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Bot:
    bot = Bot(tmp_path_factory.mktemp("fuzz-cmd"))
    bot.at(T0 - timedelta(days=3))
    for who in ("wxid_a", "wxid_b", ADMIN):
        bot.join(who, name={"wxid_a": "Alice", "wxid_b": "Bob"}.get(who, "群主"))
        bot.say(who, "大家好，我来报到了")
    return bot


@FUZZ
@given(command=st.sampled_from(MANAGER_COMMANDS), word=st.integers(0, 5), text=ARGS,
       mentions=st.lists(st.sampled_from(["wxid_a", "wxid_b", ADMIN]), max_size=2))
def test_ordinary_members_change_nothing_with_manager_commands(seeded, command, word, text, mentions):
    words = _words(command)
    before = _state(seeded)
    with _Errors() as errors:
        replies = _say(seeded, "wxid_b", f"{words[word % len(words)]} {text}", mentions)
    assert _state(seeded) == before
    assert replies is None or (replies and all(FAILURE not in r.text for r in replies))
    assert not errors.records


@FUZZ
@given(command=st.sampled_from(COMMANDS), word=st.integers(0, 5), text=ARGS,
       mentions=st.lists(st.sampled_from(["wxid_a", "wxid_b", ADMIN]), max_size=2))
def test_admin_commands_answer_everything_without_a_failure(seeded, command, word, text, mentions):
    words = _words(command)
    with _Errors() as errors:
        replies = _say(seeded, ADMIN, f"{words[word % len(words)]} {text}", mentions)
    assert all(FAILURE not in r.text for r in replies or ()), [r.text for r in replies or ()]
    assert not errors.records, [r.getMessage() for r in errors.records]
