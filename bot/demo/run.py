"""`qunguan demo`: one group's earlier history imported from a generated MemoTrace export, a
sample community replayed through the real pipeline, then the report."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from bot.adapters.file import FileAdapter
from bot.core.deps import Deps
from bot.core.events import latest_ts, parse_event
from bot.core.feature import report_fields
from bot.core.outbox import OutboxSender
from bot.core.report import member_rows, resolve_scope
from bot.core.settings import Settings
from bot.demo.exports import group_history, write_memotrace_csv
from bot.demo.sample import DEFAULT_TZ, generate_community, write_jsonl
from bot.features.followup.service import current_lists
from bot.features.followup.texts import console_link
from bot.features.points.api import Ledger
from bot.features.segments.api import Playbook
from bot.features.segments.service import assess
from bot.importer.run import run_import
from bot.importer.source import ImportOptions
from bot.web.app import serve_forever
from bot.wiring import FEATURES, build
from tiers.followup import render
from tiers.grades import GRADES
from tiers.lifecycle import STAGE_LABELS, Stage, distribution
from tiers.rfm import SEGMENT_LABELS
from tiers.types import TYPE_LABELS

EXAMPLE_CONFIG = Path(__file__).parents[1] / "example_config.toml"
HISTORY_ROOM = ("r1@chatroom", "读书群")  # the group whose earlier history the demo imports
HISTORY_START = datetime(2026, 9, 1, 7, 0, tzinfo=ZoneInfo(DEFAULT_TZ))  # until the replay's month
HISTORY_MESSAGES = 3000
HISTORY_GAP = 2400  # seconds: 3000 messages over about six weeks
DEMO_WEEKS = 5  # the summary's stage distribution, week by week


def stage_weeks(conn: Connection, deps: Deps, at: datetime, *, weeks: int) -> list[str]:
    """The stage distribution at the end of each of the last `weeks` weeks up to `at`, and the
    change from one week to the next: stages move as members join, settle and drift away."""
    lines = ["  每周变化（每隔 7 天，括号里是比上周多或少的人数）："]
    before: dict[Stage, int] | None = None
    for back in range(weeks - 1, -1, -1):
        when = at - timedelta(days=7 * back)
        found = assess(conn, when, None, deps.service(Playbook), deps.service(Ledger).levels,
                       type_window=deps.settings.window_days, unranked=deps.settings.admin_ids, background=False)
        counts = distribution(found.stages.values())
        parts = []
        for stage, n in counts.items():
            moved = "" if before is None or n == before[stage] else f"（{n - before[stage]:+d}）"
            parts.append(f"{STAGE_LABELS[stage]} {n}{moved}")
        lines.append(f"  {when:%m-%d}：" + "，".join(parts))
        before = counts
    return lines


def _hosts(events: list[dict[str, Any]]) -> list[str]:
    """The most talkative member of each room plays its manager in the demo."""
    per_room: dict[str, Counter[str]] = {}
    for e in events:
        if e["type"] == "message" and e.get("room"):
            per_room.setdefault(e["room"], Counter())[e["sender"]] += 1
    return sorted({c.most_common(1)[0][0] for c in per_room.values()})


def run_demo(folder: Path, *, settings: Settings, serve: bool = False,
             port: int | None = None) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    events = generate_community()
    events_path = folder / "events.jsonl"
    write_jsonl(events, events_path)
    db = folder / "qunguan.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    hosts = _hosts(events)
    password = settings.web_password or secrets.token_urlsafe(9)
    settings = settings.model_copy(update={
        "database_url": f"sqlite:///{db}",
        "admins": ",".join(hosts),
        "config": settings.config or EXAMPLE_CONFIG,
        "web_password": password,
        **({"web_port": port} if port is not None else {}),
    })
    pipeline, deps = build(settings)
    # Before the bot came: one group's history, exported by MemoTrace and imported.
    history_path = folder / f"{HISTORY_ROOM[1]}_utf8.csv"
    write_memotrace_csv(group_history(HISTORY_MESSAGES, start=HISTORY_START, members=80, joins=30,
                                      gap=HISTORY_GAP), history_path)
    opts = ImportOptions(tz=settings.tz, not_after=latest_ts(slack_hours=settings.future_slack_hours),
                         room=HISTORY_ROOM[0], room_name=HISTORY_ROOM[1])
    imported = run_import([history_path], opts, pipeline)
    started = time.perf_counter()
    replies = pipeline.process(parse_event(e) for e in events)
    took = time.perf_counter() - started
    # Written out the way `qunguan replay --replies` does: each reply claimed and marked sent as
    # it goes into the file, so nothing the demo wrote out stays queued (a `qunguan chat` or
    # `run` on this store later would send it again).
    replies_path = folder / "replies.jsonl"
    replies_path.write_text("", encoding="utf-8")
    asyncio.run(OutboxSender(deps.engine, FileAdapter(events_path, replies_path)).drain())

    with deps.engine.connect() as conn:
        scope = resolve_scope(conn, settings, None, None, None)
        rows = member_rows(conn, scope, report_fields(FEATURES, deps))
    print(f"历史聊天记录：{history_path.name}（留痕 CSV 2024 版）导入到「{HISTORY_ROOM[1]}」："
          f"{imported.messages} 条消息，"
          f"{len(imported.members)} 人，入群 {imported.joins} 次（命令：qunguan import {history_path} "
          f"--room {HISTORY_ROOM[0]}）")
    print(f"示例社群：{len(events)} 条事件（{events_path}），回放用时 {took:.1f} 秒，"
          f"数据库 {db}")
    print(f"截至 {scope.at:%Y-%m-%d %H:%M}，近 {scope.window.days} 天，{len(rows)} 位成员，"
          f"机器人回复 {len(replies)} 条（{replies_path}）\n")
    types = Counter(r["type"] for r in rows)
    print("成员类型：" + "，".join(f"{label} {types.get(k.value, 0)}" for k, label in TYPE_LABELS.items()))
    for kind in ("core", "lurker", "burst", "dormant"):
        example = next((r for r in rows if r["type"] == kind), None)
        if example:
            print(f"  例：{example['name']} — {example['type_explain']}")
    tags = Counter(t["name"] for r in rows for t in r.get("tags", []))
    if tags:
        print("\n标签：" + "，".join(f"{k} {v} 人" for k, v in tags.most_common()))
        for name in list(tags)[:3]:
            r = next(r for r in rows if any(t["name"] == name for t in r.get("tags", [])))
            reason = next(t["reason"] for t in r["tags"] if t["name"] == name)
            print(f"  例：{r['name']} — {name} ← {reason}")
    segments = Counter(r["segment"] for r in rows)
    buyers = [r for r in rows if r["orders"]["total"]]
    print(f"\nRFM 分层（近 {deps.service(Playbook).rfm.window_days} 天，{len(buyers)} 人下过单）："
          + "，".join(f"{label} {segments.get(label, 0)}" for label in SEGMENT_LABELS.values()))
    example = next((r for r in rows if r["segment"] == SEGMENT_LABELS[next(iter(SEGMENT_LABELS))]), None)
    if example:
        print(f"  例：{example['name']} — {example['rfm_explain']}")
    stages = Counter(r["stage"] for r in rows)
    print("生命周期：" + "，".join(f"{label} {stages.get(label, 0)}" for label in STAGE_LABELS.values()))
    with deps.engine.connect() as conn:
        for line in stage_weeks(conn, deps, scope.at, weeks=DEMO_WEEKS):
            print(line)
    grades = Counter(r["grade"] for r in rows)
    print("客户分级：" + "，".join(f"{g} 级 {grades.get(g, 0)}" for g in GRADES))
    levels = Counter(f"Lv{r['level']} {r['level_name']}" for r in rows)
    print("\n等级：" + "，".join(f"{k} {v} 人" for k, v in sorted(levels.items())))
    top = sorted(rows, key=lambda r: -r["points"])[:5]
    print("积分前五：" + "，".join(f"{r['name']} {r['points']} 分（连续打卡 {r['streak']} 天）" for r in top))
    with deps.engine.connect() as conn:  # a read: the list as it would be issued
        lists = current_lists(conn, deps, scope.at.replace(hour=9, minute=0) + timedelta(days=1))
    first = lists[0] if lists else None
    if first:
        rooms = sorted({i.room_name for i in first.items})
        print(f"\n运营 {first.operator_name} 明早 09:00 会收到的跟进清单：")
        for text in render(first.items, title=f"📋 跟进清单（{'、'.join(rooms)}）", cap=first.cap,
                           more=console_link(settings, first.operator), queued=first.queued):
            print(text)
    print(f"\n管理员（示例）：{', '.join(hosts)}")
    print(f"试试和机器人对话：QUNGUAN_ADMINS={hosts[0]} .venv/bin/qunguan chat --db {db} "
          f"--config {settings.config}")
    if serve:
        try:
            asyncio.run(serve_forever(pipeline, deps, FEATURES, port=port, note=f"  登录密码：{password}"))
        except KeyboardInterrupt:
            pass
    return 0
