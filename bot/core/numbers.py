"""Whole numbers typed in chat commands, checked with a Chinese error."""

from __future__ import annotations

from bot.core.errors import UsageError


def positive_int(value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"{what}应为正整数，你写的是「{value}」。") from None
    if n <= 0:
        raise UsageError(f"{what}应为正整数，你写的是「{value}」。")
    return n


def non_negative_int(value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"{what}应为不小于 0 的整数，你写的是「{value}」。") from None
    if n < 0:
        raise UsageError(f"{what}不能小于 0，你写的是「{value}」。")
    return n
