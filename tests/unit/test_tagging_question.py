"""What reads as a question (tagging.question): the FAQ, the unanswered 1:1 list and the 1:1
friendly answer all ask this one function."""

from __future__ import annotations

import pytest

from tagging.question import looks_like_question


@pytest.mark.parametrize("text", [
    "在吗？我想问下课程什么时候开始",
    "几点开课",
    "回放在哪",
    "回放在哪里呀",
    "怎么报名",
    "请问一下这个多少钱",
    "开课了吗",
    "在吗",
    "回放呢～",
    "课程是不是明天开始",
    "有没有人知道怎么补签",
    "作业交到哪里？",
    "明天上课?",
    "What time does it start",
    "这个能不能退款😭",
])
def test_questions(text: str) -> None:
    assert looks_like_question(text)


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "？",
    "??",
    "打卡",
    "今天读了20页",
    "谢谢老师",
    "好的，收到",
    "什么都行",
    "/me",
    "/faq add 几点开课 每晚8点",
    "加V领资料 wx12345",
])
def test_not_questions(text: str) -> None:
    assert not looks_like_question(text)
