"""Whether a chat message reads as a question: one test for the FAQ, unanswered 1:1 questions and 1:1 answers."""

from __future__ import annotations

import re

# Words that ask, wherever they stand (「课程什么时候开始」「回放在哪」「怎么报名」).
_ASKING = re.compile(
    r"怎么|怎样|怎麼|如何|为什么|为啥|为何|什么|什麼|啥|哪里|哪儿|哪个|哪些|在哪|几点|几号|几月|几天|几时|"
    r"多少|多久|多长|多大|是否|能不能|能否|可不可以|可以吗|行不行|有没有|有木有|是不是|会不会|要不要|"
    r"请问|想问|问一下|问下|问问|咨询|求助|求问|谁知道|有人知道|how|what|when|where|why",
    re.IGNORECASE,
)
# A sentence-final particle that makes a question (「在吗」「开课了吗」「回放呢」), before any
# trailing punctuation, tildes or emoji.
_FINAL = re.compile(r"(吗|呢|么|嘛|不)[\s~～。.!！…\U0001F300-\U0001FAFF]*$")
_MARK = re.compile(r"[?？]")
# Words that contain an asking word but state rather than ask (「什么都行」「怎么都好」).
_NOT_ASKING = re.compile(r"(什么|啥|怎么|哪里|哪儿)(都|也)(行|好|可以|没|不|是)")
_SIGNS = re.compile(r"[\s\W_]+")  # what is left out when judging whether anything was said


def looks_like_question(text: str) -> bool:
    """True when `text` asks something: a question mark, a final 吗/呢, or an asking word
    (什么时候, 几点, 在哪, 怎么, 多少, 请问...). A bare 「？」, a command (/me) or a statement
    that only contains an asking word in passing (「什么都行」) is not a question."""
    text = text.strip()
    if not text or text.startswith("/"):
        return False
    if len(_SIGNS.sub("", text)) < 2:
        return False
    if _MARK.search(text) or _FINAL.search(text):
        return True
    return bool(_ASKING.search(_NOT_ASKING.sub("", text)))
