"""Anti-farming: what text counts, the gap between counted messages, the daily cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiers.antifarm import (
    SPEAKING_DAILY_CAP,
    counts_as_speaking,
    effective_text,
    speaking_points,
)

PROPERTY = settings(database=None, deadline=None, max_examples=500)
SHANGHAI = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI)
AT0 = int(T0.timestamp())


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("打卡", "打卡"),
        ("今天天气不错[微笑]", "今天天气不错"),
        ("[捂脸][捂脸]", ""),
        ("[表情]", ""),
        ("[社会社会]", ""),  # four characters: still a face code
        ("[Emm][OK]好", "好"),
        ("[一二三四五]", "一二三四五"),  # five characters is not a code; the brackets go
        ("！[微笑]", ""),  # punctuation before a code does not swallow its "["
        ("[[微笑]]", ""),
        ("[微笑", "微笑"),
        ("哈哈😂😂", "哈哈"),
        ("好的👍🏻", "好的"),  # skin tone
        ("👨‍👩‍👧‍👦", ""),  # ZWJ family
        ("❤️", ""),  # variation selector
        ("🇨🇳🇺🇸", ""),  # flags
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", ""),  # subdivision flag with tag characters
        ("1️⃣2️⃣", ""),  # keycaps go whole
        ("✅⭐☀️", ""),
        ("。。。", ""),
        ("？？！！", ""),
        ("……", ""),
        ("～～", ""),
        ("...", ""),
        ("  \t\n\u3000", ""),
        ("\u200b\u200b", ""),  # zero-width spaces
        ("收到，谢谢老师！", "收到谢谢老师"),
        ("《三体》", "三体"),
        ("「好」", "好"),
        ("hello, world", "helloworld"),
        ("666", "666"),
        ("ok👌", "ok"),
        ("Ω café", "Ωcafé"),
        ("第2期", "第2期"),
    ],
)
def test_effective_text(text: str, left: str) -> None:
    assert effective_text(text) == left


# Anything, with the characters that matter over-represented.
noisy_text = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(list("[]微笑捂脸OK。，！？ \u200d\ufe0f\u20e31#😂🏻🇨")),
    ),
    max_size=40,
)


@PROPERTY
@given(noisy_text)
def test_effective_text_only_removes(text: str) -> None:
    left = effective_text(text)
    assert len(left) <= len(text)
    # what is left is a subsequence of the input, in order
    rest = iter(text)
    assert all(ch in rest for ch in left)
    # and it is already clean: a second pass changes nothing
    assert effective_text(left) == left
    assert not any(ch.isspace() or ch in "[]，。！？" for ch in left)


@PROPERTY
@given(
    st.text(alphabet=st.sampled_from(list("我们今天学习读书打卡好的abcXYZ0123456789")), max_size=30)
)
def test_effective_text_keeps_words_and_digits(text: str) -> None:
    assert effective_text(text) == text


@PROPERTY
@given(noisy_text, st.integers(min_value=0, max_value=4))
def test_speaking_counts_the_effective_texts_characters(text: str, min_chars: int) -> None:
    # counts_as_speaking counts kept characters itself when the text holds no face code or keycap
    assert counts_as_speaking(text, AT0, None, min_chars=min_chars) == (len(effective_text(text)) >= min_chars)


@pytest.mark.parametrize("text", ["好。", "。好", " 好 ", "\u200b好\u200b", "好👍", "²好", "好\ufe0f", "1️⃣好"])
def test_one_character_left_is_not_speaking(text: str) -> None:
    assert not counts_as_speaking(text, AT0, None)
    assert counts_as_speaking(text + "的", AT0, None)


# --- counts_as_speaking -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds_since_last", "counts"),
    [
        ("早上好", None, True),  # first message of the member
        ("早上好", 60, True),  # exactly the gap
        ("早上好", 59, False),
        ("早上好", 0, False),
        ("早上好", 3600, True),
        ("早上好", -30, False),  # out of order, inside the gap
        ("早上好", -3600, True),  # out of order, far apart
        ("好", None, False),  # one character
        ("好！", None, False),
        ("好的", None, True),
        ("ok", None, True),
        ("[微笑][微笑]", None, False),
        ("😂😂😂", None, False),
        ("。。", None, False),
        ("好[微笑]", None, False),
        ("好的[微笑]", 120, True),
    ],
)
def test_counts_as_speaking(text: str, seconds_since_last: int | None, counts: bool) -> None:
    last = None if seconds_since_last is None else AT0 - seconds_since_last
    assert counts_as_speaking(text, AT0, last) is counts


@pytest.mark.parametrize(
    ("text", "gap", "min_gap_s", "min_chars", "counts"),
    [
        ("好", 10, 5, 1, True),
        ("好", 10, 30, 1, False),
        ("好的", 10, 5, 3, False),
        ("好的呀", 10, 5, 3, True),
        ("", 10, 0, 0, True),
    ],
)
def test_counts_as_speaking_with_other_limits(
    text: str, gap: int, min_gap_s: int, min_chars: int, counts: bool
) -> None:
    assert counts_as_speaking(text, AT0, AT0 - gap, min_gap_s=min_gap_s, min_chars=min_chars) is counts


def test_gap_is_measured_in_epoch_seconds_whatever_the_zone() -> None:
    last_utc = int(datetime(2026, 11, 1, 0, 0, 30, tzinfo=UTC).timestamp())  # 08:00:30 in Shanghai
    assert counts_as_speaking("早上好", int((T0 + timedelta(seconds=60)).timestamp()), last_utc) is False
    assert counts_as_speaking("早上好", int((T0 + timedelta(seconds=90)).timestamp()), last_utc) is True


def test_a_burst_of_messages_counts_once_a_minute() -> None:
    last: int | None = None
    counted = 0
    for i in range(30):  # one message every 10 s for 5 minutes
        ts = AT0 + 10 * i
        if counts_as_speaking("刷一下积分", ts, last):
            counted += 1
            last = ts
    assert counted == 5  # at 0, 60, 120, 180, 240 s


# --- speaking_points ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("already", "points"), [(0, 1), (1, 1), (19, 1), (20, 0), (21, 0), (500, 0)]
)
def test_speaking_points(already: int, points: int) -> None:
    assert speaking_points(already) == points


def test_speaking_points_stop_at_the_daily_cap() -> None:
    earned = 0
    for _ in range(100):
        earned += speaking_points(earned)
    assert earned == SPEAKING_DAILY_CAP
    assert earned == 20
