"""The quadrant chart of a room as server-side SVG: login days × speaking, one dot per member.

Dots carry a `<title>` (the browser's own tooltip) naming the member and a link to the
member's page; the threshold lines split the four types. No script, no external library.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from urllib.parse import quote

from bot.web.data import MemberLine
from bot.web.render import Markup, fmt, join
from tiers.types import TYPE_LABELS, MemberType

WIDTH, HEIGHT = 760, 480
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 24, 48

TYPE_COLORS: dict[MemberType, str] = {
    MemberType.CORE: "#d92d20",
    MemberType.LURKER: "#1570ef",
    MemberType.BURST: "#dc6803",
    MemberType.DORMANT: "#98a2b3",
    MemberType.NEW: "#079455",
}


def _jitter(member: str) -> tuple[float, float]:
    """A small fixed offset per member, so members with equal numbers do not hide each other."""
    h = hashlib.blake2s(member.encode(), digest_size=4).digest()
    return (h[0] / 255 - 0.5), (h[1] / 255 - 0.5)


def _ticks(top: float, count: int = 5) -> list[int]:
    if top <= 0:
        return [0]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return list(range(0, int(top) + 1, int(step)))


def number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def quadrant_svg(lines: Sequence[MemberLine], window_days: int,
                 thresholds: tuple[float, float, str] | None) -> Markup:
    """The chart. Speaking is drawn on a square-root scale: a few very talkative members would
    otherwise squeeze everybody else onto the bottom line."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    # A little headroom, so the most talkative member's dot is not cut by the frame.
    top_speaking = 1.05 * max([x.typing.speaking for x in lines] + [thresholds[1] if thresholds else 0, 4])

    def sx(days: float) -> float:
        return LEFT + plot_w * min(days, window_days) / max(window_days, 1)

    def sy(speaking: float) -> float:
        return TOP + plot_h * (1 - math.sqrt(max(speaking, 0)) / math.sqrt(top_speaking))

    parts: list[Markup] = [fmt('<rect x="{}" y="{}" width="{}" height="{}" fill="#fff" '
                               'stroke="#e4e7ec"/>', LEFT, TOP, plot_w, plot_h)]
    for d in _ticks(window_days, 6):
        parts.append(fmt('<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="#f2f4f7"/>'
                         '<text x="{0}" y="{3}" text-anchor="middle" font-size="11" '
                         'fill="#667085">{4}</text>', f"{sx(d):.1f}", TOP, TOP + plot_h,
                         TOP + plot_h + 16, d))
    for s in _ticks(top_speaking, 6):
        parts.append(fmt('<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="#f2f4f7"/>'
                         '<text x="{3}" y="{4}" text-anchor="end" font-size="11" '
                         'fill="#667085">{5}</text>', LEFT, LEFT + plot_w, f"{sy(s):.1f}",
                         LEFT - 6, f"{sy(s) + 4:.1f}", s))
    parts.append(fmt('<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#344054">'
                     '近 {} 天登录天数</text>', LEFT + plot_w / 2, HEIGHT - 8, window_days))
    parts.append(fmt('<text x="14" y="{0}" font-size="12" fill="#344054" text-anchor="middle" '
                     'transform="rotate(-90 14 {0})">发言条数（平方根刻度）</text>',
                     f"{TOP + plot_h / 2:.0f}"))
    if thresholds:
        login_t, speaking_t, source = thresholds
        word = "中位数" if source == "median" else "阈值"
        x, y = sx(login_t), sy(speaking_t)
        parts.append(fmt(
            '<g class="thresholds" stroke="#344054" stroke-dasharray="5 4">'
            '<line class="threshold-login" x1="{0}" x2="{0}" y1="{1}" y2="{2}"/>'
            '<line class="threshold-speaking" x1="{3}" x2="{4}" y1="{5}" y2="{5}"/></g>'
            '<text x="{6}" y="{7}" font-size="11" fill="#344054">登录{8} {9} 天</text>'
            '<text x="{10}" y="{11}" font-size="11" fill="#344054" text-anchor="end">'
            '发言{8} {12} 条</text>',
            f"{x:.1f}", TOP, TOP + plot_h, LEFT, LEFT + plot_w, f"{y:.1f}",
            f"{x + 4:.1f}", TOP + 12, word, number(login_t), LEFT + plot_w - 4,
            f"{y - 4:.1f}", number(speaking_t)))
        corners = [(MemberType.BURST, LEFT + 6, TOP + 28, "start"),
                   (MemberType.CORE, LEFT + plot_w - 6, TOP + 28, "end"),
                   (MemberType.DORMANT, LEFT + 6, TOP + plot_h - 8, "start"),
                   (MemberType.LURKER, LEFT + plot_w - 6, TOP + plot_h - 8, "end")]
        for kind, cx, cy, anchor in corners:
            parts.append(fmt('<text x="{}" y="{}" font-size="13" font-weight="600" '
                             'text-anchor="{}" fill="{}" opacity="0.55">{}</text>',
                             cx, cy, anchor, TYPE_COLORS[kind], TYPE_LABELS[kind]))
    dots = []
    for x in sorted(lines, key=lambda m: m.id):
        t = x.typing
        jx, jy = _jitter(x.id)
        cx = sx(t.login_days) + jx * plot_w / max(window_days, 1) * 0.6
        cy = sy(t.speaking) + jy * 6
        dots.append(fmt(
            '<a href="/members/{}"><circle class="dot type-{}" cx="{}" cy="{}" r="4.5" '
            'fill="{}" data-member="{}">'
            '<title>{}：登录 {} 天，发言 {} 条（{}）</title></circle></a>',
            quote(x.id, safe=""), t.type.value, f"{cx:.1f}", f"{cy:.1f}",
            TYPE_COLORS[t.type], x.id, x.label, t.login_days, t.speaking, TYPE_LABELS[t.type]))
    parts.append(fmt('<g class="dots" fill-opacity="0.75" stroke="#fff" stroke-width="0.8">{}</g>',
                     join(dots)))
    return fmt('<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {1}" '
               'width="{0}" height="{1}" role="img" aria-label="成员象限图">{2}</svg>',
               WIDTH, HEIGHT, join(parts))


def legend(counts: dict[MemberType, int]) -> Markup:
    return fmt('<p class="legend">{}</p>', join(
        fmt('<span class="type-{}">● {} {} 人</span>', k.value, TYPE_LABELS[k], n)
        for k, n in counts.items()))
