"""Outreach in the store: selecting members, 群发 drafts and campaigns, queuing 1:1 messages with
quiet hours, pacing, a per-member reach limit and a daily cap per account, and 退订."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.adapters.base import Outgoing
from bot.core import audit
from bot.core.accounts import bot_accounts, route
from bot.core.deps import Deps
from bot.core.directory import room_id_or_error, room_names
from bot.core.errors import UsageError
from bot.core.outbox import cancel_pending
from bot.core.pipeline import enqueue_at
from bot.core.report import ReportExtra, member_rows, resolve_scope
from bot.core.settings import Settings
from bot.features.followup.api import RoomOperator
from bot.features.member_types.api import type_fields
from bot.features.outreach.models import OutreachCampaign, OutreachMessage, OutreachOptOut
from bot.features.outreach.settings import OutreachSettings
from bot.features.points.api import points_fields
from bot.features.privacy.api import is_anonymous
from bot.features.segments.api import playbook_fields
from bot.features.tags.api import tag_fields
from bot.store.db import as_date, upsert
from bot.store.models import Outbox, table_of
from tiers import grades, lifecycle, rfm
from tiers.lifecycle import STAGE_LABELS
from tiers.outreach import Pacing, parse_quiet_hours, per_day, plan_sends
from tiers.rfm import SEGMENT_LABELS
from tiers.types import TYPE_LABELS, parse_type

MAX_TEXT = 1000
DRAFT_MINUTES = 30  # a chat draft waits this long for 确认
UNSUBSCRIBE_HINT = "（回复「退订」不再接收此类消息）"
UNSUBSCRIBED = "成员已退订"
ANY_ACCOUNT = ""  # a DM no known account reaches yet (a single process, before its login)


def account_of(conn: Connection, member: str) -> str:
    """The account an outreach message to `member` goes out from (as the outbox routes it):
    the key of the daily cap and the pacing."""
    return route(conn, Outgoing(text="", to=member)) or ANY_ACCOUNT


def pacing_of(settings: Settings) -> Pacing:
    own = settings.of(OutreachSettings)
    return Pacing(parse_quiet_hours(own.outreach_quiet_hours), own.outreach_gap_seconds, own.outreach_daily_cap)


# ---- who is selected ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """Filters a manager combines; every one given must hold."""

    tag: str | None = None
    type: str | None = None  # a MemberType value
    segment: str | None = None  # an RFM segment's label
    stage: str | None = None  # a lifecycle stage's label
    grade: str | None = None
    level: int | None = None  # this level or higher
    room: str | None = None  # a room id

    def empty(self) -> bool:
        return all(v is None for v in (self.tag, self.type, self.segment, self.stage, self.grade,
                                       self.level, self.room))

    def as_options(self) -> str:
        """The filters as `key=value` words, as a chat draft stores them."""
        return " ".join(f"{k}={v}" for k, v in (("tag", self.tag), ("type", self.type), ("segment", self.segment),
                                                  ("stage", self.stage), ("grade", self.grade),
                                                  ("level", self.level), ("room", self.room)) if v is not None)

    def describe(self, conn: Connection) -> str:
        parts = []
        if self.room:
            parts.append(f"群「{room_names(conn, [self.room]).get(self.room, self.room)}」")
        if self.tag:
            parts.append(f"标签「{self.tag}」")
        if self.type:
            parts.append(TYPE_LABELS[parse_type(self.type)])
        if self.segment:
            parts.append(self.segment)
        if self.stage:
            parts.append(f"{self.stage}阶段")
        if self.grade:
            parts.append(f"{self.grade} 级")
        if self.level:
            parts.append(f"Lv{self.level} 及以上")
        return " · ".join(parts) or "全部成员"


SELECTION_KEYS = ("tag", "type", "segment", "stage", "grade", "level", "room")


def parse_selection(conn: Connection, named: Mapping[str, str]) -> Selection:
    """Filters from `key=value` words (canonical keys); ValueError (Chinese) naming a bad one."""
    def word(key: str) -> str | None:
        value = (named.get(key) or "").strip()
        return value or None

    kind = word("type")
    if kind is not None:
        kind = parse_type(kind).value
    segment = word("segment")
    if segment is not None:
        found = rfm.find_segment(segment)
        if found is None:
            raise ValueError(f"不认识的分层「{segment[:20]}」，可以用：{'、'.join(SEGMENT_LABELS.values())}")
        segment = SEGMENT_LABELS[found]
    stage = word("stage")
    if stage is not None:
        found_stage = lifecycle.find_stage(stage)
        if found_stage is None:
            raise ValueError(f"不认识的阶段「{stage[:20]}」，可以用：{'、'.join(STAGE_LABELS.values())}")
        stage = STAGE_LABELS[found_stage]
    grade = word("grade")
    if grade is not None:
        grade = grades.parse_grade(grade.removesuffix("级"))
    level_word = word("level")
    level = None
    if level_word is not None:
        digits = level_word.upper().removeprefix("LV").removesuffix("+")
        if not digits.isdigit() or not 1 <= int(digits) <= 99:
            raise ValueError(f"等级「{level_word[:20]}」应为数字，例如 level=3（Lv3 及以上）")
        level = int(digits)
    room = word("room")
    if room is not None:
        try:
            room = room_id_or_error(conn, room)
        except UsageError as exc:
            raise ValueError(str(exc)) from None
    return Selection(tag=word("tag"), type=kind, segment=segment, stage=stage, grade=grade, level=level, room=room)


def _extras(deps: Deps, sel: Selection) -> list[ReportExtra]:
    """Only the report fields the filters need (the playbook is the slow one)."""
    extras = []
    if sel.type:
        extras.append(type_fields(deps))
    if sel.level:
        extras.append(points_fields(deps))
    if sel.tag:
        extras.append(tag_fields(deps))
    if sel.segment or sel.stage or sel.grade:
        extras.append(playbook_fields(deps))
    return extras


def _matches(row: Mapping[str, Any], sel: Selection) -> bool:
    if not row["rooms"] or (sel.room and sel.room not in row["rooms"]):
        return False
    if sel.tag and sel.tag not in {t["name"] for t in row.get("tags", ())}:
        return False
    if sel.type and row.get("type") != sel.type:
        return False
    if sel.segment and row.get("segment") != sel.segment:
        return False
    if sel.stage and row.get("stage") != sel.stage:
        return False
    if sel.grade and row.get("grade") != sel.grade:
        return False
    return not (sel.level and (row.get("level") or 0) < sel.level)


def select_members(conn: Connection, deps: Deps, sel: Selection, at: datetime,
                   bot_ids: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(id, name) of the members the filters select, by name: members in a group now, never
    the admins, the operators or the bot itself."""
    scope = resolve_scope(conn, deps.settings, at, sel.room, None)
    staff = (deps.settings.admin_ids | bot_ids | bot_accounts(conn)
             | set(conn.execute(select(col(RoomOperator.member))).scalars()))
    rows = member_rows(conn, scope, _extras(deps, sel))
    chosen = [(r["id"], r["name"] or r["id"]) for r in rows
              if r["id"] not in staff and not is_anonymous(r["id"]) and _matches(r, sel)]
    return sorted(chosen, key=lambda m: (m[1], m[0]))


# ---- reach, caps, quiet hours -------------------------------------------------------------------

def unsubscribed(conn: Connection) -> set[str]:
    return set(conn.execute(select(col(OutreachOptOut.member))).scalars())


# What counts against the reach limit of a message of each kind: a 群发 waits for any outreach
# of the last days; a reminder only for a 群发, so the second reminder of one broken streak
# (3 days after the first) is not held back by the first.
REACH_COUNTS = {"broadcast": ("broadcast", "reminder"), "reminder": ("broadcast",)}


def reached(conn: Connection, members: Sequence[str], since: int, kind: str = "broadcast") -> set[str]:
    """Those of `members` with outreach that counts against a `kind` message queued for
    after `since` (epoch)."""
    out: set[str] = set()
    for i in range(0, len(members), 900):
        out.update(conn.execute(select(col(OutreachMessage.member)).where(
            col(OutreachMessage.member).in_(members[i : i + 900]), col(OutreachMessage.kind).in_(REACH_COUNTS[kind]),
            col(OutreachMessage.send_at) > since)).scalars())
    return out


def _account_load(conn: Connection, account: str, today: date) -> tuple[dict[date, int], int | None]:
    """The account's outreach messages per local day from today on, and its latest send time."""
    used = dict(conn.execute(select(col(OutreachMessage.day), func.count()).where(
        col(OutreachMessage.account) == account, col(OutreachMessage.day) >= today)
        .group_by(col(OutreachMessage.day))).all())
    latest = conn.execute(select(func.max(col(OutreachMessage.send_at))).where(
        col(OutreachMessage.account) == account)).scalar()
    return {as_date(d): n for d, n in used.items()}, latest


@dataclass(frozen=True)
class Plan:
    """Who would get a message now and when; who is left out and why."""

    times: dict[str, datetime]  # member → when it may go out
    accounts: dict[str, str]  # member → the account it goes out from
    reached: list[str]  # got outreach within the reach limit
    unsubscribed: list[str]

    def days(self) -> list[tuple[date, int]]:
        return per_day(list(self.times.values()))


def plan(conn: Connection, settings: Settings, members: Sequence[str], now: datetime,
         kind: str = "broadcast") -> Plan:
    """When each member's message would go out (read-only): the preview and the queue agree."""
    now = now.astimezone(settings.tz)
    out = unsubscribed(conn)
    days = settings.of(OutreachSettings).outreach_reach_days
    since = int(now.timestamp()) - days * 86400
    recent = reached(conn, list(members), since, kind) if days else set()
    ok = [m for m in members if m not in out and m not in recent]
    pacing = pacing_of(settings)
    times: dict[str, datetime] = {}
    accounts = {m: account_of(conn, m) for m in ok}
    by_account: dict[str, list[str]] = {}
    for m in ok:
        by_account.setdefault(accounts[m], []).append(m)
    for account, ms in by_account.items():
        used, latest = _account_load(conn, account, now.date())
        after = datetime.fromtimestamp(latest, settings.tz) if latest else None
        times.update(zip(ms, plan_sends(len(ms), now, pacing, used, after), strict=True))
    return Plan(times, accounts, [m for m in members if m in recent and m not in out],
                [m for m in members if m in out])


def queue(conn: Connection, settings: Settings, texts: Mapping[str, str], now: datetime, *, kind: str,
          campaign_id: int | None = None, origin: str | None = None) -> Plan:
    """Queue one 1:1 message per member (`texts`: member → text) in the outbox, each not before
    its planned time; members reached lately or unsubscribed get nothing."""
    p = plan(conn, settings, list(texts), now, kind)
    rows = []
    for member, at in p.times.items():
        account = p.accounts[member]
        out = Outgoing(text=texts[member], to=member, account=account or None)
        outbox_id = enqueue_at(conn, out, now, int(at.timestamp()), origin)
        rows.append({"kind": kind, "campaign_id": campaign_id, "member": member, "account": account,
                     "outbox_id": outbox_id, "send_at": int(at.timestamp()), "day": at.date()})
    if rows:
        conn.execute(table_of(OutreachMessage).insert(), rows)
    return p


def set_subscribed(conn: Connection, member: str, subscribed: bool, at: int) -> tuple[bool, int]:
    """退订 / 恢复订阅; returns (whether it changed, how many queued messages were dropped)."""
    if subscribed:
        done = conn.execute(delete(table_of(OutreachOptOut)).where(col(OutreachOptOut.member) == member))
        return done.rowcount > 0, 0
    was = conn.execute(select(col(OutreachOptOut.member)).where(col(OutreachOptOut.member) == member)).first()
    upsert(conn, table_of(OutreachOptOut), [{"member": member, "at": at}], ["member"])
    waiting = list(conn.execute(select(col(OutreachMessage.outbox_id)).where(
        col(OutreachMessage.member) == member)).scalars())
    return was is None, cancel_pending(conn, waiting, UNSUBSCRIBED)


# ---- campaigns ----------------------------------------------------------------------------------

def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError("请写出要发的消息。")
    if len(text) > MAX_TEXT:
        raise ValueError(f"消息太长了（{len(text)} 字），最多 {MAX_TEXT} 字。")
    return text


def message_for(text: str) -> str:
    return f"{text}\n{UNSUBSCRIBE_HINT}"


def save_draft(conn: Connection, by: str, via: str, sel: Selection, text: str, selected: int, at: int) -> int:
    """A chat 群发 waiting for 确认 (an earlier draft of the same manager is replaced)."""
    cancel_drafts(conn, by)
    key = conn.execute(table_of(OutreachCampaign).insert().values(
        created_at=at, by=by, via=via, selection=sel.as_options(), text=text, status="draft",
        selected=selected, queued=0, skipped=0)).inserted_primary_key
    assert key is not None
    return int(key[0])


def cancel_drafts(conn: Connection, by: str) -> int:
    done = conn.execute(update(table_of(OutreachCampaign)).where(
        col(OutreachCampaign.by) == by, col(OutreachCampaign.status) == "draft").values(status="cancelled"))
    return done.rowcount


def pending_draft(conn: Connection, by: str, at: int) -> OutreachCampaign | None:
    row = conn.execute(select(OutreachCampaign).where(
        col(OutreachCampaign.by) == by, col(OutreachCampaign.status) == "draft",
        col(OutreachCampaign.created_at) >= at - DRAFT_MINUTES * 60)
        .order_by(col(OutreachCampaign.id).desc()).limit(1)).first()
    return OutreachCampaign.model_validate(row._mapping) if row else None


@dataclass(frozen=True)
class Sent:
    campaign_id: int
    selected: int
    plan: Plan


def send_campaign(conn: Connection, deps: Deps, *, by: str, via: str, sel: Selection, text: str,
                  now: datetime, bot_ids: frozenset[str] = frozenset(), draft_id: int | None = None,
                  origin: str | None = None, room: str | None = None) -> Sent:
    """Select again (as of now), queue the messages and record the campaign, in the audit log
    too (`via` "chat" from `by` in `room` or 1:1, or "console")."""
    members = select_members(conn, deps, sel, now, bot_ids)
    if not members:
        raise LookupError("没有符合条件的成员")
    at = int(now.timestamp())
    if draft_id is None:
        key = conn.execute(table_of(OutreachCampaign).insert().values(
            created_at=at, by=by, via=via, selection=sel.as_options(), text=text, status="draft",
            selected=len(members), queued=0, skipped=0)).inserted_primary_key
        assert key is not None
        draft_id = int(key[0])
    p = queue(conn, deps.settings, {m: message_for(text) for m, _ in members}, now, kind="broadcast",
              campaign_id=draft_id, origin=origin)
    conn.execute(update(table_of(OutreachCampaign)).where(col(OutreachCampaign.id) == draft_id).values(
        status="queued", selected=len(members), queued=len(p.times),
        skipped=len(p.reached) + len(p.unsubscribed), confirmed_at=at))
    console = via == "console"
    audit.record(conn, at=at, actor=audit.CONSOLE_ACTOR if console else by,
                 where=audit.CONSOLE if console else audit.where_of(room), room=room, action="outreach_sent",
                 detail=f"{sel.describe(conn)}：{text}",
                 result=f"群发 #{draft_id}：选中 {len(members)} 人，排队 {len(p.times)} 人，"
                        f"未发 {len(p.reached) + len(p.unsubscribed)} 人（触达上限或已退订）")
    return Sent(draft_id, len(members), p)


@dataclass(frozen=True)
class CampaignLine:
    id: int
    at: int
    by: str
    via: str
    selection: str
    text: str
    selected: int
    queued: int
    skipped: int
    sent: int  # delivered so far


def campaigns(conn: Connection, limit: int = 50) -> list[CampaignLine]:
    """The latest queued campaigns, with how many of their messages went out so far."""
    rows = conn.execute(select(OutreachCampaign).where(col(OutreachCampaign.status) == "queued")
                        .order_by(col(OutreachCampaign.id).desc()).limit(limit)).all()
    found = [OutreachCampaign.model_validate(r._mapping) for r in rows]
    sent = sent_counts(conn, [c.id for c in found if c.id is not None])
    return [CampaignLine(c.id or 0, c.confirmed_at or c.created_at, c.by, c.via,
                         c.selection, c.text, c.selected, c.queued, c.skipped, sent.get(c.id or 0, 0))
            for c in found]


def sent_counts(conn: Connection, campaign_ids: list[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    return {c or 0: n for c, n in conn.execute(
        select(col(OutreachMessage.campaign_id), func.count())
        .join(Outbox, col(OutreachMessage.outbox_id) == col(Outbox.id))
        .where(col(OutreachMessage.campaign_id).in_(campaign_ids), col(Outbox.status) == "sent")
        .group_by(col(OutreachMessage.campaign_id)))}
