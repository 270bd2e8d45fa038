"""The JSONL event contract: what is accepted, and what is refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.events import (
    MAX_LINE,
    MAX_TEXT,
    EventError,
    Join,
    Message,
    Unreadable,
    Visit,
    depth_of,
    event_to_dict,
    latest_ts,
    load_batch,
    load_json,
    parse_event,
)

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


def _msg(**fields) -> dict:
    return {"type": "message", "id": "x", "ts": 1761955200, "sender": "a", "text": "hi"} | fields


# Each of these crashed parse_event (TypeError, OverflowError, ValueError...) or was accepted.
HOSTILE = [
    ({"type": [], "id": "x"}, "未知的事件类型 list"),
    ({"type": {}, "id": "x"}, "未知的事件类型 dict"),
    ({"type": None}, "未知的事件类型"),
    (_msg(ts=10 ** 5000), "超出范围"),
    (_msg(ts=-(10 ** 5000)), "超出范围"),
    (_msg(ts=float("inf")), "超出范围"),
    (_msg(ts=float("nan")), "超出范围"),
    (_msg(ts="0001-01-01T00:00:00+08:00"), "超出范围"),
    (_msg(ts="0001-01-01T00:00:00-08:00"), "超出范围"),
    (_msg(ts="9999-12-31T23:59:59-08:00"), "超出范围"),
    (_msg(ts="9999-12-31T00:00:00+00:00"), "超出范围"),
    (_msg(ts="2099-01-01T00:00:00+08:00"), "超出范围"),
    (_msg(ts="1999-12-31T23:59:59+00:00"), "超出范围"),
    (_msg(ts="2" * 5000), "不是 ISO 8601"),
    (_msg(ts=["2026-11-01"]), "ts 应为"),
    (_msg(text="a\ud800"), "代理字符"),
    (_msg(text="a\x00b"), "空字符"),
    (_msg(sender="wxid_\u200b"), "零宽"),
    (_msg(sender="wxid\na"), "控制字符"),
    (_msg(room="r\u202e1@chatroom"), "控制字符"),
    (_msg(id="m\x01"), "控制字符"),
    (_msg(mentions=["a", 5]), "列表"),
    (_msg(mentions=["a\u200d"]), "零宽"),
    (_msg(mentions=["a"] * 51), "上限 50"),
    (_msg(text=["hi"]), "text 应为字符串"),
    (_msg(text={"a": 1}), "text 应为字符串"),
    ({"type": "visit", "id": "v", "ts": 1761955200, "member": 10 ** 5000}, "member 应为字符串"),
]


@pytest.mark.parametrize(("raw", "reason"), HOSTILE)
def test_hostile_events_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(EventError, match=reason):
        parse_event(raw, not_after=NOW)


def test_the_future_limit_is_the_wall_clock_plus_a_day_by_default():
    soon = datetime.now(UTC) + timedelta(hours=23)
    parse_event(_msg(ts=soon.isoformat()))
    with pytest.raises(EventError, match="超出范围"):
        parse_event(_msg(ts=(soon + timedelta(hours=2)).isoformat()))
    assert latest_ts(NOW, slack_hours=1) == NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 1000 + "]" * 1000, "嵌套太深"),
        ('{"a":' * 1000 + "1" + "}" * 1000, "嵌套太深"),
        ("{" + "1" * 5000, "JSON 格式错误"),
        ("{", "JSON 格式错误"),
        (b"\xff\xfe{}", "UTF-8"),
        ("x" * (MAX_LINE + 1), "太长"),
    ],
)
def test_hostile_json_is_rejected_with_a_reason(text, reason):
    with pytest.raises(EventError, match=reason):
        load_json(text)


def test_huge_integers_become_a_rejected_value_not_a_failed_document():
    assert load_json('{"ts": ' + "9" * 5000 + "}") == {"ts": float("inf")}
    with pytest.raises(EventError, match="超出范围"):
        parse_event(load_json('{"type":"visit","id":"v","member":"a","ts":-' + "9" * 5000 + "}"))


def test_a_batch_too_deep_for_the_parser_is_split_into_its_elements():
    body = '[{"type": "visit"}, ' + "[" * 5000 + "]" * 5000 + ', "a,]\\"", {"x": 1}]'
    first, deep, text, last = load_batch(body, 1 << 20)
    assert first == {"type": "visit"} and text == 'a,]"' and last == {"x": 1}
    assert isinstance(deep, Unreadable) and "嵌套太深" in deep.reason
    assert depth_of({"a": [{"b": [1]}]}) == 4 and depth_of(5) == 0
    with pytest.raises(EventError, match="请求体应为"):
        load_batch("42", 100)


def test_json_with_a_bom_and_deep_text_in_strings_loads():
    assert load_json("\ufeff{}") == {}
    assert load_json('{"text": "' + "[" * 100 + '"}') == {"text": "[" * 100}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
_field_names = st.sampled_from(["type", "id", "ts", "sender", "text", "room", "member", "mentions",
                                "room_name", "sender_name", "kind", "inviter", "source"])
_type_names = st.sampled_from(["message", "join", "leave", "visit", "poke", ""])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_field_names, _json, max_size=10), _type_names, st.booleans())
def test_the_validator_is_total(raw, etype, typed):
    """Whatever arrives, parse_event returns an event or raises EventError, nothing else."""
    if typed:
        raw = {"type": etype, **raw}
    try:
        parse_event(raw, not_after=NOW)
    except EventError as exc:
        assert str(exc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_load_json_is_total(data):
    try:
        load_json(data)
    except EventError as exc:
        assert str(exc)


def _read(data: str | bytes) -> tuple[str, str]:
    """What load_json makes of `data`: the value (its repr: an int is not a float, keys keep their
    order) or the reason it gives."""
    try:
        return "value", repr(load_json(data))
    except EventError as exc:
        return "refused", str(exc)


_any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-(10**60), 10**60) | st.floats()
    | st.text(st.characters(), max_size=12) | st.sampled_from(["\ud800", "\udfff\ud83d", "a\x00", "\ufeff"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abc"), inner, max_size=4),
    max_leaves=12)


@st.composite
def _lines(draw: st.DrawFn) -> bytes:
    """A JSON document as a replay's line holds it, written every way json writes one (NaN, escaped or
    raw text, lone surrogates as escapes or as bytes), nested up to past MAX_DEPTH, then perhaps
    spoilt: a BOM, a byte put in or left out, a number of 39 to 41 digits, something after it."""
    value = draw(_any_json)
    for _ in range(draw(st.integers(0, 9))):
        value = [value] if draw(st.booleans()) else {"k": value}
    text = json.dumps(value, ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    data = text.encode("utf-8", "surrogatepass")
    at = draw(st.integers(0, len(data)))
    spoil = draw(st.sampled_from(["", "bom", "byte", "cut", "digits", "after"]))
    if spoil == "bom":
        data = b"\xef\xbb\xbf" + data
    elif spoil == "byte":
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at:]
    elif spoil == "cut":
        data = data[:at] + data[at + 1 :]
    elif spoil == "digits":
        data = data[:at] + b"-" * draw(st.integers(0, 1)) + b"9" * draw(st.integers(39, 41)) + data[at:]
    elif spoil == "after":
        data += draw(st.sampled_from([b" ", b"\n", b"x", b"{}", b"\r\n"]))
    return data


@settings(max_examples=1500, deadline=None)
@given(_lines())
def test_a_line_of_bytes_is_read_as_its_text_is(data):
    """load_json reads a replay's line (UTF-8 bytes) through msgspec, and text through json: the
    same value, or the same reason, whatever the line holds."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        assert _read(data) == ("refused", f"不是合法的 UTF-8（第 {exc.start + 1} 字节）")
    else:
        assert _read(data) == _read(text)


_ids = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), min_size=1,
               max_size=30).filter(str.strip)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@given(
    id=_ids, sender=_ids, text=st.text(st.characters(blacklist_categories=("Cs",),
                                                     blacklist_characters="\x00"), max_size=200),
    ts=st.integers(min_value=946_684_800, max_value=int(NOW.timestamp())),
    room=st.none() | _ids,
)
def test_any_valid_message_is_read_as_written(id, sender, text, ts, room):
    raw = {"type": "message", "id": id, "ts": ts, "sender": sender, "text": text}
    if room:
        raw["room"] = room
    event = parse_event(raw, not_after=NOW)
    assert isinstance(event, Message)
    assert (event.id, event.sender, event.text, event.room, event.ts.timestamp()) == (
        id, sender, text, room or None, ts)
    assert parse_event(event_to_dict(event), not_after=NOW) == event  # what validate() relies on


def test_a_message_with_every_field_is_the_message_those_fields_make():
    # The parser builds a Message by setting its slots (not through __init__): every field must
    # arrive, and an absent one must take the dataclass's default.
    full = Message(id="m9", ts=NOW - timedelta(hours=1), sender="wxid_a", text="看图", sender_name="Alice",
                   room="r1@chatroom", room_name="读书群", mentions=("wxid_b", "wxid_c"), kind="image",
                   account="wxid_bot", quote_of="m1", quote_sender="wxid_b", qr=("https://u.wechat.com/x",))
    assert parse_event(event_to_dict(full), not_after=NOW) == full
    bare = Message(id="m10", ts=NOW - timedelta(hours=1), sender="wxid_a", text="你好")
    parsed = parse_event(event_to_dict(bare), not_after=NOW)
    assert parsed == bare
    assert (parsed.mentions, parsed.kind, parsed.qr, parsed.room) == ((), "text", (), None)


# Anything a field may hold: printable or not, blank, long, a NUL, lone surrogates, not text at all.
_raw_values = (st.text(max_size=12) | st.text(st.sampled_from(" 　\t\x00\ud800\u200b\u200dA长😀"), max_size=8)
               | st.text(st.sampled_from("ab 长"), min_size=195, max_size=205) | st.integers() | st.none())


def _outcome(read, *args):
    try:
        return ("value", read(*args))
    except EventError as exc:
        return ("refused", str(exc))


@settings(max_examples=400, deadline=None)
@given(id=_raw_values, sender_name=_raw_values)
def test_an_id_and_a_name_are_read_as_the_contracts_checks_read_them(id, sender_name):
    # parse_event reads a plain value in one call (events._reader, _read_name); whatever the
    # value, the outcome is what the full checks (_check_text, clean_name) give.
    from bot.core.events import _check_text, clean_name

    raw = {"type": "message", "id": id, "ts": 1761955200, "sender": "wxid_a", "text": "hi", "sender_name": sender_name}
    got = _outcome(parse_event, raw)
    if id is None:
        assert got == ("refused", "message 事件缺少字段 id")
        return
    checked = _outcome(_check_text, "id", id, 200, True)
    if checked[0] == "refused":
        assert got == checked
    else:
        assert got[0] == "value" and got[1].id == id
        assert got[1].sender_name == clean_name(sender_name)
