"""The console pages: login, overview, room chart, member list and CSV, member, follow-up,
tag rules and check-in tasks. Each builder runs in the app's thread pool and returns
(title, body); everything from chat goes through `render.esc`.
"""

from __future__ import annotations

import asyncio
import calendar
import csv
import io
import secrets
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.errors import UsageError
from bot.features.checkins import service as checkin_service
from bot.features.checkins.service import load_tasks
from bot.features.followup import service as followup_service
from bot.features.member_types.service import scope_for, type_members
from bot.features.tags import service as tag_service
from bot.web import chart
from bot.web.api import followup_lists
from bot.web.app import CONSOLE, SESSION, Console, html_response, read_form
from bot.web.auth import LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL, Signer, same_secret
from bot.web.data import (
    MemberLine,
    active_rules,
    checkin_days_of,
    checkins_on,
    holders_of,
    leads_since,
    ledger_of,
    member_dicts,
    member_row,
    new_tags_since,
    room_counts,
    room_names,
    rooms_of,
    scope_view,
    streaks_of,
    tag_names,
    tags_of,
    week_start,
)
from bot.web.filters import (
    SORTS,
    BadRequest,
    MemberQuery,
    check_params,
    page_of,
    parse_member_query,
    select_lines,
)
from bot.web.render import (
    Markup,
    csrf_field,
    esc,
    flash,
    fmt,
    join,
    options,
    page,
    pager,
    table,
    url,
)
from tiers.checkin import window_text
from tiers.followup import KIND_TITLES
from tiers.levels import progress
from tiers.types import TYPE_LABELS, MemberType, distribution

FLASH_COOKIE = "qg_flash"
LOGIN_FAIL_DELAY = 0.5  # seconds; slows down password guessing
KIND_LABELS = {"checkin": "打卡", "streak_bonus": "连续奖励", "speaking": "发言", "manual": "手动",
               "makeup": "补签"}
SOURCE_LABELS = {"keyword": "关键词", "count": "发言数", "manual": "手动"}
WEB_ACTOR = "网页控制台"
LEDGER_ROWS = 50

Builder = Callable[..., tuple[str, Markup]]


def member_link(member: str, name: str | None) -> Markup:
    return fmt('<a href="/members/{}">{}</a>', quote(member, safe=""), name or member)


def room_link(room: str, name: str | None) -> Markup:
    return fmt('<a href="/rooms/{}">{}</a>', quote(room, safe=""), name or room)


def type_badge(kind: MemberType) -> Markup:
    return fmt('<span class="type-{}">{}</span>', kind.value, TYPE_LABELS[kind])


def local(ts: int, at: datetime) -> str:
    return datetime.fromtimestamp(ts, at.tzinfo).strftime("%Y-%m-%d %H:%M")


def _cookie_kwargs() -> dict[str, Any]:
    return {"httponly": True, "samesite": "Lax", "path": "/"}


async def show(request: web.Request, nav: str, build: Builder, *args: Any,
               status: int = 200, notice: str | None = None, error: bool = False,
               write: bool = False) -> web.Response:
    """Run a page builder and wrap it in the layout, with a one-time notice if any."""
    console = request.app[CONSOLE]
    session = request[SESSION]
    run = console.write if write else console.read
    title, body = await run(build, console, session.csrf, *args)
    carried = console.signer.unseal("flash", request.cookies.get(FLASH_COOKIE))
    if notice is None and carried:
        error, notice = carried[0] == "E", carried[1:]
    resp = html_response(page(title, flash(notice, error=error) + body, csrf=session.csrf,
                              nav=nav), status)
    if FLASH_COOKIE in request.cookies:
        resp.del_cookie(FLASH_COOKIE, path="/")
    return resp


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def redirect_with(request: web.Request, location: str, notice: str, *,
                  error: bool = False) -> web.Response:
    console = request.app[CONSOLE]
    resp = see_other(location)
    resp.set_cookie(FLASH_COOKIE, console.signer.seal("flash", ("E" if error else "N") + notice),
                    max_age=60, **_cookie_kwargs())
    return resp


# ---- login ----------------------------------------------------------------------------------

def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _login_page(console: Console, nonce: str, next_: str, message: str | None) -> str:
    if not console.password and not console.settings.api_token:
        body = flash("还没有设置登录密码：请设置环境变量 QUNGUAN_WEB_PASSWORD"
                     "（或 QUNGUAN_API_TOKEN）后重启。", error=True)
        return page("登录", body)
    body = fmt('{}<form class="login" method="post" action="/login">{}'
               '<input type="hidden" name="next" value="{}">'
               '<label>密码或令牌<input type="password" name="password" autocomplete="current-password" '
               'required autofocus></label><button type="submit">登录</button></form>',
               flash(message, error=True), csrf_field(console.signer.login_csrf(nonce)), next_)
    return page("登录", body)


async def login_form(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    if console.signer.verify(request.cookies.get(SESSION_COOKIE), int(time.time())):
        raise web.HTTPSeeOther(_safe_next(request.query.get("next")))
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    resp = html_response(_login_page(console, nonce, _safe_next(request.query.get("next")), None))
    resp.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, **_cookie_kwargs())
    return resp


async def login(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await read_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not Signer.check_csrf(form.get("csrf"), console.signer.login_csrf(nonce)):
        raise BadRequest("登录表单已失效（CSRF 校验失败），请刷新登录页后重试", 403)
    password = str(form.get("password", ""))
    next_ = _safe_next(str(form.get("next", "/")))
    ok = same_secret(password, console.password) | same_secret(password, console.settings.api_token)
    if not ok:
        await asyncio.sleep(LOGIN_FAIL_DELAY)
        return html_response(_login_page(console, nonce, next_, "密码或令牌不对。"), 401)
    resp = see_other(next_)
    resp.set_cookie(SESSION_COOKIE, console.signer.issue(int(time.time())), max_age=SESSION_TTL,
                    **_cookie_kwargs())
    resp.del_cookie(LOGIN_COOKIE, path="/")
    return resp


async def logout(request: web.Request) -> web.Response:
    resp = see_other("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


# ---- overview -----------------------------------------------------------------------------

def _overview(conn: Connection, console: Console, csrf: str) -> tuple[str, Markup]:
    deps = console.deps
    at = console.now(conn)
    rooms = room_counts(conn)
    view = scope_view(conn, deps.settings, deps.ledger.levels, at, None, console.cache)
    dist = distribution(x.typing for x in view.lines)
    checkins, checkers = checkins_on(conn, at.date())
    since = week_start(at)
    rules = active_rules(conn)
    new_tags = new_tags_since(conn, since, at)
    lead_total, leads = leads_since(conn, since, at, rules)
    cards = join(fmt('<div class="card"><div class="n">{}</div><div class="muted">{}</div></div>',
                     n, label) for n, label in [
        (len(view.lines), "成员"), (len(rooms), "群"),
        (f"{checkins} 次", f"今日打卡（{checkers} 人）"),
        (sum(n for _, n in new_tags), "本周新标签"), (lead_total, "本周新线索")])
    typed_at = "" if view.at == at else f"（{view.at:%H:%M} 的结果，每小时更新）"
    body = [fmt('<p class="muted">数据截至 {}；成员类型按近 {} 天计算{}。</p>'
                '<div class="cards">{}</div>', at.strftime("%Y-%m-%d %H:%M"),
                view.scope.window.days, typed_at, cards)]
    body.append(fmt("<h2>各群成员</h2>{}", table(
        ["群", "成员数", ""],
        [(room_link(r.id, r.name), r.members,
          fmt('<a href="{}">成员列表</a>', url("/members", {"room": r.id}))) for r in rooms],
        empty="还没有群")))
    body.append(fmt("<h2>成员类型（全部群）</h2>{}", table(
        ["类型", "人数"],
        [(fmt('<a href="{}">{}</a>', url("/members", {"type": k.value}), type_badge(k)), n)
         for k, n in dist.items()])))
    body.append(fmt("<h2>本周新标签</h2>{}", table(
        ["标签", "人数"],
        [(fmt('<a href="{}">{}</a>', url("/members", {"tag": tag}), tag), n) for tag, n in new_tags],
        empty="本周还没有新标签")))
    body.append(fmt("<h2>本周新线索</h2>{}", table(
        ["成员", "标签", "原因", "时间"],
        [(member_link(m, name), tv.name, tv.reason,
          local(tv.since, at)) for m, name, tv in leads],
        empty="本周还没有新线索")))
    return "概览", join(body)


async def overview(request: web.Request) -> web.Response:
    check_params(request.query, ())
    return await show(request, "overview", _overview)


# ---- room -----------------------------------------------------------------------------------

def _room(conn: Connection, console: Console, csrf: str, room: str) -> tuple[str, Markup]:
    deps = console.deps
    names = room_names(conn)
    if room not in names:
        raise BadRequest("没有这个群", 404)
    at = console.now(conn)
    view = scope_view(conn, deps.settings, deps.ledger.levels, at, room)
    th = view.thresholds()
    if th is None:
        how = "还没有成员"
    else:
        word = "按中位数划分" if th[2] == "median" else "按本群阈值划分"
        how = f"{word}：登录 ≥{chart.number(th[0])} 天、发言 ≥{chart.number(th[1])} 条为高"
    body = fmt('<p class="muted">数据截至 {}，近 {} 天，{} 位成员；{}。把鼠标移到圆点上可看到成员名字，'
               '点击进入成员页。</p>{}{}<p><a href="{}">查看本群成员列表</a></p>',
               at.strftime("%Y-%m-%d %H:%M"), view.scope.window.days, len(view.lines), how,
               chart.legend(distribution(x.typing for x in view.lines)),
               chart.quadrant_svg(view.lines, view.scope.window.days, th),
               url("/members", {"room": room}))
    return names[room], body


async def room_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    return await show(request, "overview", _room, request.match_info["room"])


# ---- members --------------------------------------------------------------------------------

def _select(conn: Connection, console: Console, params: dict[str, str]
            ) -> tuple[MemberQuery, datetime, list[MemberLine], int, dict[str, str]]:
    deps = console.deps
    names = room_names(conn)
    query = parse_member_query(params, deps.ledger.levels, names)
    at = console.now(conn)
    view = scope_view(conn, deps.settings, deps.ledger.levels, at, query.room, console.cache)
    holders = holders_of(conn, query.tag, at) if query.tag else None
    return query, at, select_lines(view.lines, query, holders), view.scope.window.days, names


def _members(conn: Connection, console: Console, csrf: str,
             params: dict[str, str]) -> tuple[str, Markup]:
    deps = console.deps
    query, at, lines, window, names = _select(conn, console, params)
    shown, pages = page_of(lines, query)
    ids = [x.id for x in shown]
    rooms = rooms_of(conn, ids)
    tags = tags_of(conn, ids, at, active_rules(conn))
    streaks = streaks_of(conn, ids, at.date())
    tag_choices = [("", "全部标签"), *[(t, t) for t in tag_names(conn)]]
    if query.tag and (query.tag, query.tag) not in tag_choices:
        tag_choices.append((query.tag, query.tag))
    level_choices = [("", "全部等级"), *[(str(lv.n), f"Lv{lv.n} {lv.name}") for lv in deps.ledger.levels]]
    type_choices = [("", "全部类型"), *[(k.value, TYPE_LABELS[k]) for k in MemberType]]
    room_choices = [("", "全部群"), *sorted(((r, n) for r, n in names.items()), key=lambda x: x[1])]
    form = fmt(
        '<form class="filters" method="get" action="/members">'
        '<label>搜索<input type="search" name="q" value="{}" placeholder="名字或微信 id"></label>'
        '<label>群<select name="room">{}</select></label>'
        '<label>类型<select name="type">{}</select></label>'
        '<label>标签<select name="tag">{}</select></label>'
        '<label>等级<select name="level">{}</select></label>'
        '<input type="hidden" name="sort" value="{}"><input type="hidden" name="order" value="{}">'
        '<button type="submit">筛选</button> <a href="/members">清除</a>'
        ' <a class="export" href="{}">导出 CSV</a></form>',
        query.q, options(room_choices, query.room or ""),
        options(type_choices, query.type.value if query.type else ""),
        options(tag_choices, query.tag or ""),
        options(level_choices, str(query.level or "")), query.sort,
        "desc" if query.desc else "asc",
        url("/export/members.csv", query.params(page=1)))

    def head(key: str, label: str) -> Markup:
        desc = not (query.sort == key and query.desc)
        arrow = ("↓" if query.desc else "↑") if query.sort == key else ""
        return fmt('<a href="{}">{}{}</a>', url("/members", query.params(
            sort=key, desc=desc if key != "name" or query.sort == key else False, page=1)),
            label, arrow)

    rows = []
    for x in shown:
        tag_html = join(fmt('<span class="tag" title="{}">{}</span>', t.reason, t.name)
                        for t in tags.get(x.id, []))
        rows.append((member_link(x.id, x.name),
                     join((esc(names.get(r, r)) for r in rooms.get(x.id, [])), "、"),
                     fmt('<span title="{}">{}</span>', x.typing.explain(), type_badge(x.typing.type)),
                     x.typing.login_days, x.typing.speaking, x.points,
                     f"Lv{x.level.n} {x.level.name}", streaks.get(x.id, 0), tag_html))
    where = names.get(query.room, query.room) if query.room else "全部群"
    summary = fmt('<p class="muted">{}，近 {} 天，数据截至 {}：共 {} 人符合条件。</p>', where, window,
                  at.strftime("%Y-%m-%d %H:%M"), len(lines))
    headers = [head("name", "成员"), "群", head("type", "类型"), head("login_days", "登录天数"),
               head("speaking", "发言"), head("points", "积分"), "等级", "连续打卡", "标签"]
    body = join([form, summary, table(headers, rows, cls="members", empty="没有符合条件的成员"),
                 pager("/members", query.params(), query.page, pages)])
    return "成员", body


async def members_page(request: web.Request) -> web.Response:
    return await show(request, "members", _members, dict(request.query))


def _csv_cell(value: object) -> object:
    # Spreadsheets run a cell starting with = + - @ as a formula: nicknames are attacker-controlled.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _members_csv(conn: Connection, console: Console, params: dict[str, str]) -> str:
    _, at, lines, _, names = _select(conn, console, params)
    rows = member_dicts(conn, lines, at, active_rules(conn))
    out = io.StringIO()
    out.write("\ufeff")  # a BOM, so Excel reads the file as UTF-8 and Chinese stays readable
    writer = csv.writer(out)
    writer.writerow(["微信ID", "昵称", "所在群", "类型", "类型说明", "登录天数", "发言", "消息", "积分",
                     "等级", "连续打卡", "标签"])
    for r in rows:
        writer.writerow([_csv_cell(v) for v in (
            r["id"], r["name"] or "", "、".join(names.get(x, x) for x in r["rooms"]),
            TYPE_LABELS[MemberType(r["type"])], r["type_explain"], r["login_days"],
            r["speaking"], r["messages"], r["points"], f"Lv{r['level']} {r['level_name']}",
            r["streak"], "；".join(f"{t['name']}（{t['reason']}）" for t in r["tags"]))])
    return out.getvalue()


async def members_csv(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    params = {k: v for k, v in request.query.items() if k not in ("page", "per_page")}
    text = await console.read(_members_csv, console, params)
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="members.csv"'})


# ---- one member -----------------------------------------------------------------------------

def _calendar(month: date, days: dict[date, bool], today: date) -> Markup:
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    rows = []
    for week in weeks:
        cells = []
        for d in week:
            if d.month != month.month:
                cells.append(Markup("<td></td>"))
            elif d in days:
                cells.append(fmt('<td class="on{}" title="{} 已打卡{}">{}</td>',
                                 " made-up" if days[d] else "", d.isoformat(),
                                 "（补签）" if days[d] else "", d.day))
            else:
                cells.append(fmt('<td class="{}">{}</td>', "today" if d == today else "", d.day))
        rows.append(fmt("<tr>{}</tr>", join(cells)))
    head = join(fmt("<th>{}</th>", w) for w in "一二三四五六日")
    return fmt('<div class="calendar"><h3>{}年{}月</h3><table><thead><tr>{}</tr></thead>'
               '<tbody>{}</tbody></table></div>', month.year, month.month, head, join(rows))


def _member(conn: Connection, console: Console, csrf: str, member: str) -> tuple[str, Markup]:
    deps = console.deps
    row = member_row(conn, member)
    if row is None:
        raise BadRequest("没有这位成员", 404)
    at = console.now(conn)
    today = at.date()
    names = room_names(conn)
    rooms = rooms_of(conn, [member]).get(member, [])
    p = progress(row.points, deps.ledger.levels)
    streak = streaks_of(conn, [member], today).get(member, 0)
    level = f"Lv{p.level.n}「{p.level.name}」"
    if p.next:
        level += f"，距 Lv{p.next.n}「{p.next.name}」还差 {p.to_next} 分"
    info = table(["", ""], [
        ("微信 id", member),
        ("所在群", join((room_link(r, names.get(r)) for r in rooms), "、") if rooms else "无"),
        ("积分", row.points), ("等级", level), ("连续打卡", f"{streak} 天"),
        ("首次出现", local(row.first_at, at)),
    ], cls="info")
    type_rows = []
    for scope_room in rooms or [None]:
        scope = scope_for(conn, at, scope_room, deps.settings.window_days)
        typing = type_members(conn, at, scope).get(member)
        where = room_link(scope_room, names.get(scope_room)) if scope_room else "全部群"
        if typing:
            type_rows.append((where, type_badge(typing.type), typing.explain()))
    tags = tags_of(conn, [member], at, active_rules(conn)).get(member, [])
    ledger = ledger_of(conn, member, LEDGER_ROWS)
    months = [today.replace(day=1)]
    for _ in range(2):  # the month and the two before it
        months.insert(0, (months[0] - timedelta(days=1)).replace(day=1))
    days = checkin_days_of(conn, member, months[0])
    body = join([
        info,
        fmt("<h2>成员类型</h2>{}", table(["范围", "类型", "说明"], type_rows, empty="暂无类型")),
        fmt("<h2>标签</h2>{}", table(
            ["标签", "来源", "原因"],
            [(fmt('<span class="tag">{}</span>', t.name), SOURCE_LABELS.get(t.source, t.source),
              t.reason) for t in tags], empty="还没有标签")),
        fmt("<h2>打卡日历</h2>{}", join(_calendar(m, days, today) for m in months)),
        fmt("<h2>积分明细（最近 {} 条）</h2>{}", LEDGER_ROWS, table(
            ["时间", "变动", "类型", "原因", "群"],
            [(local(e.ts, at), f"{e.delta:+d}", KIND_LABELS.get(e.kind, e.kind), e.reason or "",
              names.get(e.room, e.room) if e.room else "私聊") for e in ledger],
            empty="还没有积分记录")),
    ])
    return row.name or member, body


async def member_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    return await show(request, "members", _member, request.match_info["member"])


# ---- follow-up ------------------------------------------------------------------------------

def _followup(conn: Connection, console: Console, csrf: str) -> tuple[str, Markup]:
    at, lists = followup_lists(conn, console)
    parts = [fmt('<p class="muted">{} 的跟进清单。</p>', at.strftime("%Y-%m-%d"))]
    for ol in lists:
        rows = []
        finished = followup_service.done_numbers(conn, ol.list_id) if ol.list_id is not None else set()
        for it in ol.items:
            if it.n in finished:
                rows.append((it.n, KIND_TITLES.get(it.kind, it.kind), member_link(it.member, it.member_name),
                             it.room_name or it.room or "私聊", it.reason, it.action,
                             Markup('<span class="done-mark">已完成</span>')))
                continue
            done = fmt('<form method="post" action="/followup/done" class="inline done">{}'
                       '<input type="hidden" name="operator" value="{}">'
                       '<input type="hidden" name="n" value="{}">'
                       '<input type="text" name="note" maxlength="200" placeholder="备注（可选）">'
                       '<button type="submit">完成</button></form>', csrf_field(csrf),
                       ol.operator, it.n)
            rows.append((it.n, KIND_TITLES.get(it.kind, it.kind), member_link(it.member, it.member_name),
                         it.room_name or it.room or "私聊", it.reason, it.action, done))
        parts.append(fmt('<section class="operator" data-operator="{}"><h2>{}（{}）</h2>{}</section>',
                         ol.operator, ol.operator_name or ol.operator, ol.operator,
                         table(["#", "事项", "成员", "群", "原因", "建议", "完成"], rows,
                               cls="followup", empty="今天没有待跟进的事项")))
    if not lists:
        parts.append(flash("今天没有跟进清单（没有配置运营人员，或都已完成）。"))
    return "今日跟进", join(parts)


async def followup_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    return await show(request, "followup", _followup, write=True)


async def followup_done(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    operator = str(form.get("operator", "")).strip()
    raw_n = str(form.get("n", "")).strip()
    note = str(form.get("note", "")).strip()[:200] or None
    if not operator or not raw_n.isdigit():
        raise BadRequest("请选择要完成的事项")

    def done(conn: Connection) -> str:
        return followup_service.mark_done(conn, operator, [int(raw_n)], note, console.now(conn))
    try:
        summary = await console.write(done)
    except ValueError as exc:
        return redirect_with(request, "/followup", str(exc), error=True)
    return redirect_with(request, "/followup", summary)


# ---- tag rules ------------------------------------------------------------------------------

def _rules(conn: Connection, console: Console, csrf: str, draft: str = "") -> tuple[str, Markup]:
    from tagging.rules import BOTH_USAGE

    rules = active_rules(conn)
    rows = [(rid, rule.describe(), fmt(
        '<form method="post" action="/rules/{}/delete" class="inline">{}'
        '<button type="submit">删除</button></form>', rid, csrf_field(csrf)))
        for rid, rule in rules.items()]
    body = join([
        table(["编号", "规则", ""], rows, cls="rules", empty="还没有标签规则"),
        fmt('<h2>添加规则</h2><form method="post" action="/rules" class="filters">{}'
            '<label>规则（和 /rule add 后面的写法一样）<input type="text" name="rule" size="60" '
            'maxlength="500" value="{}" placeholder="keyword 意向 多少钱,价格 lead=yes"></label>'
            '<button type="submit">添加</button></form><pre class="muted">{}</pre>',
            csrf_field(csrf), draft, BOTH_USAGE),
    ])
    return "标签规则", body


async def rules_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    return await show(request, "rules", _rules)


async def rules_add(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    text = str(form.get("rule", "")).strip()
    if not text:
        raise BadRequest("请写出规则，例如 keyword 意向 多少钱,价格 lead=yes")
    if len(text) > 500:
        raise BadRequest("规则太长（上限 500 字）")

    def add(conn: Connection):
        # Managers name groups as they see them; rules keep room ids.
        rule = tag_service.with_room_ids(conn, tag_service.parse_rule_text(text))
        return tag_service.add_rule(conn, console.deps.tagging, rule, by=WEB_ACTOR,
                                    at=int(console.now(conn).timestamp()))
    try:
        rule = await console.write(add)
    except UsageError as exc:
        return await show(request, "rules", _rules, text, status=400, notice=str(exc), error=True)
    return redirect_with(request, "/rules", f"已添加规则：{rule.describe()}")


async def rules_delete(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    rule_id = int(request.match_info["rule_id"])
    try:
        tag, removed = await console.write(lambda conn: tag_service.delete_rule(
            conn, console.deps.tagging, rule_id))
    except LookupError as exc:
        return redirect_with(request, "/rules", str(exc), error=True)
    return redirect_with(request, "/rules", f"已删除规则 #{rule_id}（{tag}），并撤下了它自动打的 "
                                            f"{removed} 个标签；手动标签不受影响。")


# ---- check-in tasks -------------------------------------------------------------------------

def _tasks(conn: Connection, console: Console, csrf: str,
           draft: dict[str, str] | None = None) -> tuple[str, Markup]:
    names = room_names(conn)
    draft = draft or {}
    rows = []
    for t in load_tasks(conn):
        action = fmt('<form method="post" action="/tasks/disable" class="inline">{}'
                     '<input type="hidden" name="name" value="{}"><button type="submit">停用</button>'
                     '</form>', csrf_field(csrf), t.name) if t.active else "已停用"
        rows.append((t.id, t.name, "/".join(t.triggers), window_text(t), t.points,
                     f"{t.challenge_days} 天" if t.challenge_days else "",
                     names.get(t.room, t.room) if t.room else "所有群", action))
    room_choices = [("", "所有群"), *sorted(names.items(), key=lambda x: x[1])]
    form = fmt(
        '<h2>添加打卡任务</h2><form method="post" action="/tasks" class="filters">{}'
        '<label>名称<input type="text" name="name" maxlength="20" required value="{}"></label>'
        '<label>触发词（逗号分隔，默认同名称）<input type="text" name="triggers" value="{}"></label>'
        '<label>时间段<input type="text" name="window" placeholder="05:00-09:00" value="{}"></label>'
        '<label>积分<input type="number" name="points" min="1" value="{}"></label>'
        '<label>挑战天数<input type="number" name="challenge_days" min="1" value="{}"></label>'
        '<label>群<select name="room">{}</select></label>'
        '<button type="submit">添加</button></form>', csrf_field(csrf), draft.get("name", ""),
        draft.get("triggers", ""), draft.get("window", ""), draft.get("points", "10"),
        draft.get("challenge_days", ""), options(room_choices, draft.get("room", "")))
    body = join([table(["编号", "名称", "触发词", "时间", "积分", "挑战", "群", ""], rows,
                       cls="tasks", empty="还没有打卡任务"), form])
    return "打卡任务", body


async def tasks_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    return await show(request, "tasks", _tasks)


def _positive(value: str, what: str) -> int:
    if not value.isdigit() or int(value) < 1 or int(value) > 100_000:
        raise ValueError(f"{what}应为 1 到 100000 的整数，收到「{value[:20]}」")
    return int(value)


async def tasks_add(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    draft = {k: str(form.get(k, "")).strip() for k in
             ("name", "triggers", "window", "points", "challenge_days", "room")}

    def add(conn: Connection):
        if draft["room"] and draft["room"] not in room_names(conn):
            raise ValueError("没有这个群")
        triggers = [t.strip() for t in draft["triggers"].replace("，", ",").split(",") if t.strip()]
        return checkin_service.add_task(
            conn, console.deps.checkins, name=draft["name"], triggers=triggers or None,
            window=draft["window"] or None, points=_positive(draft["points"] or "10", "积分"),
            challenge_days=_positive(draft["challenge_days"], "挑战天数")
            if draft["challenge_days"] else None,
            room=draft["room"] or None)
    try:
        task = await console.write(add)
    except ValueError as exc:
        return await show(request, "tasks", _tasks, draft, status=400, notice=str(exc), error=True)
    return redirect_with(request, "/tasks", f"已添加打卡任务「{task.name}」。")


async def tasks_disable(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    name = str(form.get("name", "")).strip()
    try:
        await console.write(lambda conn: checkin_service.disable_task(
            conn, console.deps.checkins, name))
    except LookupError as exc:
        return redirect_with(request, "/tasks", str(exc), error=True)
    return redirect_with(request, "/tasks", f"已停用打卡任务「{name}」。")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/login", login_form)
    router.add_post("/login", login)
    router.add_post("/logout", logout)
    router.add_get("/", overview)
    router.add_get(r"/rooms/{room:.+}", room_page)
    router.add_get("/members", members_page)
    router.add_get("/export/members.csv", members_csv)
    router.add_get(r"/members/{member:.+}", member_page)
    router.add_get("/followup", followup_page)
    router.add_post("/followup/done", followup_done)
    router.add_get("/rules", rules_page)
    router.add_post("/rules", rules_add)
    router.add_post(r"/rules/{rule_id:\d{1,9}}/delete", rules_delete)
    router.add_get("/tasks", tasks_page)
    router.add_post("/tasks", tasks_add)
    router.add_post("/tasks/disable", tasks_disable)


__all__ = ["SORTS", "add_routes"]
