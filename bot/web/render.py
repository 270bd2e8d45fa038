"""HTML building blocks: escaping, the page layout, tables, pagination, the stylesheet.

Every value is escaped unless it is `Markup` (HTML this module or a page built itself):
nicknames, messages, tag reasons and room names come from chat and are attacker-controlled.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode


class Markup(str):
    """A string that is already safe HTML."""

    __slots__ = ()

    def __add__(self, other: object) -> Markup:
        return Markup(str.__add__(self, esc(other)))

    def __radd__(self, other: object) -> Markup:
        return Markup(str.__add__(esc(other), self))


def esc(value: object) -> Markup:
    """`value` as HTML text; Markup passes through, None is empty."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    return Markup(html.escape(str(value), quote=True))


def fmt(template: str, *args: object, **kwargs: object) -> Markup:
    """`template.format(...)` with every argument escaped (format specs are not allowed:
    format numbers before passing them)."""
    return Markup(template.format(*[esc(a) for a in args],
                                  **{k: esc(v) for k, v in kwargs.items()}))


def join(parts: Iterable[object], sep: str = "") -> Markup:
    return Markup(sep.join(esc(p) for p in parts))


def url(path: str, params: Mapping[str, object] | None = None) -> str:
    """A link with a query string; empty values are left out. Escape it when put in HTML."""
    query = {k: str(v) for k, v in (params or {}).items() if v not in (None, "")}
    return f"{path}?{urlencode(query)}" if query else path


def page(title: str, body: Markup, *, csrf: str | None = None, nav: str = "") -> Markup:
    """A full console page. `csrf` present means logged in: the nav and logout appear."""
    menu = Markup("")
    if csrf is not None:
        links = [("/", "概览", "overview"), ("/members", "成员", "members"),
                 ("/followup", "跟进", "followup"), ("/rules", "标签规则", "rules"),
                 ("/tasks", "打卡任务", "tasks")]
        items = join(fmt('<a href="{}"{}>{}</a>', href,
                         Markup(' class="on"') if key == nav else Markup(""), label)
                     for href, label, key in links)
        menu = fmt('<nav>{}<form method="post" action="/logout" class="logout">'
                   '<input type="hidden" name="csrf" value="{}">'
                   '<button type="submit">退出登录</button></form></nav>', items, csrf)
    return fmt('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
               '<meta name="viewport" content="width=device-width, initial-scale=1">'
               '<title>{} · 群管</title><link rel="stylesheet" href="/static/app.css"></head>'
               '<body><header><a class="brand" href="/">群管</a>{}</header>'
               '<main><h1>{}</h1>{}</main></body></html>', title, menu, title, body)


def csrf_field(csrf: str) -> Markup:
    return fmt('<input type="hidden" name="csrf" value="{}">', csrf)


def table(headers: Iterable[object], rows: Iterable[Iterable[object]], *,
          cls: str = "", empty: str = "暂无数据") -> Markup:
    head = join(fmt("<th>{}</th>", h) for h in headers)
    body = [join(fmt("<td>{}</td>", c) for c in row) for row in rows]
    if not body:
        return fmt('<p class="empty">{}</p>', empty)
    rows_html = join(fmt("<tr>{}</tr>", r) for r in body)
    return fmt('<table class="{}"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
               cls, head, rows_html)


def flash(message: str | None, *, error: bool = False) -> Markup:
    if not message:
        return Markup("")
    return fmt('<p class="{}" role="status">{}</p>', "error" if error else "notice", message)


def pager(path: str, params: Mapping[str, object], page_no: int, pages: int) -> Markup:
    """Previous/next links keeping the other query parameters."""
    if pages <= 1:
        return Markup("")
    parts = []
    if page_no > 1:
        parts.append(fmt('<a rel="prev" href="{}">上一页</a>', url(path, {**params, "page": page_no - 1})))
    parts.append(fmt("<span>第 {} / {} 页</span>", page_no, pages))
    if page_no < pages:
        parts.append(fmt('<a rel="next" href="{}">下一页</a>', url(path, {**params, "page": page_no + 1})))
    return fmt('<div class="pager">{}</div>', join(parts, " "))


def options(choices: Iterable[tuple[str, str]], selected: str) -> Markup:
    return join(fmt('<option value="{}"{}>{}</option>', value,
                    Markup(" selected") if value == selected else Markup(""), label)
                for value, label in choices)


STYLESHEET = """
:root { --ink:#1f2933; --muted:#667085; --line:#e4e7ec; --accent:#0f766e; --bg:#f8fafc; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.6 -apple-system, "PingFang SC", "Noto Sans CJK SC",
       "Microsoft YaHei", sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; align-items:center; gap:24px; padding:10px 24px; background:#fff;
         border-bottom:1px solid var(--line); }
header .brand { font-weight:700; font-size:18px; color:var(--accent); text-decoration:none; }
nav { display:flex; align-items:center; gap:16px; flex:1; }
nav a { color:var(--ink); text-decoration:none; }
nav a.on { color:var(--accent); font-weight:600; }
nav .logout { margin-left:auto; }
main { padding:16px 24px; max-width:1200px; }
h1 { font-size:20px; margin:8px 0 16px; }
h2 { font-size:16px; margin:20px 0 8px; }
table { border-collapse:collapse; width:100%; background:#fff; }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:500; white-space:nowrap; }
th a { color:inherit; }
.cards { display:flex; flex-wrap:wrap; gap:12px; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:12px 16px;
        min-width:160px; }
.card .n { font-size:22px; font-weight:600; }
.muted, .empty { color:var(--muted); }
.notice { background:#ecfdf3; border:1px solid #abefc6; padding:8px 12px; }
.error { background:#fef3f2; border:1px solid #fecdca; padding:8px 12px; }
form.filters { display:flex; flex-wrap:wrap; gap:8px; align-items:end; margin-bottom:12px; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); }
input, select, button { font:inherit; padding:4px 8px; }
button { cursor:pointer; }
.pager { margin:12px 0; display:flex; gap:12px; }
.tag { display:inline-block; background:#eef4ff; border-radius:4px; padding:0 6px; margin:0 4px 2px 0; }
.type-core { color:#d92d20; } .type-lurker { color:#1570ef; } .type-burst { color:#dc6803; }
.type-dormant { color:#667085; } .type-new { color:#079455; }
.chart { background:#fff; border:1px solid var(--line); max-width:100%; height:auto; }
.legend span { margin-right:12px; }
.calendar { display:inline-block; margin:0 16px 16px 0; vertical-align:top; }
.calendar table { width:auto; }
.calendar td { text-align:center; width:28px; padding:2px; }
.calendar td.on { background:var(--accent); color:#fff; border-radius:4px; }
.login { max-width:360px; background:#fff; border:1px solid var(--line); padding:24px; }
.login input { width:100%; margin:8px 0; }
.inline { display:inline; }
form.done { display:flex; gap:6px; }
form.done input { width:140px; }
td.nowrap, th { white-space:nowrap; }
"""
