"""Manager commands for tags: rules, previews, manual tags, why a member has a tag."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlmodel import col

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.names import display
from bot.core.options import Options, positive_int, shown
from bot.features.tags.backtest import Backtest, Change, backtest, compare
from bot.features.tags.models import MemberTag
from bot.features.tags.service import (
    Tagging,
    add_rule,
    delete_rule,
    format_tag,
    held_now,
    rule_from_options,
    set_group,
    tag_by_hand,
    untag_by_hand,
    with_room_ids,
)
from bot.features.tags.synonyms import CHECK_DAYS, add_words, listing, remove_words
from bot.store.models import Member
from tagging.rules import BOTH_USAGE, RULE_FLAGS, RULE_KEYS, CountRule, KeywordRule, Rule, validate_tag


def rule(ctx: Ctx, opts: Options) -> str:
    if not opts.positional:
        raise UsageError("请写出要做什么：add（添加）、preview（预览）或 del（删除）。")
    sub, rest = opts.positional[0].lower(), opts.positional[1:]
    conn = ctx.batch.conn
    if sub in ("add", "添加"):
        parsed = with_room_ids(conn, rule_from_options(opts, skip=1))
        saved = add_rule(conn, ctx.deps.service(Tagging), parsed, by=ctx.msg.sender, at=int(ctx.msg.ts.timestamp()))
        return f"已添加规则：{saved.describe()}\n之后的新消息会按它自动打标签。"
    if sub in ("preview", "预览"):
        return _preview(ctx, with_room_ids(conn, rule_from_options(opts, skip=1)))
    if sub in ("del", "delete", "删除"):
        if len(rest) != 1 or opts.named or opts.flags:
            raise UsageError("请写出一个规则编号，例如 /rule del 3（编号见 /rules）。")
        rule_id = positive_int(rest[0].lstrip("#"), "规则编号")
        try:
            tag_name, removed = delete_rule(conn, ctx.deps.service(Tagging), rule_id)
        except LookupError as exc:
            raise UsageError(str(exc), show_usage=False) from None
        return (f"已删除规则 #{rule_id}（{tag_name}），并撤下了它自动打的 {removed} 个标签；"
                "手动标签不受影响。")
    raise UsageError(f"不认识「{shown(opts.positional[0])}」，可以用 add、preview 或 del。")


def _preview(ctx: Ctx, parsed: Rule) -> str:
    found = backtest(ctx.batch.conn, ctx.deps.service(Tagging), parsed, ctx.now)
    basis = basis_text(found, ctx.deps.settings.tz)
    if not found.members:
        lines = [f"预览：{basis}，没有成员会得到「{parsed.tag}」。",
                 *change_lines(compare(ctx.batch.conn, ctx.deps.service(Tagging), found, ctx.now),
                               ctx.deps.settings.tz)]
        return "\n".join([*lines, "规则还没保存。"])
    lines = [f"预览：{basis}，{found.members} 人会得到「{parsed.tag}」（其中 {found.already} 人已有）："]
    for s in found.samples:
        quote = f"：{datetime.fromtimestamp(s.ts, ctx.deps.settings.tz):%m-%d}「{s.text[:20]}」" if s.text else ""
        lines.append(f"· {s.name}{quote}")
    if found.members > len(found.samples):
        lines.append(f"……还有 {found.members - len(found.samples)} 人")
    lines += change_lines(compare(ctx.batch.conn, ctx.deps.service(Tagging), found, ctx.now), ctx.deps.settings.tz)
    lines.append("规则还没保存，确认后用 /rule add 加上同样的参数。")
    return "\n".join(lines)


def change_lines(change: Change | None, tz: tzinfo) -> list[str]:
    """What a proposed rule catches and drops against the active rules of its tag."""
    if change is None:
        return []
    against = "、".join(f"#{n}" for n in change.against)
    lines = [f"和现有规则 {against} 比：多抓到 {change.caught_count} 人，不再命中 {change.dropped_count} 人。"]
    for title, found, count in (("多抓到", change.caught, change.caught_count),
                                ("不再命中", change.dropped, change.dropped_count)):
        for s in found[:5]:
            quote = f"：{datetime.fromtimestamp(s.ts, tz):%m-%d}「{s.text[:20]}」" if s.text else ""
            lines.append(f"  {title} · {s.name}{quote}")
        if count > 5:
            lines.append(f"  {title} ……还有 {count - 5} 人")
    return lines


def basis_text(found: Backtest, tz: tzinfo) -> str:
    """What a backtest read, in the words of its reply and its console page."""
    if isinstance(found.rule, CountRule):
        return f"按近 {found.rule.days} 天的发言数"
    what = "好友申请验证消息" if isinstance(found.rule, KeywordRule) and found.rule.on == "hello" else "聊天记录"
    if found.since is None:
        return f"还没有任何{what}"
    return f"按全部{what}（{datetime.fromtimestamp(found.since, tz):%Y-%m-%d} 起）"


def rules_(ctx: Ctx, opts: Options) -> str:
    rs = ctx.deps.service(Tagging).current(ctx.batch.conn)
    if not rs.rules:
        return "还没有标签规则。例如：/rule add keyword 意向 多少钱,价格 lead=yes"
    lines = ["标签规则："] + [r.describe() for r in rs.rules.values()]
    if rs.exclusive:
        lines.append("互斥组：" + "、".join(sorted(rs.exclusive)))
    return "\n".join(lines)


def _tag_arg(value: str) -> str:
    try:
        return validate_tag(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _member_and_tag(ctx: Ctx, opts: Options, missing: str) -> tuple[str, str, str]:
    if len(opts.members) != 1 or not opts.positional:
        raise UsageError(missing)
    member, name = ctx.member(opts.member())
    return member, name, _tag_arg(opts.positional[0])


def tag(ctx: Ctx, opts: Options) -> str:
    member, name, tag_name = _member_and_tag(ctx, opts, "请写出一位成员和一个标签。")
    by = ctx.batch.conn.execute(select(col(Member.name)).where(col(Member.id) == ctx.msg.sender)).scalar()
    reason = opts.rest_text(1).strip() or None
    if not tag_by_hand(ctx.batch.conn, ctx.deps.service(Tagging), member, tag_name, by=by or ctx.msg.sender,
                       at=int(ctx.msg.ts.timestamp()), reason=reason):
        raise UsageError(f"没有打上：{name} 已有同一互斥组里手动打的标签。", show_usage=False)
    return f"已给 {name} 打上「{tag_name}」" + (f"（原因：{reason}）" if reason else "") + "。"


def untag(ctx: Ctx, opts: Options) -> str:
    member, name, tag_name = _member_and_tag(ctx, opts, "请写出一位成员和要去掉的标签。")
    if not untag_by_hand(ctx.batch.conn, ctx.deps.service(Tagging), member, tag_name):
        raise UsageError(f"{name} 没有「{tag_name}」这个标签。", show_usage=False)
    return f"已去掉 {name} 的「{tag_name}」。规则之后再命中时仍可能重新打上。"


def tags_(ctx: Ctx, opts: Options) -> str:
    if len(opts.members) != 1 or opts.positional:
        raise UsageError("请写出一位成员。")
    member, name = ctx.member(opts.member())
    at = int(ctx.msg.ts.timestamp())
    rows = ctx.deps.service(Tagging).held(ctx.batch.conn, member, at)
    if not rows:
        return f"{name} 还没有标签。"
    tz, rules = ctx.deps.settings.tz, ctx.deps.service(Tagging).current(ctx.batch.conn).rules
    lines = [format_tag(r, tz, rules) for r in sorted(rows, key=lambda r: r.since)]
    return "\n".join([f"{name} 的标签：", *lines])


def tagged(ctx: Ctx, opts: Options) -> str:
    if len(opts.positional) != 1:
        raise UsageError("请写出一个标签。")
    tag_name = _tag_arg(opts.positional[0])
    at = int(ctx.msg.ts.timestamp())
    q = select(col(Member.id), col(Member.name)).join(MemberTag, col(MemberTag.member) == col(Member.id)).where(
        col(MemberTag.tag) == tag_name, held_now(at)).order_by(col(Member.name))
    rows = ctx.batch.conn.execute(q).all()
    if not rows:
        return f"目前没有成员有「{tag_name}」。"
    names = [display(n, m) if n else m for m, n in rows]
    more = f"……共 {len(names)} 人" if len(names) > 30 else ""
    return f"有「{tag_name}」的成员（{len(names)} 人）：" + "、".join(names[:30]) + more


def group(ctx: Ctx, opts: Options) -> str:
    args = opts.positional
    if len(args) != 2 or args[1].lower() not in ("exclusive", "互斥", "normal", "普通"):
        raise UsageError("请写出组名和 exclusive（互斥）或 normal（普通）。")
    exclusive = args[1].lower() in ("exclusive", "互斥")
    try:
        set_group(ctx.batch.conn, ctx.deps.service(Tagging), args[0], exclusive)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if exclusive:
        return f"标签组「{args[0]}」设为互斥：每位成员最多保留其中一个标签，新的替换旧的。"
    return f"标签组「{args[0]}」设为普通：成员可以同时有其中多个标签。"


SYNONYM_USAGE = "/synonym add 价格 学费,收费 · /synonym del 价格 学费 · /synonyms（同义词 添加 价格 学费）"


def synonym(ctx: Ctx, opts: Options) -> str:
    words = opts.positional
    if not words:
        return synonyms_(ctx, opts)
    sub = words[0].lower()
    if sub not in ("add", "添加", "加", "del", "delete", "删除", "删", "list", "列表"):
        raise UsageError(f"不认识「{shown(words[0])}」，可以用 add（添加）、del（删除）或 list。")
    if sub in ("list", "列表"):
        return synonyms_(ctx, opts)
    if len(words) != 3:
        raise UsageError("请写出同义词组名和词，多个词用逗号隔开，例如 /synonym add 价格 学费,收费。")
    conn = ctx.batch.conn
    if sub in ("del", "delete", "删除", "删"):
        removed = remove_words(conn, words[1], words[2])
        ctx.deps.service(Tagging).changed = True
        return f"已从「{words[1]}」去掉 {'、'.join(removed)}。"
    added = add_words(conn, ctx.deps.service(Tagging).tokenizer, words[1], words[2], by=ctx.msg.sender, at=ctx.now)
    ctx.deps.service(Tagging).changed = True
    rules = [r for r in ctx.deps.service(Tagging).current(conn).rules.values()
             if isinstance(r, KeywordRule) and added.concept in r.keywords]
    lines = [f"已把 {'、'.join(added.added)} 加进同义词组「{added.concept}」（共 {added.size} 个词；"
             f"最近 {CHECK_DAYS} 天 {added.messages} 条聊天里命中 {added.hits} 条）。"]
    if added.already:
        lines.append(f"{'、'.join(added.already)} 本来就在里面。")
    if rules:
        lines.append("这些规则会一起听这些词：" + "、".join(f"#{r.id} {r.tag}" for r in rules))
    else:
        lines.append(f"规则里写「{added.concept}」就会听这一组词，"
                     f"例如 /rule add keyword 意向 {added.concept} intent=ask")
    if added.suggestions:
        lines.append(f"同义词词林里的近义词还有：{'、'.join(added.suggestions)}")
    return "\n".join(lines)


def synonyms_(ctx: Ctx, opts: Options) -> str:
    lines = ["同义词组（规则里写组名就听整组词）："]
    for name, base, mine in listing(ctx.batch.conn):
        text = "、".join(base)
        if mine:
            text += ("；" if text else "") + "管理员加的：" + "、".join(mine)
        lines.append(f"「{name}」{text}")
    lines.append("添加：/synonym add 价格 学费,收费")
    return "\n".join(lines)


COMMANDS = [
    Command("rule", ("规则",), BOTH_USAGE.replace("\n或：", " · ") + " · /rule preview <同 add> · /rule del 编号",
            "添加、预览、删除标签规则", rule, admin=True, keys=RULE_KEYS, flags=RULE_FLAGS),
    Command("rules", ("规则列表",), "/rules（规则列表）", "查看标签规则", rules_, admin=True),
    Command("tag", ("打标签",), "/tag @成员 标签 [原因]（打标签 @成员 标签 原因）", "手动打标签", tag, admin=True,
            member_args=1),
    Command("untag", ("去标签",), "/untag @成员 标签 [原因]（去标签 @成员 标签）", "去掉标签", untag, admin=True,
            member_args=1),
    Command("tags", ("查标签",), "/tags @成员（查标签 @成员）", "看成员的标签和来由", tags_, admin=True,
            member_args=1),
    Command("tagged", ("标签成员",), "/tagged 标签（标签成员 标签）", "列出有某个标签的成员", tagged, admin=True),
    Command("synonym", ("同义词",), SYNONYM_USAGE, "给规则的同义词组加词、删词", synonym, admin=True),
    Command("synonyms", ("同义词列表",), "/synonyms（同义词列表）", "查看同义词组", synonyms_, admin=True),
    Command("group", ("标签组",), "/group 组名 exclusive|normal（标签组 组名 互斥）",
            "设置标签组是否互斥", group, admin=True),
]
