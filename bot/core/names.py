"""How a member's or a room's name is shown wherever people read it (chat replies, the console,
CSV exports, lists, the terminal): the one safe form of a display name."""

from __future__ import annotations

import hashlib
import unicodedata
from functools import lru_cache

NAME_PREFIX = "name:"  # a member known only by a display name (see derived_id)
NAMELESS = "（无名）"
# Bidi embeddings, overrides, isolates and marks: in a name they could reorder the rest of the
# line it is shown in (a reply, a list row, a CSV cell), so they are taken out.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_FSI, _PDI = "\u2068", "\u2069"
# Characters that draw nothing although they are not format characters: WeChat users pick
# them for "invisible" names.
_BLANK = frozenset("\u3164\u115f\u1160\uffa0\u2800\u180e")
_TAIL = 4


def id_tail(ident: str) -> str:
    return ident[-_TAIL:]


@lru_cache(maxsize=1 << 14)
def display(name: str | None, ident: str = "") -> str:
    """`name` safe to show: bidi controls removed, other control and line-breaking characters
    turned into spaces, a name with right-to-left letters isolated (FSI … PDI) so it cannot
    reorder what follows it, and an empty or invisible name (only zero-width, blank or
    format characters) shown as 「（无名）」 with the last characters of the id. Emoji
    sequences (ZWJ, variation selectors) stay whole."""
    raw = name or ""
    out: list[str] = []
    visible = rtl = False
    for ch in raw:
        if ch in _BIDI_CONTROLS:
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Zl", "Zp", "Cs"):
            out.append(" ")
            continue
        out.append(ch)
        if not visible and cat not in ("Cf", "Mn", "Me", "Zs") and ch not in _BLANK:
            visible = True
        if not rtl and unicodedata.bidirectional(ch) in ("R", "AL"):
            rtl = True
    shown = "".join(out).strip()
    if not visible:
        return f"{NAMELESS}［id 尾号 {id_tail(ident)}］" if ident else NAMELESS
    return f"{_FSI}{shown}{_PDI}" if rtl else shown


@lru_cache(maxsize=1 << 14)
def derived_id(room: str, name: str) -> str:
    """A member known only by a display name in a room (MemoTrace 2025 and TXT exports, a joiner
    who never spoke): the same id for that name in that room in every export of every
    generation, until a roster, an export with wxids or live WeChat says whose it is
    (bot.core.merge)."""
    return NAME_PREFIX + hashlib.blake2b(f"{room}\x1f{name}".encode(), digest_size=8).hexdigest()
