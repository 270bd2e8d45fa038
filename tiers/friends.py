"""Private-account rules: which requests are accepted, channel welcomes, invitations, timing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tiers.spec import check_placeholders

ACCEPT_MODES = ("all", "keyword", "off")
DEFAULT_KEYWORDS = ("课程", "打卡", "报名", "直播")
DEFAULT_WELCOME = "你好 {name}，很高兴认识你！😊"
WELCOME_PLACEHOLDERS = {"name": "新朋友的名字", "group": "要拉进的群"}
GROUP_LINE = "我拉你进「{group}」，大家都在里面交流、打卡～"
INVITE_MODES = ("add", "text")
NOT_IN_GROUP_AFTER = timedelta(days=3)
REINVITE_EVERY = timedelta(days=1)
JOIN_WORDS = frozenset({"进群", "加群", "拉我进群", "我要进群", "入群", "我想进群", "想进群", "我想加群",
                        "想加群", "我要加群", "怎么进群", "怎么加群", "求进群", "求拉群", "拉我进群吧",
                        "能拉我进群吗", "可以进群吗", "拉我一下"})
MAX_WELCOME = 300


@dataclass(frozen=True)
class AcceptRule:
    """How one account answers friend requests: accept all, those whose greeting holds one of
    `keywords`, or none (every request waits for an operator)."""

    mode: str = "keyword"
    keywords: tuple[str, ...] = DEFAULT_KEYWORDS


@dataclass(frozen=True)
class ChannelPlan:
    """What a new friend of one channel gets: a welcome DM and a target group (by name), and
    the group's QR/invite text where the account cannot add people itself."""

    welcome: str = DEFAULT_WELCOME
    group: str | None = None
    invite_text: str | None = None


@dataclass(frozen=True)
class FriendSettings:
    accept: AcceptRule = field(default_factory=AcceptRule)
    accounts: Mapping[str, AcceptRule] = field(default_factory=dict)  # per account (wxid)
    default: ChannelPlan = field(default_factory=ChannelPlan)
    channels: Mapping[str, ChannelPlan] = field(default_factory=dict)  # channel tag → plan
    invite: str = "add"  # "add": Wechaty room.add; "text": send the invite text instead
    accept_per_hour: int = 20
    accept_per_day: int = 100
    invite_per_hour: int = 20
    invite_per_day: int = 100

    def rule_for(self, account: str) -> AcceptRule:
        return self.accounts.get(account, self.accept)

    def plan(self, channel: str | None) -> ChannelPlan:
        """A channel's plan; what it leaves out comes from the default."""
        own = self.channels.get(channel) if channel else None
        if own is None:
            return self.default
        return ChannelPlan(own.welcome or self.default.welcome, own.group or self.default.group,
                           own.invite_text or self.default.invite_text)


def accepts(rule: AcceptRule, hello: str | None) -> bool:
    """Whether a request with this greeting is accepted without an operator."""
    if rule.mode == "all":
        return True
    if rule.mode == "off" or not hello:
        return False
    text = hello.casefold()
    return any(k.casefold() in text for k in rule.keywords)


def welcome_text(plan: ChannelPlan, name: str, group: str | None) -> str:
    """The welcome DM: the plan's text with {name} and {group}; a text without {group} gets
    a line naming the group when there is one."""
    text = plan.welcome.replace("{name}", name)
    if "{group}" in text:
        return text.replace("{group}", group or "我们的群")
    if group:
        text += "\n" + GROUP_LINE.replace("{group}", group)
    return text


def wants_group(text: str) -> bool:
    """A 1:1 message asking to be let into the group (进群, 加群)."""
    return text.strip().strip("!！。.~～?？ ") in JOIN_WORDS


def may_invite_again(last_invited: datetime | None, now: datetime) -> bool:
    """An invitation is repeated on request at most once a day."""
    return last_invited is None or now - last_invited >= REINVITE_EVERY


def not_in_group_yet(accepted_at: datetime | None, in_a_group: bool, now: datetime) -> bool:
    """A friend who has not joined any group 3 days after becoming a friend."""
    return accepted_at is not None and not in_a_group and now - accepted_at >= NOT_IN_GROUP_AFTER


# ---- the [friends] table of the config file ---------------------------------------------------

def _accept_rule(table: Mapping[str, Any], where: str, base: AcceptRule) -> AcceptRule:
    mode = table.get("auto_accept", base.mode)
    if mode not in ACCEPT_MODES:
        raise ValueError(f"{where}auto_accept 应为 all、keyword 或 off，不是 {mode!r}")
    keywords = table.get("keywords", list(base.keywords))
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise ValueError(f'{where}keywords 应为非空字符串的列表，例如 ["课程", "报名"]')
    if mode == "keyword" and not keywords:
        raise ValueError(f"{where}auto_accept = \"keyword\" 需要至少一个 keywords")
    return AcceptRule(mode, tuple(k.strip() for k in keywords))


def _text(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}{key} 应为非空的字符串")
    if key == "welcome" and len(value) > MAX_WELCOME:
        raise ValueError(f"{where}welcome 太长（{len(value)} 字，最多 {MAX_WELCOME} 字）")
    if key == "welcome":
        check_placeholders(value, WELCOME_PLACEHOLDERS, f"{where}welcome")
    return value.strip()


def _plan(table: Mapping[str, Any], where: str) -> ChannelPlan:
    return ChannelPlan(_text(table, "welcome", where) or "", _text(table, "group", where),
                       _text(table, "invite_text", where))


def _count(table: Mapping[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise ValueError(f"{key} 应为 1 到 10000 的整数")
    return value


def parse_friend_settings(table: Mapping[str, Any]) -> FriendSettings:
    """The `[friends]` table; ValueError (Chinese) naming the key that is wrong."""
    known = {"auto_accept", "keywords", "welcome", "group", "invite_text", "invite", "channels",
             "accounts", "accept_per_hour", "accept_per_day", "invite_per_hour", "invite_per_day"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"不认识的键 {'、'.join(unknown)}（可用：{'、'.join(sorted(known))}）")
    accept = _accept_rule(table, "", AcceptRule())
    accounts = {}
    raw_accounts = table.get("accounts", {})
    if not isinstance(raw_accounts, dict):
        raise ValueError('accounts 应为表，例如 [friends.accounts.wxid_bot] auto_accept = "all"')
    for account, t in raw_accounts.items():
        if not isinstance(t, dict):
            raise ValueError(f"accounts.{account} 应为表")
        accounts[account] = _accept_rule(t, f"accounts.{account}.", accept)
    default = _plan(table, "")
    default = ChannelPlan(default.welcome or DEFAULT_WELCOME, default.group, default.invite_text)
    channels = {}
    raw_channels = table.get("channels", {})
    if not isinstance(raw_channels, dict):
        raise ValueError('channels 应为表，例如 [friends.channels."来源-抖音"] group = "抖音直播群"')
    for tag, t in raw_channels.items():
        if not isinstance(t, dict):
            raise ValueError(f"channels.{tag} 应为表")
        channels[tag] = _plan(t, f"channels.{tag}.")
    invite = table.get("invite", "add")
    if invite not in INVITE_MODES:
        raise ValueError(f"invite 应为 add（机器人拉人进群）或 text（发进群二维码/链接文字），不是 {invite!r}")
    return FriendSettings(accept, accounts, default, channels, invite,
                          _count(table, "accept_per_hour", 20), _count(table, "accept_per_day", 100),
                          _count(table, "invite_per_hour", 20), _count(table, "invite_per_day", 100))
