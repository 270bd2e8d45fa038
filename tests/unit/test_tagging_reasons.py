"""Why a member has a tag: excerpts and the Chinese reason lines (tagging/reasons.py)."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagging.reasons import Provenance, excerpt, format_reason, format_tag_line

AT = datetime(2026, 11, 20, 10, 2)


@pytest.mark.parametrize(
    ("text", "limit", "result"),
    [
        ("这个课多少钱呀", 20, "这个课多少钱呀"),
        ("  这个课\n多少钱呀  ", 20, "这个课 多少钱呀"),
        ("一二三四五六七八九十" * 3, 20, "一二三四五六七八九十一二三四五六七八九…"),
        ("一二三四五", 5, "一二三四五"),
        ("一二三四五六", 5, "一二三四…"),
        ("一二三    四五六", 5, "一二三…"),  # no space left before the ellipsis
        ("第一行\r\n\r\n第二行\t完", 20, "第一行 第二行 完"),
        ("响铃\x07了", 20, "响铃了"),
        ("", 20, ""),
    ],
)
def test_excerpt(text: str, limit: int, result: str) -> None:
    assert excerpt(text, limit) == result


@pytest.mark.parametrize(
    ("text", "around", "result"),
    [
        # the keyword is past the cut: skip ahead and fill the space up to the end
        (
            "大家好我是新来的，想问一下这个训练营的价格是多少，有没有优惠",
            "价格",
            "…一下这个训练营的价格是多少，有没有优惠",
        ),
        (
            "大家好我是新来的，想问一下这个训练营的价格是多少，有没有优惠，能分期吗谢谢",
            "价格",
            "…训练营的价格是多少，有没有优惠，能分…",
        ),
        (
            "大家好我是新来的，想问一下这个训练营的VIP多少",
            "vip",
            "…新来的，想问一下这个训练营的VIP多少",
        ),
        # the keyword is already in view, or not there at all: cut at the end as usual
        (
            "价格是多少，大家好我是新来的，想问一下这个训练营",
            "价格",
            "价格是多少，大家好我是新来的，想问一下…",
        ),
        (
            "大家好我是新来的，想问一下这个训练营的学费是多少",
            "价格",
            "大家好我是新来的，想问一下这个训练营的…",
        ),
    ],
)
def test_excerpt_keeps_the_keyword_in_view(text: str, around: str, result: str) -> None:
    assert excerpt(text, 20, around=around) == result
    assert len(result) <= 20


def test_excerpt_does_not_leave_a_dangling_joiner() -> None:
    # Cut after 4 code points the line would end on the ZWJ after 👨.
    assert excerpt("好的👨\u200d👩\u200d👧", 5) == "好的👨…"


def test_excerpt_rejects_a_zero_limit() -> None:
    with pytest.raises(ValueError):
        excerpt("多少钱", 0)


@given(st.text(), st.integers(1, 40), st.none() | st.text(min_size=1, max_size=5))
def test_excerpt_is_one_short_line(text: str, limit: int, around: str | None) -> None:
    line = excerpt(text, limit, around=around)
    assert len(line) <= limit
    assert "\n" not in line and "\r" not in line
    assert line == line.strip() or line.endswith("…")


@pytest.mark.parametrize(
    ("prov", "reason"),
    [
        (
            Provenance("keyword", rule_id=3, keyword="多少钱", at=AT, excerpt="这个课多少钱呀"),
            "规则#3 关键词「多少钱」 11-20 10:02 「这个课多少钱呀」",
        ),
        (
            Provenance(
                "keyword",
                rule_id=3,
                keyword="价格",
                message_id="m1",
                at=AT,
                excerpt="请问一下这个训练营的价格是多少，有没有优惠，能分期吗",
            ),
            "规则#3 关键词「价格」 11-20 10:02 「请问一下这个训练营的价格是多少，有没有…」",
        ),
        (Provenance("keyword", rule_id=3, keyword="价格"), "规则#3 关键词「价格」"),
        (
            Provenance("count", rule_id=5, count=23, days=7, threshold=20),
            "规则#5 近7天发言23条（≥20）",
        ),
        (Provenance("count", rule_id=5, count=23, days=7), "规则#5 近7天发言23条"),
        (
            Provenance("count", rule_id=5, count=23, days=7, threshold=20, at=AT),
            "规则#5 近7天发言23条（≥20） 11-20 10:02",
        ),
        (Provenance("count", rule_id=5), "规则#5 发言条数达标"),
        (Provenance("manual", by="张三", at=AT), "管理员 张三 手动添加 11-20 10:02"),
        (Provenance("manual"), "管理员手动添加"),
    ],
)
def test_format_reason(prov: Provenance, reason: str) -> None:
    assert format_reason(prov) == reason


def test_format_tag_line() -> None:
    prov = Provenance("keyword", rule_id=3, keyword="多少钱", at=AT, excerpt="这个课多少钱呀")
    assert (
        format_tag_line("意向", prov)
        == "意向 ← 规则#3 关键词「多少钱」 11-20 10:02 「这个课多少钱呀」"
    )


def test_reason_lines_stay_on_one_line() -> None:
    prov = Provenance("keyword", rule_id=1, keyword="价格", at=AT, excerpt="价格\n多少\n钱")
    assert "\n" not in format_tag_line("意向", prov)


def test_provenance_rejects_an_unknown_source() -> None:
    with pytest.raises(ValueError):
        Provenance("import")
