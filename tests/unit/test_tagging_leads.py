"""Leads in the words people use: the labelled table (tests/intent_lines.py) through the
matcher with the shipped synonym sets, one `intent=ask` rule per intent; precision and recall
per intent."""

from __future__ import annotations

import pytest

from tagging.intent import shipped
from tagging.matcher import KeywordMatcher, Tokenizer
from tagging.rules import KeywordRule
from tests.intent_lines import INTENTS, LINES, PRICE, REFUND, SIGNUP

# The intent's concept word is the rule's one keyword: it stands for the whole synonym set.
RULES = [KeywordRule(i + 1, intent, (intent,), intent="ask") for i, intent in enumerate(INTENTS)]


@pytest.fixture(scope="module")
def matcher() -> KeywordMatcher:
    return KeywordMatcher(RULES, Tokenizer(), shipped())


def intents_of(matcher: KeywordMatcher, text: str) -> set[str]:
    return {INTENTS[hit.rule_id - 1] for hit in matcher.match(text, None)}


def scores(matcher: KeywordMatcher) -> dict[str, tuple[float, float, int, int]]:
    """Per intent: precision, recall, positives and negatives in the table."""
    out = {}
    for intent in INTENTS:
        tp = fp = fn = 0
        for text, said in LINES:
            got = intent in intents_of(matcher, text)
            tp += got and intent in said
            fp += got and intent not in said
            fn += not got and intent in said
        positives = sum(intent in said for _, said in LINES)
        out[intent] = (tp / (tp + fp), tp / (tp + fn), positives, len(LINES) - positives)
    return out


def test_the_table_is_big_enough() -> None:
    assert len(LINES) >= 100
    for intent in INTENTS:
        assert sum(intent in said for _, said in LINES) >= 30


def test_precision_and_recall_per_intent(matcher: KeywordMatcher) -> None:
    found = scores(matcher)
    for intent, (precision, recall, positives, negatives) in found.items():
        print(f"{intent}: precision {precision:.2f} recall {recall:.2f} "
              f"({positives} positives, {negatives} negatives)")
    for intent, (precision, recall, _, _) in found.items():
        assert precision >= 0.95, intent
        assert recall >= 0.9, intent


@pytest.mark.parametrize(("text", "expected"), [
    # what the example config's old rule missed (issue 28)
    ("怎么收费", {PRICE}), ("学费多少", {PRICE}), ("想报个名", {SIGNUP}), ("贵吗", {PRICE}),
    ("能分期付款吗", {PRICE}),
    # and what it invented
    ("我不想报名了，退款吧", {REFUND}), ("酒店价格算是较贵的", set()), ("价格差不了", set()),
    ("价格还算合理", set()),
    # a sign-up word beside 退款/取消 reads as the opposite intent
    ("取消报名", {REFUND}), ("报名的钱能退吗", {REFUND}),
    # A-不-A asks rather than negates; 不知道 is no negation
    ("能不能分期", {PRICE}), ("不知道学费多少", {PRICE}),
])
def test_the_issue_lines(matcher: KeywordMatcher, text: str, expected: set[str]) -> None:
    assert intents_of(matcher, text) == expected


def test_a_plain_rule_still_hears_what_is_not_a_wish() -> None:
    # Negation reads only words of wanting (price, sign-up) and intent=ask rules: a rule on
    # 发货 keeps hearing the complaint 「还没发货」.
    rule = KeywordRule(1, "催单", ("发货",))
    assert KeywordMatcher([rule], Tokenizer(), shipped()).match("我昨天买的还没发货！", None)


def test_managers_words_join_a_set() -> None:
    sets = shipped().merged({PRICE: ["米"]})
    found = KeywordMatcher([RULES[0]], Tokenizer(), sets).match("这个要多少米？", None)
    assert [hit.keyword for hit in found] == ["米"]
