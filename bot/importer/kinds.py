"""What kind of message an exported row is, in the event contract's words (text, quote,
jielong, image, voice, video, sticker, file, link, other), and the text it carries: the same
message gets the same kind and text from every exporter and generation, so its id agrees."""

from __future__ import annotations

import ast
import html
import json
import re
from typing import Any

# Not speaking: a poke (拍一拍), a recall, a system line.
NOT_SPEAKING = "not-speaking"

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_CDATA = re.compile(r"^<!\[CDATA\[(.*)\]\]>$", re.S)
_APPTYPE = re.compile(r"<appmsg\b.*?<type>\s*(\d+)\s*</type>", re.S)
MAX_DICT = 1 << 16  # characters of an app message's dict repr parsed (a 接龙 of 500 entries fits)
JIELONG_APP = 53


def xml_title(xml: str) -> str:
    """The visible text of an app message's XML: its <title>, unescaped."""
    m = _TITLE.search(xml)
    if not m:
        return ""
    title = m.group(1).strip()
    cdata = _CDATA.match(title)
    return cdata.group(1) if cdata else html.unescape(title)


def app_type(xml: str) -> int | None:
    m = _APPTYPE.search(xml)
    return int(m.group(1)) if m else None


def _find_appmsg(value: Any, depth: int = 0) -> dict[str, Any] | None:
    if depth > 6 or not isinstance(value, dict):
        return None
    appmsg = value.get("appmsg")
    if isinstance(appmsg, dict):
        return appmsg
    for v in value.values():
        found = _find_appmsg(v, depth + 1)
        if found is not None:
            return found
    return None


def dict_app(content: str) -> tuple[int | None, str] | None:
    """MemoTrace 2025's `未知类型` row whose 内容 is `-1\\n{the app message XML as a dict}`:
    (appmsg type, title), or None when the content is not that."""
    head, _, rest = content.partition("\n")
    rest = rest.strip()
    if not head.strip().lstrip("-").isdigit() or not rest.startswith("{") or len(rest) > MAX_DICT:
        return None
    parsed: Any = None
    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(rest)
            break
        except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError):
            continue
    app = _find_appmsg(parsed)
    if app is None:
        return None
    kind = app.get("type")
    title = app.get("title")
    try:
        number = int(kind) if kind is not None else None
    except (TypeError, ValueError):
        number = None
    return number, title.strip() if isinstance(title, str) else ""


def looks_like_jielong(text: str) -> bool:
    """A 接龙 list pasted as text by an exporter that does not know it (ChatLab, WeFlow): the
    starter's line holds #接龙 and numbered entries follow."""
    if "#接龙" not in text:  # nearly every message: no line of it to cut
        return False
    first = text.lstrip().partition("\n")[0]
    return "#接龙" in first and re.search(r"(?m)^\s*1[.．、]\s*\S", text) is not None


def quote_words(content: str) -> str:
    """A rendered quote `新内容\\n引用：名字: 被引用的话`: only the member's new words."""
    for mark in ("\n引用：", "\n引用:", "\n「", "\n[引用]"):
        if mark in content:
            return content.split(mark, 1)[0].strip()
    return content.strip()


# MemoTrace 2025 CSV's 类型 and WeFlow's type names, to the contract's kinds.
CHINESE_KINDS = {
    "文本": "text", "文本消息": "text",
    "图片": "image", "图片消息": "image",
    "视频": "video", "视频消息": "video",
    "语音": "voice", "语音消息": "voice",
    "表情包": "sticker", "动画表情": "sticker",
    "文件": "file", "文件消息": "file",
    "分享链接": "link", "卡片式链接": "link", "图文消息": "link", "小程序": "link", "小程序分享": "link",
    "视频号": "link", "视频号直播卡片": "link", "音乐分享": "link", "收藏笔记": "link",
    "合并转发的聊天记录": "link", "聊天记录合并转发": "link",
    "位置分享": "other", "位置消息": "other", "红包": "other", "红包卡片": "other", "转账": "other",
    "转账卡片": "other", "音视频通话": "other", "个人/公众号名片": "other", "企业微信名片": "other",
    "名片消息": "other",
    "引用消息": "quote",
    "拍一拍": NOT_SPEAKING, "拍一拍消息": NOT_SPEAKING, "撤回消息": NOT_SPEAKING,
    "系统消息": "system",
    "未知类型": "unknown",
}
# MemoTrace 3.x CSV (2023, 2024): Type, and SubType of app messages (Type 49).
MEMOTRACE_TYPES = {1: "text", 3: "image", 34: "voice", 43: "video", 47: "sticker", 42: "other",
                   48: "other", 50: "other"}
MEMOTRACE_APPS = {6: "file", 5: "link", 3: "link", 4: "link", 19: "link", 33: "link", 36: "link",
                  2000: "other", 2001: "other", 57: "quote", JIELONG_APP: "jielong"}
# 【图片】-style placeholders (MemoTrace 2025) and [图片] (2024 TXT) at the start of a content.
PLACEHOLDERS = {"图片": "image", "语音": "voice", "视频": "video", "表情包": "sticker", "动画表情": "sticker",
                "文件": "file", "链接": "link", "分享链接": "link", "红包": "other", "转账": "other",
                "位置": "other", "位置分享": "other", "名片": "other", "小程序": "link", "视频号": "link",
                "音视频通话": "other", "聊天记录": "link", "合并转发的聊天记录": "link", "音乐分享": "link"}
_PLACEHOLDER = re.compile(r"^\s*[【\[]([^】\]\n]{1,12})[】\]]")


def placeholder_kind(content: str) -> str | None:
    """The media kind of a rendered content that starts with 【图片】 or [图片]; None for text."""
    m = _PLACEHOLDER.match(content)
    return PLACEHOLDERS.get(m.group(1)) if m else None


def memotrace_app(sub: int, content: str) -> tuple[str, str]:
    """(kind, text) of a MemoTrace 3.x app message (Type 49) by its SubType."""
    kind = MEMOTRACE_APPS.get(sub, "link")
    if kind == "quote":
        return kind, quote_words(xml_title(content) if content.lstrip().startswith("<") else content)
    if kind == "jielong":
        return kind, xml_title(content) if content.lstrip().startswith("<") else content.strip()
    return kind, ""


def rendered(kind: str, content: str) -> tuple[str, str]:
    """(kind, text) of a message whose content an exporter rendered as text (MemoTrace 2025,
    WeFlow, ChatLab), given the kind its type name says."""
    if kind == "text":
        return ("jielong", content.strip()) if looks_like_jielong(content) else ("text", content)
    if kind == "quote":
        return kind, quote_words(content)
    if kind == "unknown":
        app = dict_app(content)
        if app is not None:
            number, title = app
            return ("jielong", title) if number == JIELONG_APP else ("link", "")
        if looks_like_jielong(content):
            return "jielong", content.strip()
        return "other", ""
    return kind, ""
