"""The Chinese summary a manager reads at the end of an import."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path

from bot.importer.source import Summary

MAX_LINES = 20  # line numbers listed per reason


def summary_text(s: Summary, tz: tzinfo, *, dry_run: bool) -> str:
    out = ["导入摘要（试运行：只读取，没有写入）" if dry_run else "导入摘要"]
    out += _read(s)
    out += _stored(s, tz)
    out += _left_out(s)
    out += _advice(s)
    out += s.notes
    return "\n".join(out)


def _read(s: Summary) -> list[str]:
    """What the files held: files, messages, members, rooms, joins and the rest."""
    out = []
    if s.files:
        out.append(f"文件 {len(s.files)} 个：" + "、".join(f"{Path(p).name}（{f}）" for p, f in s.files))
    for path, why in s.failed:
        out.append(f"✗ {path}：{why}")
    line = f"消息 {s.messages} 条，成员 {len(s.members)} 人，群 {len(s.rooms)} 个"
    if s.rooms:
        line += "（" + "、".join(f"{n}「{r}」" for r, n in sorted(s.rooms.items())) + "）"
    out.append(line)
    if s.operator_messages:
        out.append(f"导出账号自己在私聊里发的 {s.operator_messages} 条是运营的消息，不算成员发言")
    out.append(f"入群 {s.joins} 次，移出 {s.leaves} 次")
    if s.silent_joiners:
        out.append(f"其中 {s.silent_joiners} 人入群后在记录里没说过话：按「群 + 昵称」记为成员"
                   "（入群时间、邀请人都记下），以后名单、带 wxid 的导出或微信里出现同名的人时合并成一人")
    extra = [f"改群名 {s.renames} 次" if s.renames else "",
             f"撤回 {s.recalls} 条（导出没写撤回的是哪条，已记下，不算发言）" if s.recalls else "",
             f"拍一拍等系统提示 {s.not_speaking} 条（不算发言）" if s.not_speaking else ""]
    if any(extra):
        out.append("，".join(e for e in extra if e))
    if s.merged:
        out.append(f"只知道昵称的成员有 {s.merged} 人对上了 wxid，已合并（计数合在一起，不重复）")
    return out


def _stored(s: Summary, tz: tzinfo) -> list[str]:
    """The time the events span and what was written of them."""
    out = []
    if s.first is not None and s.last is not None:
        out.append(f"时间 {_at(s.first, tz)} 至 {_at(s.last, tz)}")
    if s.new_events is not None:
        out.append(f"新写入 {s.new_events} 条事件（已导入过的不会重复计算）")
    if s.imported_before:
        out.append(f"有 {s.imported_before} 条以前（0.2 版）已经导入过，没有重复计算")
    if s.newer_than_live:
        out.append(f"有 {s.newer_than_live} 条晚于机器人在该群的第一条实时记录，没有导入（同一条消息的实时记录"
                   "和导出记录无法对应，导入会重复计算）。确认不重叠时加 --overlap-ok 导入")
    return out


def _left_out(s: Summary) -> list[str]:
    """Lines skipped (where, why) and system notices whose member is unknown."""
    out = []
    if s.skipped:
        out.append(f"跳过 {s.skipped_count} 行：")
        for reason, where in s.skipped.items():
            listed = "、".join(f"{Path(p).name}:{n}" for p, n in where[:MAX_LINES])
            more = f" 等 {len(where)} 处" if len(where) > MAX_LINES else ""
            out.append(f"  · {reason}：{listed}{more}")
    if s.unresolved:
        out.append("系统消息里对不上成员的昵称（群里有几个人同名，不知道是谁；或是导出账号「你」），"
                   "这些入群/移出没有记录：" + "、".join(
            f"{n}（{c} 次）" if c > 1 else n for n, c in s.unresolved.most_common(50)))
    return out


def _advice(s: Summary) -> list[str]:
    """What the manager should know or do next: members known by name only, admins to set."""
    out = []
    if s.names_only:
        out.append("注意：" + "、".join(Path(p).name for p in sorted(s.names_only))
                   + " 只有昵称、没有 wxid，成员按「群 + 昵称」识别：改过昵称的人会算成两个人；"
                     "群名单、带 wxid 的导出或机器人在微信里见到同名的人时会合并成一人（同名的有几个人时不合并）")
    if s.admins:
        out.append("建议设为管理员（导出文件里的群主/管理员）：" + "、".join(
            f"{m}（{role}）" for m, role in sorted(s.admins.items()))
            + f"，即 QUNGUAN_ADMINS={','.join(sorted(s.admins))}")
    return out


def _at(ts: int, tz: tzinfo) -> str:
    return f"{datetime.fromtimestamp(ts, tz):%Y-%m-%d %H:%M}"


def problems(s: Summary) -> bool:
    """Whether anything was left out: the exit status is then 1."""
    return bool(s.failed or s.skipped or s.newer_than_live)
