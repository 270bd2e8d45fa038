"""The sample community generator: contract, determinism, and that personas show up."""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.events import parse_event, parse_ts
from bot.demo.sample import (
    ODD_NICKNAMES,
    PRICE_QUESTIONS,
    generate_community,
    generate_messages,
    main,
    write_jsonl,
)

START = date(2026, 10, 25)
DAYS = 30
SHANGHAI = ZoneInfo("Asia/Shanghai")
PREFIX = {"order": "o", "message": "m", "join": "j", "leave": "l", "visit": "v"}


@pytest.fixture(scope="module")
def community() -> list[dict]:
    return generate_community()


def local_day(event: dict) -> date:
    return parse_ts(event["ts"]).astimezone(SHANGHAI).date()


def in_month(events: list[dict]) -> list[dict]:
    return [e for e in events if local_day(e) >= START]


def is_checkin(event: dict) -> bool:
    return event["type"] == "message" and event.get("room") and event["text"] in ("打卡", "签到")


def streaks(days: set[date]) -> list[int]:
    """Lengths of the runs of consecutive days, in order."""
    runs: list[int] = []
    prev = None
    for d in sorted(days):
        if prev is not None and d - prev == timedelta(days=1):
            runs[-1] += 1
        else:
            runs.append(1)
        prev = d
    return runs


def assert_well_formed(events: list[dict]) -> None:
    """Contract, unique ids, order, and membership: nobody speaks in a room they are not in."""
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids)
    stamps = [parse_ts(e["ts"]) for e in events]
    assert stamps == sorted(stamps)
    inside: set[tuple[str, str]] = set()
    for e in events:
        parse_event(json.loads(json.dumps(e, ensure_ascii=False)))
        assert e["id"].startswith(PREFIX[e["type"]]) and e["id"][1:].isdigit()
        if e["type"] == "join":
            inside.add((e["room"], e["member"]))
        elif e["type"] == "leave":
            inside.remove((e["room"], e["member"]))
        elif e["type"] == "message" and "room" in e:
            assert (e["room"], e["sender"]) in inside, e


def test_every_event_follows_the_contract(community):
    assert len(community) > 5000
    assert_well_formed(community)
    for e in community:
        assert e["ts"].endswith("+08:00")


def test_same_seed_same_community_other_seed_other_community(community):
    assert generate_community() == community
    assert generate_community(seed=8) != community


def test_month_events_fall_on_the_month_and_the_roster_comes_before():
    events = generate_community(members=60, days=10)
    for e in events:
        if local_day(e) < START:
            assert e["type"] in ("join", "order")  # the roster joined, and some bought, before the month
        else:
            assert local_day(e) < START + timedelta(days=10)


def test_all_four_event_types_with_their_fields(community):
    kinds = Counter(e["type"] for e in community)
    assert kinds["message"] > kinds["visit"] > kinds["join"] > kinds["leave"] > 0
    assert {e["source"] for e in community if e["type"] == "visit"} == {"h5", "app", "mini"}
    rooms = {e["room"]: e["room_name"] for e in community if e["type"] == "join"}
    assert rooms == {
        "r1@chatroom": "读书群", "r2@chatroom": "早起打卡营", "r3@chatroom": "课程答疑群"}
    members = {e["member"] for e in community if e["type"] == "join"}
    assert len(members) == 300
    assert all(m.startswith("wxid_") for m in members)


def test_newcomers_join_by_invitation_and_some_never_speak(community):
    month = in_month(community)
    joins = [e for e in month if e["type"] == "join"]
    assert len(joins) >= 20
    assert sum("inviter" in e for e in joins) > len(joins) / 2
    speakers = {e["sender"] for e in month if e["type"] == "message"}
    silent = {e["member"] for e in joins} - speakers
    assert len(silent) >= 10
    last_days = {START + timedelta(days=d) for d in range(DAYS - 3, DAYS)}
    assert any(local_day(e) in last_days and e["member"] in silent for e in joins)
    greetings = [e for e in month if e["type"] == "message" and "大家好" in e["text"]]
    assert greetings


def test_some_members_leave_and_are_quiet_there_afterwards(community):
    leaves = [e for e in community if e["type"] == "leave"]
    assert len(leaves) >= 5
    # assert_well_formed checks no one speaks in a room after leaving; here: one came and went.
    joined_in_month = {e["member"] for e in in_month(community) if e["type"] == "join"}
    assert any(e["member"] in joined_in_month for e in leaves)


def test_personas_make_the_four_member_types(community):
    login_days: dict[str, set[date]] = defaultdict(set)
    said: Counter[str] = Counter()
    for e in in_month(community):
        who = e.get("sender") or e.get("member")
        if e["type"] in ("message", "visit"):
            login_days[who].add(local_day(e))
        if e["type"] == "message" and not is_checkin(e):
            said[who] += 1
    members = {e["member"] for e in community if e["type"] == "join"}
    types = Counter()
    for m in members:
        days, n = len(login_days[m]), said[m]
        if days >= 20 and n >= 50:
            types["core"] += 1
        elif days >= 15 and n <= 5:
            types["lurker"] += 1
        elif days <= 8 and n >= 25:
            types["burst"] += 1
        elif days <= 3 and n <= 2:
            types["dormant"] += 1
    assert types["core"] >= 25
    assert types["lurker"] >= 35
    assert types["burst"] >= 25
    assert types["dormant"] >= 120
    visits = Counter(e["member"] for e in community if e["type"] == "visit")
    assert visits.most_common(1)[0][1] >= 30


def test_checkins_make_streaks_and_broken_streaks(community):
    checkins = [e for e in community if is_checkin(e)]
    assert len(checkins) > 1000
    assert {e["text"] for e in checkins} == {"打卡", "签到"}
    per_day = Counter((e["sender"], local_day(e)) for e in checkins)
    doubles = sum(n > 1 for n in per_day.values())
    assert 0 < doubles < len(per_day) * 0.1
    days: dict[str, set[date]] = defaultdict(set)
    for member, day in per_day:
        days[member].add(day)
    runs = {m: streaks(d) for m, d in days.items()}
    assert sum(max(r) >= 7 for r in runs.values()) >= 3
    assert sum(len(r) > 1 and max(r) >= 5 for r in runs.values()) >= 3  # streaks that broke
    assert any(max(r) == DAYS for r in runs.values())
    camp = [e for e in checkins if e["room_name"] == "早起打卡营"]
    assert camp
    # Morning check-ins; a double may come up to half an hour later.
    assert all(5 <= parse_ts(e["ts"]).astimezone(SHANGHAI).hour <= 10 for e in camp)


def test_texts_include_price_after_sales_commands_and_mentions(community):
    messages = [e for e in community if e["type"] == "message"]
    texts = Counter(e["text"] for e in messages)
    for phrase in ("这个课多少钱", "怎么报名", "价格多少", "有优惠吗"):
        assert texts[phrase] > 0, phrase
    assert sum(n for t, n in texts.items() if t in PRICE_QUESTIONS) >= 20
    for word in ("退款", "发票", "打不开", "没收到"):
        assert any(word in t for t in texts), word
    assert any("[" in t and "]" in t for t in texts)
    assert texts["好的"] and texts["哈哈哈"]
    assert len(texts) > 1500  # varied, not a few strings
    dms = [e for e in messages if "room" not in e]
    assert dms and "room_name" not in dms[0]
    assert {"我的等级", "/me"} <= {e["text"] for e in dms}
    assert any(e["text"] in ("/me", "排行") for e in messages if "room" in e)
    mentioned = [e for e in messages if e.get("mentions")]
    assert len(mentioned) >= 20
    members = {e["member"] for e in community if e["type"] == "join"}
    for e in mentioned:
        assert set(e["mentions"]) <= members and e["text"].startswith("@")


def test_odd_nicknames_are_present(community):
    names = {e.get("sender_name") for e in community} | {e.get("member_name") for e in community}
    for odd in itertools.chain(*ODD_NICKNAMES.values()):
        assert odd in names, odd
    hostile = "<img src=x onerror=alert(1)>"
    assert any(e.get("sender_name") == hostile for e in community)  # and it speaks


def test_daily_rhythm_has_an_evening_peak(community):
    hours = Counter(parse_ts(e["ts"]).astimezone(SHANGHAI).hour
                    for e in in_month(community) if e["type"] == "message")
    assert hours[21] > hours[15] > hours[3]
    assert hours[7] > hours[3] * 5


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), members=st.integers(10, 80), days=st.integers(1, 12),
       rooms=st.integers(1, 12))
def test_any_small_community_is_well_formed(seed, members, days, rooms):
    events = generate_community(seed=seed, members=members, days=days, rooms=rooms)
    assert_well_formed(events)
    assert len({e["member"] for e in events if e["type"] == "join"}) == members


def test_other_time_zone_keeps_local_days():
    events = generate_community(members=30, days=3, tz="America/New_York")
    zone = ZoneInfo("America/New_York")
    checkins = [e for e in events if is_checkin(e) and e["room_name"] == "早起打卡营"]
    assert all(5 <= datetime.fromisoformat(e["ts"]).astimezone(zone).hour <= 10 for e in checkins)


def test_too_small_a_community_is_refused():
    with pytest.raises(ValueError):
        generate_community(members=5)


def test_generate_messages_is_a_lazy_varied_timed_stream():
    stream = generate_messages(10**9)
    first = list(itertools.islice(stream, 3))  # would never finish if it were a list
    assert [e["id"] for e in first] == ["m1", "m2", "m3"]

    messages = list(generate_messages(20_000, seed=3))
    assert messages == list(generate_messages(20_000, seed=3))
    ids = [m["id"] for m in messages]
    assert len(set(ids)) == len(ids)
    stamps = [parse_ts(m["ts"]) for m in messages]
    assert all(a < b for a, b in itertools.pairwise(stamps))
    assert len({s.astimezone(SHANGHAI).date() for s in stamps}) >= 2
    for m in messages[:2000]:
        parse_event(m)
    assert all(5 <= len(m["text"]) <= 40 for m in messages)
    assert len({m["text"] for m in messages}) > len(messages) / 2
    assert len({m["sender"] for m in messages}) > 1000
    assert len({m["room"] for m in messages}) == 20


def test_generate_messages_start_and_sizes():
    start = datetime(2027, 1, 1, 9, 0)  # naive: read as Shanghai time
    messages = list(generate_messages(500, start=start, members=50, rooms=2))
    assert parse_ts(messages[0]["ts"]) > start.replace(tzinfo=SHANGHAI)
    assert messages[0]["ts"].startswith("2027-01-01T09:0")
    assert len({m["sender"] for m in messages}) <= 50
    assert {m["room"] for m in messages} == {"r1@chatroom", "r2@chatroom"}


def test_write_jsonl_keeps_chinese_readable(tmp_path):
    path = tmp_path / "out.jsonl"
    events = generate_community(members=20, days=2)
    assert write_jsonl(iter(events), path) == len(events)
    raw = path.read_text(encoding="utf-8")
    assert "读书群" in raw and "\\u" not in raw
    lines = raw.splitlines()
    assert [json.loads(line) for line in lines] == events


def test_command_line_writes_a_community(tmp_path, capsys):
    path = tmp_path / "c.jsonl"
    main([str(path), "--members", "40", "--days", "5", "--seed", "3"])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == generate_community(seed=3, members=40, days=5)
    assert f"wrote {len(lines)} events" in capsys.readouterr().err

    bench = tmp_path / "b.jsonl"
    main([str(bench), "--messages", "1000"])
    assert len(bench.read_text(encoding="utf-8").splitlines()) == 1000


def test_the_median_split_finds_the_four_types(community):
    """The project's own typing (medians over present members) sees the personas."""
    from tiers.types import Activity, classify_all

    login_days: dict[str, set[date]] = defaultdict(set)
    speaking: Counter[str] = Counter()
    joined_on: dict[str, date] = {}
    for e in community:
        if e["type"] == "join":
            joined_on.setdefault(e["member"], local_day(e))
        elif local_day(e) >= START:
            who = e.get("sender") or e.get("member")
            login_days[who].add(local_day(e))
            if e["type"] == "message" and "room" in e and not is_checkin(e):
                speaking[who] += 1
    activities = [Activity(m, len(login_days[m]), speaking[m], day) for m, day in joined_on.items()]
    today = START + timedelta(days=DAYS - 1)
    types = Counter(t.type.value for t in classify_all(activities, today=today,
                                                       window_days=DAYS).values())
    assert types["core"] >= 25
    assert types["lurker"] >= 30
    assert types["burst"] >= 25
    assert types["dormant"] >= 100
    assert types["new"] >= 3
