"""The operator's commands of `qunguan`: db backup, db restore, db copy (the logic lives in
bot.store.backup; this module parses and prints)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.settings import Settings

# Each command imports what it uses inside its function (see bot.cli): building the parser
# loads neither the store's backup code nor the health check's web console.


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.backup import backup, shown

    done = backup(settings.database_url, Path(args.path), force=args.force, pg_dump=args.pg_dump)
    print(f"已备份 {shown(settings.database_url)} →\n{done.describe()}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.backup import describe_backup, restore, shown

    url = settings.database_url
    about = describe_backup(Path(args.path), args.pg_restore)
    if not args.yes:
        if not sys.stdin.isatty():
            print(f"{about}\n恢复到 {shown(url)} 需要确认：在终端里运行并输入 yes，或加 --yes", file=sys.stderr)
            return 2
        answer = input(f"{about}\n恢复到 {shown(url)}（它必须是空库）？输入 yes 继续：")
        if answer.strip().lower() not in ("yes", "y", "是"):
            print("已取消，没有改动。", file=sys.stderr)
            return 1
    done = restore(url, Path(args.path), pg_restore=args.pg_restore)
    print(f"已恢复 {args.path} →\n{done.describe()}")
    return 0


def cmd_copy(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.backup import copy, shown

    done = copy(settings.database_url, args.to)
    print(f"已复制 {shown(settings.database_url)} →\n{done.describe()}\n"
          f"之后用新库运行：QUNGUAN_DATABASE_URL={shown(args.to)}（或 --db）")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from bot.web.health import check, describe

    health = check(settings)
    if args.json:
        json.dump(health.as_json(), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        print(describe(health))
    return 0 if health.ok else 1


def add_db_actions(add: Callable[[str, str], argparse.ArgumentParser],
                   settings_of: Callable[[argparse.Namespace], Settings], db_url: Callable[[str], str]) -> None:
    """`qunguan db backup|restore|copy`; `add(name, help)` makes a `db` action's parser (with --db, --config)."""
    def run(cmd: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
        def call(args: argparse.Namespace) -> int:
            from bot.store.backup import BackupError

            try:
                return cmd(args, settings_of(args))
            except BackupError as exc:  # what cannot be done, and what to do instead: one message
                print(exc, file=sys.stderr)
                return 2
        return call

    p = add("backup", "在机器人运行时备份数据库（SQLite 在线备份；PostgreSQL 用 pg_dump）")
    p.add_argument("path", metavar="PATH", help="备份文件")
    p.add_argument("--force", action="store_true", help="覆盖已有的备份文件")
    p.add_argument("--pg-dump", metavar="PATH", help="pg_dump 的路径（默认在 PATH 里找）")
    p.set_defaults(func=run(cmd_backup))
    p = add("restore", "把备份恢复到一个空库（先确认）")
    p.add_argument("path", metavar="PATH", help="qunguan db backup 写的备份文件")
    p.add_argument("--yes", action="store_true", help="不再询问，直接恢复")
    p.add_argument("--pg-restore", metavar="PATH", help="pg_restore 的路径（默认在 PATH 里找）")
    p.set_defaults(func=run(cmd_restore))
    p = add("copy", "把整个库复制到另一个空库（例如从 SQLite 搬到 PostgreSQL）")
    p.add_argument("--to", required=True, type=db_url, metavar="URL",
                   help="目标库，例如 postgresql+psycopg2://qunguan@localhost/qunguan")
    p.set_defaults(func=run(cmd_copy))


__all__ = ["add_db_actions", "cmd_status"]
