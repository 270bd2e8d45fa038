"""接龙 (group solitaire) lists: their parts, which entry a version adds, and its note."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tiers.checkin import MAX_NOTE, CheckinTask

# 「1. 阿青-读书」, 「2、小舟 打卡第3天」, 「3) 木木」: a number, a mark, the entry.
_ENTRY = re.compile(r"^\s*(\d{1,4})\s*[.．、)）:：]\s*(.*?)\s*$")
# A line the starter wrote for others to copy: 「例 打卡第n天 内容」, 「格式：名字+天数」.
_TEMPLATE = re.compile(r"第\s*[xXnN＿_?？]+\s*[天日]|^\W*(?:例|例如|格式|模板|示例|范例)(?![a-z])")
# An entry that says the member is not checking in today.
_NOT_TODAY = re.compile(r"请假|未完成|没完成|没打卡|未打卡|休息一天")
_LEADING_MARKS = " \t\u3000\u2005-—–_·|:：,，.。、/()（）【】[]「」<>《》+＋~～"


@dataclass(frozen=True, slots=True)
class Entry:
    n: int  # the number the list shows
    text: str  # the entry without its number


@dataclass(frozen=True, slots=True)
class Jielong:
    header: tuple[str, ...]  # the starter's line, the title, descriptions and templates
    entries: tuple[Entry, ...]

    @property
    def key(self) -> str:
        """What every version of one list shares: its header, spaces ignored."""
        return "\n".join(re.sub(r"\s+", " ", line).strip() for line in self.header)

    @property
    def title(self) -> str:
        """The list's title: the first header line after the starter's 「#接龙」 line."""
        lines = [line for line in self.header if "接龙" not in line] or list(self.header)
        return lines[0] if lines else ""


def parse(text: str) -> Jielong | None:
    """A 接龙 as WeChat shows it: header lines, then numbered entries (an entry's further
    lines belong to it). None when there is nothing in it."""
    header: list[str] = []
    entries: list[Entry] = []
    for raw in text.splitlines():
        line = raw.strip()
        found = _ENTRY.match(line)
        if found and (not entries or int(found.group(1)) > entries[-1].n or not header):
            entries.append(Entry(int(found.group(1)), found.group(2)))
        elif not line:
            continue
        elif entries:
            last = entries[-1]
            entries[-1] = Entry(last.n, f"{last.text}\n{line}".strip())
        else:
            header.append(line)
    if not header and not entries:
        return None
    return Jielong(tuple(header), tuple(e for e in entries if e.text and not is_template(e.text)))


def is_template(line: str) -> bool:
    return _TEMPLATE.search(line) is not None


def task_of(jielong: Jielong, tasks: Sequence[CheckinTask], room: str | None) -> CheckinTask | None:
    """The task the list is for: the longest trigger or task name its header names (the
    title, the starter's line or a template), a task of this room before one of every room."""
    header = "\n".join(jielong.header).casefold()
    best: tuple[int, int, int, CheckinTask] | None = None
    for task in tasks:
        if not task.active or task.room not in (None, room):
            continue
        for word in (task.name, *task.triggers):
            if word.strip() and word.strip().casefold() in header:
                key = (-len(word.strip()), 0 if task.room else 1, task.id, task)
                if best is None or key[:3] < best[:3]:
                    best = key
    return best[3] if best else None


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def _starts_with_name(text: str, names: Iterable[str]) -> str | None:
    said = text.lstrip(_LEADING_MARKS).casefold()
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        if said.startswith(name.casefold()):
            return name
    return None


def senders_entry(previous: Jielong | None, current: Jielong, names: Sequence[str]) -> Entry | None:
    """The entry this version adds for its sender, or None.

    Entries new in this version (not in the previous one) that begin with the sender's name
    are theirs; else a single new entry appended at the end is. Without a previous version
    (the first one seen), the entry with their name, else the last one. A list sent again
    adds nothing, and an entry someone edited keeps its number, so it is never the sender's."""
    if previous is None:
        new = list(current.entries)
    else:
        before = Counter(_fold(e.text) for e in previous.entries)
        new = []
        for e in current.entries:
            if before[_fold(e.text)] > 0:
                before[_fold(e.text)] -= 1
            else:
                new.append(e)
    own = [e for e in new if _starts_with_name(e.text, names)]
    if own:
        return own[-1]
    if not new or new[-1] is not current.entries[-1]:
        return None
    if previous is None or (len(new) == 1 and new[0].n > max((e.n for e in previous.entries), default=0)):
        return new[-1]
    return None


def entry_note(entry: Entry, names: Sequence[str]) -> str | None:
    """The entry as the member's note: without the sender's own name before it."""
    text = entry.text.lstrip(_LEADING_MARKS)
    name = _starts_with_name(text, names)
    if name:
        text = text[len(name):].lstrip(_LEADING_MARKS)
    text = text.strip()
    return text[:MAX_NOTE] or None


def is_absence(note: str | None) -> bool:
    """「请假」, 「今天未完成」: an entry that says the member is not checking in."""
    return bool(note) and _NOT_TODAY.search(note or "") is not None
