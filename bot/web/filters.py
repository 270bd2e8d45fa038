"""The member list's query string: filters, sorting and pages, checked with Chinese reasons.

Shared by the members page, its CSV export and `GET /api/members`, so all three accept and
refuse exactly the same input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.features.segments.service import Assessment
from bot.web.data import MemberLine
from bot.web.shell import BadRequest, check_params
from tiers.grades import GRADES
from tiers.levels import Level
from tiers.lifecycle import Stage, find_stage
from tiers.rfm import Segment, find_segment
from tiers.types import MemberType, parse_type

MEMBER_PARAMS = ("room", "type", "tag", "level", "grade", "segment", "stage", "who", "q", "sort", "order",
                 "page", "per_page")
# Where a member stands with the private account: a friend, a friend in no group, in a group.
WHO = {"friends": "好友", "friends_only": "仅好友（没进群）", "groups": "在群里"}
SORTS: dict[str, str] = {"login_days": "登录天数", "speaking": "发言", "messages": "消息",
                         "points": "积分", "name": "名字", "type": "类型"}
TYPE_ORDER = {t: i for i, t in enumerate(MemberType)}
PER_PAGE, MAX_PER_PAGE = 50, 200


@dataclass(frozen=True)
class MemberQuery:
    room: str | None = None
    type: MemberType | None = None
    tag: str | None = None
    level: int | None = None
    grade: str | None = None
    segment: Segment | None = None
    stage: Stage | None = None
    who: str | None = None  # a key of WHO
    q: str = ""
    sort: str = "login_days"
    desc: bool = True
    page: int = 1
    per_page: int = PER_PAGE

    def params(self, **changes: Any) -> dict[str, object]:
        """The query string that gives this query back (defaults left out)."""
        q = replace(self, **changes) if changes else self
        out: dict[str, object] = {"room": q.room, "type": q.type.value if q.type else None,
                                  "tag": q.tag, "level": q.level, "grade": q.grade,
                                  "segment": q.segment.value if q.segment else None,
                                  "stage": q.stage.value if q.stage else None, "who": q.who, "q": q.q}
        if q.sort != "login_days" or not q.desc:
            out |= {"sort": q.sort, "order": "desc" if q.desc else "asc"}
        if q.per_page != PER_PAGE:
            out["per_page"] = q.per_page
        if q.page != 1:
            out["page"] = q.page
        return out


def _int(value: str, what: str, low: int, high: int | None = None) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise BadRequest(f"{what}应为整数，收到「{value[:20]}」") from None
    if n < low or (high is not None and n > high):
        bound = f"{low} 到 {high}" if high is not None else f"不小于 {low}"
        raise BadRequest(f"{what}应在 {bound} 之间，收到 {n}")
    return n


def parse_level(value: str, levels: Sequence[Level]) -> int:
    v = value.strip()
    key = v[2:] if v.lower().startswith("lv") else v
    for lv in levels:
        if key == str(lv.n) or v == lv.name:
            return lv.n
    names = "、".join(f"{lv.n}（{lv.name}）" for lv in levels)
    raise BadRequest(f"不认识的等级「{v[:20]}」，可以用：{names}")


def parse_member_query(params: Mapping[str, str], levels: Sequence[Level],
                       known_rooms: Mapping[str, str]) -> MemberQuery:
    check_params(params, MEMBER_PARAMS)
    values = {k: v for k, v in params.items() if v.strip()}
    room = values.get("room")
    if room is not None and room not in known_rooms:
        raise BadRequest(f"没有这个群：{room[:60]}", 404)
    kind = None
    if "type" in values:
        try:
            kind = parse_type(values["type"])
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    tag = values.get("tag")
    if tag is not None and len(tag) > 50:
        raise BadRequest("标签名太长（上限 50 字）")
    level = parse_level(values["level"], levels) if "level" in values else None
    grade = values.get("grade", "").strip().upper() or None
    if grade is not None and grade not in GRADES:
        raise BadRequest(f"不认识的客户等级「{grade[:10]}」，可以用：A、B、C、D")
    segment = find_segment(values["segment"]) if "segment" in values else None
    if "segment" in values and segment is None:
        raise BadRequest(f"不认识的 RFM 分层「{values['segment'][:20]}」")
    stage = find_stage(values["stage"]) if "stage" in values else None
    if "stage" in values and stage is None:
        raise BadRequest(f"不认识的生命周期阶段「{values['stage'][:20]}」")
    who = values.get("who")
    if who is not None and who not in WHO:
        raise BadRequest(f"不认识的 who「{who[:20]}」，可以用：{'、'.join(WHO)}")
    q = values.get("q", "").strip()
    if len(q) > 50:
        raise BadRequest("搜索词太长（上限 50 字）")
    sort = values.get("sort", "login_days")
    if sort not in SORTS:
        raise BadRequest(f"不认识的排序「{sort[:20]}」，可以用：{'、'.join(SORTS)}")
    order = values.get("order", "desc")
    if order not in ("asc", "desc"):
        raise BadRequest("order 应为 asc 或 desc")
    page = _int(values["page"], "页码", 1) if "page" in values else 1
    per_page = _int(values["per_page"], "每页条数", 1, MAX_PER_PAGE) if "per_page" in values \
        else PER_PAGE
    return MemberQuery(room, kind, tag, level, grade, segment, stage, who, q, sort, order == "desc", page,
                       per_page)


def select_lines(lines: Sequence[MemberLine], query: MemberQuery,
                 tag_holders: set[str] | None, playbook: Assessment,
                 allowed: set[str] | None = None) -> list[MemberLine]:
    """Filter and sort; `tag_holders` are the members holding `query.tag` (None: no tag filter),
    `allowed` the members `query.who` leaves (None: no such filter)."""
    needle = query.q.casefold()
    grades, scores, stages = playbook.grades, playbook.rfm, playbook.stages
    out = [x for x in lines
           if (query.type is None or x.typing.type is query.type)
           and (query.level is None or x.level.n == query.level)
           and (query.grade is None or (x.id in grades and grades[x.id].grade == query.grade))
           and (query.segment is None or (x.id in scores and scores[x.id].segment is query.segment))
           and (query.stage is None or (x.id in stages and stages[x.id].stage is query.stage))
           and (tag_holders is None or x.id in tag_holders)
           and (allowed is None or x.id in allowed)
           and (not needle or needle in (x.name or "").casefold() or needle in x.id.casefold())]
    keys = {
        "login_days": lambda x: (x.typing.login_days, x.typing.speaking),
        "speaking": lambda x: (x.typing.speaking, x.typing.login_days),
        "messages": lambda x: (x.messages, x.typing.login_days),
        "points": lambda x: (x.points, 0),
        "name": lambda x: ((x.name or x.id).casefold(), 0),
        "type": lambda x: (TYPE_ORDER[x.typing.type], 0),
    }
    key = keys[query.sort]
    out.sort(key=lambda x: x.id)  # a stable tie-break, so pages never overlap
    out.sort(key=key, reverse=query.desc)
    return out


def page_of(lines: Sequence[MemberLine], query: MemberQuery) -> tuple[list[MemberLine], int]:
    pages = max(1, -(-len(lines) // query.per_page))
    if query.page > pages:
        raise BadRequest(f"页码 {query.page} 超出范围：共 {pages} 页")
    start = (query.page - 1) * query.per_page
    return list(lines[start : start + query.per_page]), pages
