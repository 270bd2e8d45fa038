"""tagging.intent: what looks like a question, what asks, negation within a clause, synonym sets."""

from __future__ import annotations

import pytest

from tagging.intent import (
    PRICE,
    SIGNUP,
    asks,
    cilin_synonyms,
    clause_bounds,
    conflicts,
    negated,
    parse_words,
    shipped,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("想报个名", True), ("我要报名", True), ("打算参加", True), ("发我链接", True), ("贵吗", True),
    ("贵不贵", True), ("学费几", True),
    ("价格还算合理", False), ("酒店价格算是较贵的", False), ("价格差不了", False), ("理想的价格", False),
])
def test_asks_means_a_question_a_request_or_a_wish(text: str, expected: bool) -> None:
    assert asks(text) is expected


@pytest.mark.parametrize(("before", "expected"), [
    (["我", "不想"], True), (["不用"], True), (["我", "没"], True), (["别"], True),
    (["能", "不能"], False), (["有", "没有"], False), (["我", "不", "知道"], False), (["没", "问题", "我"], False),
    (["我", "想"], False),
])
def test_negation_before_the_keyword(before: list[str], expected: bool) -> None:
    assert negated(before) is expected


def test_clause_bounds_stop_at_punctuation() -> None:
    text = "我不想报名了，退款吧"
    assert text[slice(*clause_bounds(text, 7, 9))] == "退款吧"
    assert text[slice(*clause_bounds(text, 3, 5))] == "我不想报名了"


def test_shipped_sets_hold_the_issue_words_and_cilin_synonyms() -> None:
    sets = shipped()
    for word in ("价格", "多少钱", "收费", "学费", "费用", "贵不贵", "优惠", "分期"):
        assert word in sets.expand(PRICE)
    for word in ("报名", "报个名", "参加", "加入", "怎么买", "下单"):
        assert word in sets.expand(SIGNUP)
    assert "价钱" in cilin_synonyms("价格")  # from the package's 同义词词林
    assert "价钱" in sets.expand(PRICE)
    assert sets.expand("随便") == ("随便",)


def test_a_word_of_another_set_is_named() -> None:
    assert conflicts(shipped(), "课程", ["学费", "课表"]) == {"学费": PRICE}
    assert conflicts(shipped(), PRICE, ["学费"]) == {}


def test_parse_words_refuses_empty_and_odd_words() -> None:
    assert parse_words("学费，收费,学费") == ("学费", "收费")
    for bad in (",", "学费,,收费", "a=b", "x" * 21):
        with pytest.raises(ValueError):
            parse_words(bad)
