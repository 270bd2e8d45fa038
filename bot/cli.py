"""The `qunguan` command line: replay, import, report, chat, run, demo, db."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot import ops
from bot.core.events import EventError, latest_ts, parse_ts
from bot.importer.detect import FORMATS

if TYPE_CHECKING:
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError

    from bot.core.settings import Settings

# Each command imports what it uses inside its function: a process loads only its command's
# modules (`qunguan import` neither the web console nor the demo; `import --dry-run` and
# `qunguan db` not the features either), so none pays another's start-up time and memory.

log = logging.getLogger("qunguan")


def _at(value: str) -> datetime:
    try:
        return parse_ts(value if not value.isdigit() else int(value))
    except EventError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为正整数：{value}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"应为正整数：{value}")
    return n


def _settings(args: argparse.Namespace, *, features: bool = True) -> Settings:
    """The settings, and every feature's checked at start (`features=False`: a command that uses
    no feature, which then loads none)."""
    from bot.core.settings import Settings

    overrides = {}
    if getattr(args, "db", None):
        overrides["database_url"] = args.db
    if getattr(args, "config", None):
        overrides["config"] = args.config
    settings = Settings(**overrides)
    if features:
        from bot.wiring import FEATURES

        settings.check(f.settings for f in FEATURES if f.settings)
    return settings


def _db_url(value: str) -> str:
    # A bare path is a SQLite file: `--db demo.db` means sqlite:///demo.db.
    return value if "://" in value else f"sqlite:///{value}"


def cmd_replay(args: argparse.Namespace) -> int:
    import asyncio

    from bot.adapters.file import FileAdapter
    from bot.core.outbox import OutboxSender
    from bot.core.pipeline import BATCH_SIZE
    from bot.wiring import build

    settings = _settings(args)
    pipeline, _ = build(settings)
    if args.replies:
        Path(args.replies).touch()
    adapter = FileAdapter(Path(args.events), Path(args.replies) if args.replies else None,
                          not_after=latest_ts(slack_hours=settings.future_slack_hours))
    if not args.replies and not args.silent:
        adapter.replies_path = Path("/dev/stdout")
    refused: list[tuple[str, str]] = []
    pipeline.process(adapter.read(), silent=args.silent, refused=refused, batch_size=args.batch or BATCH_SIZE)
    if not args.silent:
        # A silent run queued nothing, so it sends nothing: other processes' pending rows are
        # theirs to send.
        asyncio.run(OutboxSender(pipeline.engine, adapter).drain())
    for event_id, reason in refused:
        print(f"{args.events}: 事件 {event_id} 未记录：{reason}", file=sys.stderr)
    if adapter.rejected or refused:
        print(f"{len(adapter.rejected) + len(refused)} 行被跳过（原因见上）。", file=sys.stderr)
        return 1
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.importer.progress import Progress
    from bot.importer.run import is_terminal, run_import
    from bot.importer.source import ImportOptions
    from bot.importer.summary import problems, summary_text

    settings = _settings(args, features=not args.dry_run)  # a dry run reads files only: no store, no features
    opts = ImportOptions(tz=settings.tz, not_after=latest_ts(slack_hours=settings.future_slack_hours),
                         room=args.room, room_name=args.room_name, self_id=args.self_id, fmt=args.format)
    pipeline = None
    if not args.dry_run:
        from bot.wiring import build

        pipeline = build(settings)[0]
    progress = Progress(0, terminal=is_terminal(sys.stderr), out=sys.stderr)
    summary = run_import([Path(p) for p in args.paths], opts, pipeline, overlap_ok=args.overlap_ok,
                         progress=progress)
    print(summary_text(summary, settings.tz, dry_run=args.dry_run))
    return 1 if problems(summary) else 0


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from bot.core.feature import report_fields
    from bot.core.report import member_rows, resolve_scope
    from bot.wiring import FEATURES, build

    settings = _settings(args)
    _, deps = build(settings)
    with deps.engine.connect() as conn:
        scope = resolve_scope(conn, settings, args.at, args.room, args.window)
        rows = member_rows(conn, scope, report_fields(FEATURES, deps))
    if args.json:
        json.dump({"at": scope.at.isoformat(), "window_days": scope.window.days, "members": rows},
                  sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        print(f"截至 {scope.at:%Y-%m-%d %H:%M}，近 {scope.window.days} 天，共 {len(rows)} 位成员")
        for r in rows:
            print(f"{r['name'] or r['id']}\t发言 {r['messages']}\t登录 {r['login_days']} 天"
                  f"\t{r['segment']}\t{r['stage']}\t{r['grade']} 级")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC

    from sqlalchemy import func, select
    from sqlmodel import col

    from bot.adapters.console import ConsoleAdapter
    from bot.core import outbox
    from bot.core.directory import Lookup
    from bot.store.models import EventLog
    from bot.wiring import App

    settings = _settings(args)
    adapter = ConsoleAdapter()
    app = App(settings, adapter)
    look = Lookup(app.deps.engine)
    adapter.resolve_member = look.member_id
    adapter.resolve_room = look.room_id
    adapter.member_name = look.member_name
    adapter.room_name = look.room_name
    # Only this session's replies: rows queued before it (a replay, the demo, a run that was
    # stopped) stay where they are, counted here.
    app.sender.only_origin = app.pipeline.origin
    with app.deps.engine.connect() as conn:
        waiting = outbox.counts(conn).get("pending", 0)
        latest = conn.execute(select(func.max(col(EventLog.ts)))).scalar()
    # A store whose events end in the past (the demo's month, a replayed export) is played on
    # from its last event: a line typed now at today's date would move its "now" by weeks.
    behind = time.time() - latest if latest else 0
    if behind > 60:
        adapter.clock = lambda: datetime.fromtimestamp(time.time() - behind + 1, UTC)
    if waiting:
        print(f"这个数据库里还有 {waiting} 条之前排队、尚未发出的消息，这里不会重放；"
              f"查看：qunguan outbox --db {settings.database_url}")
    asyncio.run(app.run())
    return 0


def cmd_followup(args: argparse.Namespace) -> int:
    import json

    from bot.core.directory import all_rooms
    from bot.features.followup.service import build_items, operator_rooms
    from bot.store.models import NO_ROOM
    from bot.wiring import build
    from tiers.followup import render

    settings = _settings(args)
    _, deps = build(settings)
    with deps.engine.connect() as conn:  # read-only: nothing is stored or sent
        at = args.at.astimezone(settings.tz) if args.at else datetime.now(settings.tz)
        if args.operator:
            rooms = operator_rooms(conn, sorted(settings.admin_ids)).get(args.operator)
            if not rooms:
                print(f"{args.operator} 不是任何群的运营。", file=sys.stderr)
                return 2
        else:
            rooms = [*all_rooms(conn), NO_ROOM]  # NO_ROOM: the private account's friends
        day = build_items(conn, deps, at, rooms, operator=args.operator)
    items = day.items
    out = {"at": at.isoformat(), "queued": day.queued, "items": [
        {"n": i.n, "kind": i.kind, "member": i.member, "member_name": i.member_name,
         "room": i.room, "room_name": i.room_name, "reason": i.reason, "action": i.action,
         "also": list(i.also)} for i in items]}
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for text in render(items, title=f"跟进清单 {at:%m-%d %H:%M}", queued=day.queued):
            print(text)
    return 0


STATUS_NAMES = {"unknown": "不确定是否已发出", "failed": "发送失败", "pending": "待发送",
                "sending": "发送中", "sent": "已发送", "dropped": "已放弃"}


def cmd_outbox(args: argparse.Namespace) -> int:
    from bot.core import outbox
    from bot.store.db import open_engine

    engine = open_engine(_settings(args).database_url)
    try:
        if args.resend is not None or args.drop is not None:
            row_id = args.resend if args.resend is not None else args.drop
            try:
                with engine.begin() as conn:
                    if args.resend is not None:
                        outbox.resend(conn, row_id)
                    else:
                        outbox.drop(conn, row_id)
            except outbox.NotHandled:
                print(f"没有待处理的消息 #{row_id}（只有「不确定」或「失败」的消息可以重发或放弃）。",
                      file=sys.stderr)
                return 2
            print(f"#{row_id} 已重新排队，机器人运行时会发出。" if args.resend is not None
                  else f"#{row_id} 已放弃，不再发送。")
            return 0
        with engine.connect() as conn:
            rows = outbox.attention(conn, args.status)
            by_status = outbox.counts(conn)
            waiting = outbox.waiting(conn)
        summary = "，".join(f"{STATUS_NAMES.get(k, k)} {v}" for k, v in sorted(by_status.items()))
        print(f"发件箱：{summary or '空'}")
        tz = _settings(args).tz
        for w in waiting:
            who = f"经账号 {w.account}" if w.account else "任一账号"
            since = datetime.fromtimestamp(w.oldest, tz).strftime("%m-%d %H:%M")
            print(f"待发送（{who}）：{w.rows} 条，最早 {since}"
                  + ("；这个账号的 qunguan run 在运行时才会发出" if w.account else ""))
        if not rows:
            print("没有需要处理的消息。")
            return 0
        for r in rows:
            where = r.room or r.to or ""
            text = r.text.replace("\n", " ")
            print(f"#{r.id}\t{STATUS_NAMES[r.status]}\t{where}\t{text[:60]}"
                  + (f"\t（{r.error[:80]}）" if r.error else ""))
        print("处理：qunguan outbox --resend ID（重发）或 --drop ID（放弃）")
        return 0
    finally:
        engine.dispose()


NO_TOKEN = """\
qunguan run 需要一个 Wechaty puppet-service 的 token 和服务地址：
  export WECHATY_PUPPET_SERVICE_TOKEN=你的token
  export WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:8788   # 主机:端口
没有微信账号也能试：scripts/demo 回放示例社群，qunguan chat 在终端里扮演成员对话。"""


async def until_asked_to_stop(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` (`qunguan run`, `qunguan serve`) until it ends or the process is asked to stop
    (SIGINT: Ctrl-C or the service files' KillSignal; SIGTERM), then let it shut down cleanly
    (`run`: the account is noted disconnected, the console and the scheduler are stopped). The handlers are installed
    whatever the process inherited: started in the background of a script, a process ignores
    SIGINT, and a stop asked for that way would wait for SIGKILL."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main)
    asked = (signal.SIGINT, signal.SIGTERM)
    for sig in asked:
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        for sig in asked:
            loop.remove_signal_handler(sig)


def cmd_run(args: argparse.Namespace) -> int:
    token = os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN", "").strip()
    endpoint = os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT", "").strip()
    if not token or not endpoint:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    import asyncio

    from bot.core.leader import StoreBusy, run_lock
    from bot.core.scheduler import ScheduleError
    from bot.web.app import start_server
    from bot.wiring import App

    try:
        # wechaty is an optional extra: only `run` needs it.
        from bot.adapters.wechaty import WechatyAdapter, WechatyConnectError
    except ImportError as exc:
        print(f"没有安装 wechaty：pip install -e '.[wechaty]'（{exc}）", file=sys.stderr)
        return 2

    settings = _settings(args)
    if args.account:
        for handler in logging.getLogger().handlers:
            handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [{args.account}] %(name)s: %(message)s"))
    try:
        lock = run_lock(settings.database_url)  # SQLite: one run per store
    except StoreBusy as exc:
        print(exc, file=sys.stderr)
        return 2
    adapter = WechatyAdapter(token, endpoint)
    app = with_backoff(lambda: App(settings, adapter, label=args.account), settings.database_url)
    try:
        asyncio.run(until_asked_to_stop(app.run(schedule=True, console=start_server)))
    except WechatyConnectError as exc:
        print(f"连接失败：{exc}", file=sys.stderr)
        return 1
    except ScheduleError as exc:
        print(f"{exc}\n请改正设置后再启动。", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        if lock:
            lock.release()
    return 0


T = TypeVar("T")
RETRY_FIRST, RETRY_MAX = 1.0, 60.0  # seconds between attempts to reach the store


def with_backoff(make: Callable[[], T], url: str, *, sleep: Callable[[float], None] = time.sleep) -> T:
    """`make()`, retried with back-off while the database cannot be reached (a server that is
    still starting, a network blip): `run` waits for its store instead of exiting."""
    from sqlalchemy.exc import OperationalError

    delay = RETRY_FIRST
    while True:
        try:
            return make()
        except OperationalError as exc:
            print(f"{unreachable(url, exc)}；{delay:g} 秒后重试", file=sys.stderr)
            sleep(delay)
            delay = min(delay * 2, RETRY_MAX)


def unreachable(url: str, exc: OperationalError) -> str:
    """What a person sees when the database does not answer: which one (no password), why."""
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
    return f"无法连接数据库 {shown}（{reason}）：请确认数据库服务已启动、地址和账号正确"


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from bot.web.app import serve_forever
    from bot.wiring import FEATURES, build

    settings = _settings(args)
    pipeline, deps = build(settings)
    try:
        asyncio.run(until_asked_to_stop(serve_forever(pipeline, deps, FEATURES, host=args.host, port=args.port)))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.run import run_demo

    return run_demo(Path(args.dir), settings=_settings(args), serve=args.serve, port=args.port)


def cmd_db(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from bot.store import migrate
    from bot.store.db import make_engine

    url = _settings(args, features=False).database_url  # the store only: no feature (their models: bot.store.migrate)
    path = make_url(url).database if url.startswith("sqlite") else None
    if args.action == "current" and path and path != ":memory:" and not Path(path).exists():
        print(f"没有这个数据库文件：{path}", file=sys.stderr)  # and `current` must not create it
        return 2
    named = {None: "空库（还没有表）", migrate.RELEASE_0_1_0: "0.1.0 版的库（没有版本表）"}
    engine = make_engine(url)
    head = migrate.head()
    try:
        if args.action == "upgrade":
            done = migrate.upgrade(engine)
            if done.changed:
                print(f"已升级：{named.get(done.before, done.before)} → {done.after}")
            else:
                print(f"已是最新版本 {head}，无需升级。")
            return 0
        rev = migrate.current(engine)
        if rev == head:
            print(f"{rev}（最新）")
            return 0
        if rev is None and migrate.is_release_0_1_0(engine):
            rev = migrate.RELEASE_0_1_0
        print(f"{named.get(rev, rev)}，最新版本 {head}：运行 qunguan db upgrade 升级（qunguan 启动时也会自动升级）")
        return 0
    except migrate.StoreError as exc:
        print(f"无法升级这个数据库：{exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _new_revision(args: argparse.Namespace) -> int:
    from bot.store import migrate

    if not args.message:
        print("qunguan db revision 需要 -m \"说明\"，例如：qunguan db revision --feature rules -m \"room rules\"",
              file=sys.stderr)
        return 2
    try:
        path = migrate.new_revision(args.message, feature=args.feature, depends_on=args.depends_on)
    except migrate.StoreError as exc:
        print(f"无法新建迁移：{exc}", file=sys.stderr)
        return 2
    print(f"已新建迁移：{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
          "（在 upgrade() 里用 op.* 写出结构变更）")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="qunguan", description="群管：微信社群运营机器人")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_: str, into: argparse._SubParsersAction[argparse.ArgumentParser] = sub
            ) -> argparse.ArgumentParser:
        p = into.add_parser(name, help=help_)
        p.add_argument("--db", type=_db_url, help="SQLAlchemy URL 或 SQLite 文件路径"
                       "（默认 QUNGUAN_DATABASE_URL 或 sqlite:///qunguan.db）")
        p.add_argument("--config", type=Path, help="TOML 配置文件（默认规则、任务、等级、运营）")
        return p

    p = add("replay", "按顺序处理一个 JSONL 事件文件，像实时收到一样")
    p.add_argument("events")
    p.add_argument("--replies", help="把机器人的回复写到这个 JSONL 文件")
    p.add_argument("--silent", action="store_true", help="只补历史，不产生任何回复")
    p.add_argument("--batch", type=_positive, metavar="N",  # default: bot.core.pipeline.BATCH_SIZE
                   help="每个事务处理的事件数（默认与实时处理的批大小相同；结果与批大小无关）")
    p.set_defaults(func=cmd_replay)

    p = add("import", "导入导出的聊天记录（留痕 CSV/TXT、ChatLab JSON/JSONL），按当时的时间计分，不发任何消息")
    p.add_argument("paths", nargs="+", metavar="PATH", help="文件或文件夹（文件夹导入其中每个文件）")
    p.add_argument("--format", choices=["auto", *FORMATS], default="auto",
                   help="文件格式（默认 auto：按内容识别）")
    p.add_argument("--room", help="群 id（群聊导出里没有，必须指定），例如 12345678@chatroom")
    p.add_argument("--room-name", help="群名（默认取文件名或导出里的群名）")
    p.add_argument("--self", dest="self_id", metavar="ID", help="导出账号的 wxid（「你邀请…」的邀请人）")
    p.add_argument("--dry-run", action="store_true", help="只读取并打印摘要，不写入")
    p.add_argument("--overlap-ok", action="store_true",
                   help="也导入晚于该群第一条实时记录的消息（确认导出与实时记录不重叠时）")
    p.set_defaults(func=cmd_import)

    p = add("report", "成员报表")
    p.add_argument("--json", action="store_true")
    p.add_argument("--at", type=_at, help="截至时间（ISO 8601，默认最新事件）")
    p.add_argument("--room", help="只看这个群（群 id）")
    p.add_argument("--window", type=_positive, help="窗口天数（默认 30）")
    p.set_defaults(func=cmd_report)

    p = add("followup", "某一时刻的跟进清单（只读）")
    p.add_argument("--json", action="store_true")
    p.add_argument("--at", type=_at, help="时间（ISO 8601，默认现在）")
    p.add_argument("--operator", help="只看这位运营负责的群")
    p.set_defaults(func=cmd_followup)

    p = add("chat", "在终端里扮演成员和机器人对话")
    p.set_defaults(func=cmd_chat)

    p = add("run", "连接微信（Wechaty puppet service）运行机器人")
    p.add_argument("--account", help="这个账号在日志里的名字（多个账号共用一个 PostgreSQL 库时，每个账号一个 run）")
    p.set_defaults(func=cmd_run)

    p = add("serve", "只启动网页控制台和事件接口（不连微信）")
    p.add_argument("--port", type=_positive, help="端口（默认 QUNGUAN_WEB_PORT 或 8080）")
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=cmd_serve)

    p = add("demo", "生成示例社群，回放并打印报表")
    p.add_argument("--dir", default="demo-data", help="示例数据与数据库所在目录")
    p.add_argument("--serve", action="store_true", help="最后启动网页控制台，直到 Ctrl-C")
    p.add_argument("--port", type=_positive, help="控制台端口（默认 QUNGUAN_WEB_PORT 或 8080）")
    p.set_defaults(func=cmd_demo)

    p = add("outbox", "发件箱里需要人处理的消息：不确定是否已发出的、发送失败的")
    p.add_argument("--status", choices=["unknown", "failed"], help="只看这一种")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resend", type=_positive, metavar="ID", help="重新发送这条消息")
    group.add_argument("--drop", type=_positive, metavar="ID", help="放弃这条消息")
    p.set_defaults(func=cmd_outbox)

    db = sub.add_parser("db", help="数据库：结构版本（current、upgrade）、备份、恢复、复制")
    db_actions = db.add_subparsers(dest="action", required=True)

    def add_db(name: str, help_: str) -> argparse.ArgumentParser:
        return add(name, help_, db_actions)

    add_db("current", "数据库的结构版本").set_defaults(func=cmd_db)
    add_db("upgrade", "把数据库升级到最新结构").set_defaults(func=cmd_db)
    ops.add_db_actions(add_db, _settings, _db_url)
    p = add_db("revision", "为开发者新建一个迁移文件（生成的版本号，放在核心链或某个功能的分支末尾）")
    p.add_argument("-m", "--message", help="这次结构变更的说明（英文，做文件名）")
    p.add_argument("--feature", help="迁移属于哪个功能（bot/features/ 下的包名；不写则是共享表的核心链）")
    p.add_argument("--depends-on", help="它还依赖的另一个功能分支上的版本号")
    p.set_defaults(func=_new_revision)

    p = add("status", "运行状况：数据库、结构版本、每个微信账号的连接、最近事件、发件箱、调度（同 /healthz）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=lambda args: ops.cmd_status(args, _settings(args)))

    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except BrokenPipeError:
        # The reader went away (`qunguan report --json | head`): stop quietly. Python would
        # try to flush stdout again at exit and print a traceback; point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # as a shell reports a process ended by SIGPIPE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        failed = _failure(exc, args)
        if failed is None:
            raise
        return failed


def _failure(exc: Exception, args: argparse.Namespace) -> int | None:
    """The exit status of a failure a person can fix, said on stderr in one line; None for
    anything else (a bug: its traceback). The classes are imported once something failed, so
    that a command loads only what it uses."""
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError

    from bot.core.config import ConfigError
    from bot.store import migrate
    from bot.store.db import storage_problem
    from bot.web.app import PortInUse

    if isinstance(exc, (ConfigError, PortInUse)):
        print(exc, file=sys.stderr)
        return 2
    if isinstance(exc, ValidationError):
        print(settings_problem(exc), file=sys.stderr)
        return 2
    if isinstance(exc, migrate.StoreError):
        print(f"无法使用这个数据库：{exc}", file=sys.stderr)
        return 1
    if isinstance(exc, OperationalError):
        url = _settings(args).database_url
        print(storage_problem(exc, url) or unreachable(url, exc), file=sys.stderr)
        return 1
    return None


def settings_problem(exc: ValidationError) -> str:
    """Which QUNGUAN_* setting (or option) is wrong and what it should be, one line each."""
    lines = []
    for err in exc.errors():
        name = "_".join(str(p) for p in err.get("loc", ())) or "?"
        lines.append(f"设置 QUNGUAN_{name.upper()} 有误：{err.get('msg', '')}（当前值 {err.get('input')!r}）")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
