"""The ad and spam guard's rules: which rule a group message breaks, and what a strike leads to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# Rule names (stored with each strike) and the words members read in a warning.
QR = "qr"
CARD = "card"
BAIT = "bait"
FLOOD = "flood"
NEW_LINK = "new_link"
LINK = "link"
PATTERN = "pattern"
RULE_TITLES = {  # what the member must not do, as the warning says it: 「请不要在群里{title}」
    QR: "发带二维码的图片",
    CARD: "发名片或小程序",
    BAIT: "引流加好友（加V、加微信、私我）",
    FLOOD: "把同一段话刷到多个群",
    NEW_LINK: "刚进群就发链接",
    LINK: "发链接",
    PATTERN: "发广告",
}

STRIKES = 2  # strikes within STRIKE_DAYS that lead to removal
STRIKE_DAYS = 7
FLOOD_ROOMS = 3  # the same text in this many rooms ...
FLOOD_MINUTES = 10  # ... within this many minutes
FLOOD_MIN_CHARS = 6  # shorter texts (「好的」「收到」) are said everywhere by everyone
NEW_MEMBER_HOURS = 1

# Contact bait: 加V, 加微信, 私我, vx, 薇 and the ways people dodge a filter (加 v、+V、威信).
_BAIT = re.compile(
    r"(加|\+|＋)\s*(v|ｖ|微|薇|威|卫|vx|wx|q)|私我|私聊我|滴滴我|(?<![a-z])(vx|wx|v信|vx号|wx号)|薇信|威信|"
    r"v[:：]\s*\w+|微信[号:：]",
    re.IGNORECASE,
)
_URL = re.compile(
    r"https?://|www\.|(?<![\w@.])[a-z0-9][a-z0-9-]*\.(com|cn|net|org|top|xyz|cc|io|me|vip|shop|info|link|site)"
    r"(?![a-z])",
    re.IGNORECASE,
)
LINK_KINDS = frozenset({"link", "url"})
CARD_KINDS = frozenset({"contact", "card", "mini_program", "miniprogram"})


@dataclass(frozen=True, slots=True)
class Post:
    """A group message as the guard sees it."""

    text: str
    kind: str = "text"
    qr: tuple[str, ...] = ()  # the contents of QR codes found in its image
    joined_at: datetime | None = None  # when the sender joined the room (None: long ago or unknown)
    at: datetime | None = None
    same_text_rooms: int = 1  # rooms the sender posted this very text in within FLOOD_MINUTES


def has_link(text: str) -> bool:
    return _URL.search(text) is not None


def is_bait(text: str) -> bool:
    return _BAIT.search(text) is not None


def matches_pattern(text: str, pattern: str) -> bool:
    """A manager's own ad word: anywhere in the text, case and spaces aside."""
    return _squash(pattern) in _squash(text)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def broken_rule(post: Post, patterns: Sequence[str] = ()) -> str | None:
    """The rule `post` breaks, the most telling first; None when it breaks none."""
    if post.qr:
        return QR
    if post.kind in CARD_KINDS:
        return CARD
    text = post.text
    if text and is_bait(text):
        return BAIT
    if post.same_text_rooms >= FLOOD_ROOMS and len(_squash(text)) >= FLOOD_MIN_CHARS:
        return FLOOD
    link = post.kind in LINK_KINDS or (bool(text) and has_link(text))
    if link and post.joined_at is not None and post.at is not None and (
            timedelta(0) <= post.at - post.joined_at <= timedelta(hours=NEW_MEMBER_HOURS)):
        return NEW_LINK
    if link:
        return LINK
    if text and any(matches_pattern(text, p) for p in patterns):
        return PATTERN
    return None


def removes(strikes_in_window: int, threshold: int = STRIKES) -> bool:
    """Whether this many strikes within the window (this one included) lead to removal."""
    return strikes_in_window >= threshold


def too_broad(hits: int, total: int) -> bool:
    """A keyword or pattern that would have hit most recent messages says nothing about any
    one of them: refused. Needs a sample of 10 messages to judge."""
    return total >= 10 and hits * 2 > total


def warning_text(rule: str, strike: int, threshold: int = STRIKES, days: int = STRIKE_DAYS) -> str:
    """What the member reads, @mentioned in the room: the rule, the count, and 申诉."""
    left = threshold - strike
    then = f"{days} 天内再有 {left} 次将被移出本群。" if left > 0 else ""
    return f"请不要在群里{RULE_TITLES[rule]}。这是第 {strike} 次提醒，{then}如有误会，私聊我发「申诉」。"
