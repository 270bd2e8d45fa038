"""Which exporter wrote a file, told from its content, and in which encoding it is."""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import TextIO

from bot.importer.source import FileError, Summary

FORMATS = {
    "memotrace-csv": "留痕 CSV",
    "memotrace-txt": "留痕 TXT",
    "chatlab": "ChatLab JSON/JSONL",
    "weflow": "WeFlow JSON",
}
EXPECTED = ("认识的格式：留痕/MemoTrace CSV（2023、2024 版表头 localId,TalkerId,Type,…；2025 版表头 "
            "消息ID,类型,发送人,时间,…）、留痕 TXT（每条以「2025-01-01 08:00:00 昵称」开头）、"
            "WeFlow JSON（含 weflow、session、messages）、ChatLab JSON 或 JSONL（含 chatlab 和 meta）。"
            "导出方法：在电脑上打开留痕（MemoTrace），选中群聊，导出为 CSV；或用 WeFlow 导出 JSON")
_TXT_HEAD = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?: \S|\s*$)")
_SNIFF = 1 << 16


def encoding_of(path: Path, summary: Summary) -> str:
    """utf-8-sig for UTF-8 (with or without a BOM); GB18030 (a superset of GBK) for a file
    an older Windows tool wrote, said in the summary; FileError for anything else."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF)
    if _decodes(head, "utf-8"):
        return "utf-8-sig"
    if _decodes(head, "gb18030"):
        summary.notes.append(f"{path}：不是 UTF-8，按 GBK（GB18030）编码读取。若内容乱码，请先转成 UTF-8："
                             f"iconv -f GBK -t UTF-8 '{path.name}' > '{path.stem}_utf8{path.suffix}'")
        return "gb18030"
    raise FileError("既不是 UTF-8 也不是 GBK 编码的文本。请用导出工具重新导出 UTF-8 文件，"
                    "或先转换：iconv -f 原编码 -t UTF-8 原文件 > 新文件")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def open_text(path: Path, encoding: str) -> TextIO:
    # newline="": the csv module reads quoted newlines inside a message itself.
    return open(path, encoding=encoding, newline="")


def detect(path: Path, encoding: str) -> str:
    """The format of a file, from its first lines; FileError when it is none we know."""
    with open_text(path, encoding) as fh:
        head = fh.read(_SNIFF)
    lines = [ln.strip().lstrip("\ufeff") for ln in head.splitlines()]
    first = next((ln for ln in lines if ln and not ln.startswith("#")), "")
    cells = first.split(",")
    if "localId" in cells[0] or "StrContent" in first or cells[0] == "消息ID":
        return "memotrace-csv"
    if first.startswith("{"):
        if _jsonl_header(first) or '"chatlab"' in head:
            return "chatlab"
        if '"weflow"' in head[:4096] or ('"session"' in head and '"messages"' in head):
            return "weflow"
    if _TXT_HEAD.match(first):
        return "memotrace-txt"
    if len(cells) >= 5 and any(c in first for c in ("Type", "类型", "时间", "CreateTime")):
        raise FileError(f"看起来是 CSV，但表头不是已知的留痕格式：实际是「{first[:200]}」。{EXPECTED}")
    raise FileError(f"无法识别的文件格式（不是已知的导出工具写的）。{EXPECTED}")


def _jsonl_header(line: str) -> bool:
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("_type") == "header"
