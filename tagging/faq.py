"""FAQ rules: reading `/faq add 关键词[,关键词…] 回答`, and when an answer may go out again."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tagging.rules import can_be_token

COOLDOWN = timedelta(minutes=10)  # an answer goes out once per room (or 1:1 chat) within this
UNANSWERED_AFTER = timedelta(minutes=10)  # a 1:1 question nobody answered this long goes to the operators
MAX_ANSWER = 500
MAX_KEYWORDS = 20
_SEPARATORS = re.compile(r"[,，、;；|]")


class FaqSyntaxError(ValueError):
    """Bad `/faq add` arguments; the message says what to fix, in Chinese."""


def parse_faq(text: str) -> tuple[tuple[str, ...], str]:
    """`几点开课,上课时间 每晚 8 点开课` → (keywords, answer). The keywords are the first word
    (comma-separated, no spaces); the answer is everything after it, line breaks kept."""
    text = text.strip()
    head, _, answer = text.partition(" ") if " " in text.split("\n", 1)[0] else text.partition("\n")
    answer = answer.strip()
    keywords = tuple(dict.fromkeys(k.strip().lower() for k in _SEPARATORS.split(head) if k.strip()))
    if not keywords or not answer:
        raise FaqSyntaxError("请写出关键词和回答，关键词之间用逗号隔开，例如：/faq add 几点开课,上课时间 每晚 8 点开课")
    if len(keywords) > MAX_KEYWORDS:
        raise FaqSyntaxError(f"关键词太多（{len(keywords)} 个，最多 {MAX_KEYWORDS} 个）")
    for k in keywords:
        if len(k) < 2 or not can_be_token(k):
            raise FaqSyntaxError(f"关键词「{k[:20]}」不行：至少两个字，只用汉字、字母或数字")
    if len(answer) > MAX_ANSWER:
        raise FaqSyntaxError(f"回答太长（{len(answer)} 字，最多 {MAX_ANSWER} 字）")
    return keywords, answer


def may_answer(last_sent: datetime | None, now: datetime, cooldown: timedelta = COOLDOWN) -> bool:
    """An answer goes out again only once its cooldown in that place has passed (an operator's
    own answer there counts as one)."""
    return last_sent is None or now - last_sent >= cooldown
