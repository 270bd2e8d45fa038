"""The JSONL event contract: what is accepted, and what is refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.events import MAX_TEXT, EventError, Join, Message, Visit, parse_event

CONTRACT = [
    ('{"type":"message","id":"m1","ts":"2026-11-01T08:00:00+08:00","room":"r1@chatroom",'
     '"room_name":"读书群","sender":"wxid_a","sender_name":"Alice","text":"打卡","mentions":[]}'),
    '{"type":"message","id":"m2","ts":1761955200,"sender":"wxid_a","sender_name":"Alice","text":"我的等级"}',
    ('{"type":"join","id":"j1","ts":"2026-11-01T09:00:00+08:00","room":"r1@chatroom",'
     '"member":"wxid_b","member_name":"Bob","inviter":"wxid_a"}'),
    '{"type":"leave","id":"l1","ts":"2026-11-02T09:00:00+08:00","room":"r1@chatroom","member":"wxid_b"}',
    '{"type":"visit","id":"v1","ts":"2026-11-02T10:00:00+08:00","member":"wxid_a","source":"h5"}',
]


def test_design_examples_parse():
    import json

    events = [parse_event(json.loads(line)) for line in CONTRACT]
    m1, m2, j1, _l1, v1 = events
    assert isinstance(m1, Message) and m1.room == "r1@chatroom" and m1.ts == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    assert isinstance(m2, Message) and m2.room is None  # a 1:1 chat
    assert m2.ts == datetime.fromtimestamp(1761955200, UTC)
    assert isinstance(j1, Join) and j1.inviter == "wxid_a"
    assert isinstance(v1, Visit) and v1.source == "h5"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([], "JSON 对象"),
        ({"type": "poke", "id": "x", "ts": 1761955200}, "未知的事件类型"),
        ({"type": "message", "ts": 1761955200, "sender": "a", "text": "hi"}, "缺少字段 id"),
        ({"type": "message", "id": "x", "ts": "yesterday", "sender": "a", "text": "hi"}, "ISO 8601"),
        ({"type": "message", "id": "x", "ts": "2026-11-01T08:00:00", "sender": "a", "text": "hi"}, "缺少时区"),
        ({"type": "message", "id": "x", "ts": 1761955200000, "sender": "a", "text": "hi"}, "毫秒"),
        ({"type": "message", "id": "x", "ts": True, "sender": "a", "text": "hi"}, "ts"),
        ({"type": "message", "id": 5, "ts": 1761955200, "sender": "a", "text": "hi"}, "id 应为字符串"),
        ({"type": "message", "id": "x", "ts": 1761955200, "sender": "a", "text": "长" * (MAX_TEXT + 1)}, "太长"),
        ({"type": "message", "id": "x", "ts": 1761955200, "sender": " ", "text": "hi"}, "不能为空"),
        ({"type": "message", "id": "x", "ts": 1761955200, "sender": "a", "text": "hi", "mentions": "b"}, "列表"),
        ({"type": "join", "id": "x", "ts": 1761955200, "member": "a"}, "缺少字段 room"),
    ],
)
def test_bad_events_say_what_is_wrong(raw, reason):
    with pytest.raises(EventError, match=reason):
        parse_event(raw)


_ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(str.strip)


@given(
    id=_ids, sender=_ids, text=st.text(max_size=200),
    ts=st.integers(min_value=946_684_800, max_value=4_000_000_000),
    room=st.none() | _ids,
)
def test_any_valid_message_is_read_as_written(id, sender, text, ts, room):
    raw = {"type": "message", "id": id, "ts": ts, "sender": sender, "text": text}
    if room:
        raw["room"] = room
    event = parse_event(raw)
    assert isinstance(event, Message)
    assert (event.id, event.sender, event.text, event.room, event.ts.timestamp()) == (
        id, sender, text, room or None, ts)
