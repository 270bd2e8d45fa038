"""Anti-farming for speaking: which messages count, and the daily cap on speaking points."""

from __future__ import annotations

import re
from functools import cache

SPEAKING_POINTS = 1  # points for one counted message
SPEAKING_DAILY_CAP = 20  # most speaking points a member can earn in one local day

# WeChat renders its built-in faces as text codes: [微笑] [捂脸] [Emm] [OK] [666].
_WECHAT_CODE = r"\[[0-9A-Za-z\u4e00-\u9fff]{1,4}\]"

# Unicode emoji: the pictographic blocks (emoticons, symbols, transport, flags' regional
# indicators, skin tones, …) plus the glue of sequences: ZWJ, variation selectors,
# tag characters of subdivision flags, and keycaps (1️⃣ goes whole, not leaving a "1").
_KEYCAP = r"[0-9#*]\ufe0f?\u20e3"
_EMOJI = (
    "\U0001f000-\U0001faff"  # mahjong … symbols & pictographs extended-A
    "\u2300-\u23ff"  # misc technical: ⌚ ⏰ ⏳
    "\u2600-\u27bf"  # misc symbols and dingbats: ☀ ❤ ✅ ✨
    "\u2b00-\u2bff"  # arrows and shapes: ⭐ ⬆
    "\u2190-\u21ff"  # arrows
    "\u25a0-\u25ff"  # geometric shapes: ▶ ◀
    "\u2100-\u214f"  # letterlike symbols: ™ ℹ
    "\u24c2\u3297\u3299\u20e3"
    "\ufe00-\ufe0f"  # variation selectors
    "\U000e0000-\U000e007f"  # tags
)

# Whitespace and punctuation: a message of 「。。。」 or 「？？」 says nothing, so it must not
# count towards the minimum length. Letters and digits of every script stay.
_PUNCT = (
    r"\s"
    "!-/:-@\\\\\\]-`{-~"  # ASCII punctuation except "[" (kept apart, see _STRIP)
    "\u00a0-\u00bf\u00d7\u00f7"  # Latin-1 punctuation and signs: · « » ¥ ×
    "\u2000-\u206f"  # general punctuation, incl. … — “ ” and zero-width spaces
    "\u3000-\u303f"  # CJK punctuation: 。、「」《》
    "\ufe10-\ufe1f\ufe30-\ufe6f"  # vertical, compatibility and small forms
    "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"  # full-width ！，：？～
    "\ufeff"  # byte order mark
)

# One pass. "[" is left out of the run class and matched alone at the end, so a run of
# punctuation never swallows the "[" that opens a face code ("！[微笑]").
_STRIP = re.compile(f"{_WECHAT_CODE}|{_KEYCAP}|[{_EMOJI}{_PUNCT}]+|\\[")
# At least n characters that count, in a text with no "[" and no keycap mark (U+20E3): there,
# what _STRIP removes is exactly the characters of its class, one by one.
_GONE = f"[{_EMOJI}{_PUNCT}]"


@cache
def _at_least(n: int) -> re.Pattern[str]:
    return re.compile(f"(?:{_GONE}*[^{_EMOJI}{_PUNCT}]){{{n}}}")


def effective_text(text: str) -> str:
    """The text that counts: without WeChat face codes, emoji, whitespace or punctuation.

    Digits and letters of any script count, so 「666」 and 「ok」 are speech.
    """
    return _STRIP.sub("", text)


def counts_as_speaking(
    text: str,
    at: int,
    last_counted: int | None,
    *,
    min_gap_s: int = 60,
    min_chars: int = 2,
) -> bool:
    """Whether a message at epoch second `at` counts as speaking for scores and points.

    It must say at least min_chars characters once faces, emoji and punctuation are
    gone, and come at least min_gap_s after the member's last counted message (epoch
    seconds). The gap is measured in both directions, so a message replayed out of order
    within the gap is not counted either.
    """
    if last_counted is not None and abs(at - last_counted) < min_gap_s:
        return False
    if "[" in text or "\u20e3" in text:
        return len(effective_text(text)) >= min_chars
    # Most messages: one match finds min_chars characters that stay, without building the text.
    return _at_least(max(min_chars, 0)).match(text) is not None


def speaking_points(already_today: int) -> int:
    """Points for one more counted message, given the speaking points earned today."""
    return max(0, min(SPEAKING_POINTS, SPEAKING_DAILY_CAP - already_today))


def speaking_points_of_day(counted: int) -> int:
    """Speaking points a day's `counted` counted messages are worth under the daily cap (what
    paying `speaking_points` message by message adds up to)."""
    return min(max(counted, 0) * SPEAKING_POINTS, SPEAKING_DAILY_CAP)
