"""A deterministic sample WeChat community as canonical event dicts, for demos and benchmarks.

`generate_community` builds a month of life in a few groups: members follow personas
(core, lurker, burst, dormant, newcomers who speak or stay silent, leavers) so that the
four member types, check-in streaks and the daily follow-up list all have something to
show. `generate_messages` is a fast stream of plain chat for ingest benchmarks.
Every dict follows the JSONL contract in DESIGN.md; the same seed gives the same events.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time as clock
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
VISIT_SOURCES = ("h5", "app", "mini")
CHECKIN_WORDS = ("打卡", "签到")

# --- Phrases -------------------------------------------------------------------------------
# A template is a sequence of parts: a str is literal, a tuple of str is a choice of one.
Template = tuple[str | tuple[str, ...], ...]

EMOJI = (
    "[微笑]", "[呲牙]", "[偷笑]", "[强]", "[玫瑰]", "[爱心]", "[捂脸]", "[奸笑]", "[机智]",
    "[耶]", "[加油]", "[抱拳]", "[OK]", "[太阳]", "[月亮]", "[庆祝]", "[红包]", "[握手]",
    "[鼓掌]", "[害羞]", "[发呆]", "[哇]", "[让我看看]", "[社会社会]", "[愉快]", "[憨笑]",
    "👍", "😂", "🙏", "❤️", "🌹", "💪", "🎉", "☀️",
)
SHORT_REPLIES = (
    "好的", "哈哈哈", "哈哈哈哈哈", "收到", "谢谢", "谢谢老师", "赞", "同意", "+1", "是的",
    "对对对", "厉害了", "学到了", "666", "确实", "有道理", "太棒了", "辛苦了", "早", "晚安",
    "嗯嗯", "好滴", "可以的", "冲", "来了来了", "羡慕", "抱抱", "笑死", "真的假的", "好的好的",
    "收到收到", "明白了", "没问题", "支持", "期待", "好耶", "牛", "哈哈", "嗯", "我也是",
)
OPENERS = ("哈哈，", "嗯，", "话说", "对了，", "其实", "我觉得", "说真的，", "啊这，", "刚看到，")
PRICE_QUESTIONS = (
    "这个课多少钱", "怎么报名", "价格多少", "有优惠吗", "请问这个课多少钱？", "请问怎么报名？",
    "下一期什么时候开班？价格多少", "老带新有优惠吗", "能分期吗", "现在还能报名吗",
)
AFTERSALES = (
    "我想申请退款", "怎么退款啊", "发票怎么开", "能开发票吗", "课程链接打不开", "视频打不开了",
    "买了课没收到链接", "资料包没收到", "付款了但没收到短信", "小程序打不开了",
)
BOT_COMMANDS = ("我的等级", "/me", "我的积分", "排行", "/rank", "排行榜")
DM_TEXTS = (*BOT_COMMANDS, "你好，请问课程怎么报名？", "想问下价格", "谢谢", "好的", "在吗")
NEWCOMER_GREETINGS = (
    "大家好，新人报到[抱拳]", "谢谢邀请，大家好～", "大家好，请多关照", "刚进群，大家好[微笑]",
    "大家好！朋友推荐来的", "hello大家好[愉快]",
)
ANNOUNCEMENTS: tuple[Template, ...] = (
    ("【群公告】本周共读《", ("置身事内", "乡土中国", "被讨厌的勇气", "活着"),
     "》，周日晚8点语音分享"),
    ("【通知】今晚", ("8点", "8点半", "9点"), "直播答疑，记得准时参加[加油]"),
    ("【提醒】明早6点开始打卡，坚持", ("21", "30", "100"), "天有奖励哦"),
    ("请大家文明发言，不要发广告和链接，谢谢配合[抱拳]",),
    ("【福利】本周打卡满7天的同学，私信我领", ("资料包", "电子书", "优惠券"),),
)

BOOKS = (
    "活着", "百年孤独", "三体", "人类简史", "被讨厌的勇气", "认知觉醒", "原则", "穷查理宝典",
    "围城", "平凡的世界", "红楼梦", "乡土中国", "置身事内", "蛤蟆先生去看心理医生", "纳瓦尔宝典",
    "额尔古纳河右岸", "长安的荔枝", "小王子", "我与地坛", "非暴力沟通", "刻意练习", "金字塔原理",
    "沉思录", "许三观卖血记", "人生海海",
)
BOOK_COMMENTS = (
    "写得太好了", "有点读不下去", "后劲好大", "哭了好几次", "越读越有意思", "推荐大家看看",
    "节奏有点慢", "看完久久不能平静", "里面有句话特别戳我", "适合睡前读", "二刷感受完全不一样",
    "翻译有点生硬", "做了好多笔记",
)
QUOTES = (
    "人是为活着本身而活着", "凡是过往，皆为序章", "世界以痛吻我，要我报之以歌",
    "弱小和无知不是生存的障碍，傲慢才是", "所有的大人都曾经是小孩", "人生没有白走的路",
    "种一棵树最好的时间是十年前，其次是现在",
)
COURSE_TOPICS = (
    "复利", "资产配置", "时间管理", "费曼学习法", "思维导图", "Excel透视表", "Python循环",
    "PPT配色", "写作开头", "演讲结构", "副业定位", "短视频脚本",
)
CITIES = ("北京", "上海", "广州", "杭州", "成都", "深圳", "武汉", "南京", "西安", "长沙")
NUMBERS = tuple(str(n) for n in (3, 5, 7, 8, 10, 12, 15, 21, 30, 50, 66, 100))

TOPIC_TEMPLATES: dict[str, tuple[Template, ...]] = {
    "reading": (
        ("最近在读《", BOOKS, "》，", BOOK_COMMENTS),
        ("《", BOOKS, "》", ("读完了", "读到一半了", "今天读了三十页", "终于啃完了")),
        ("有人读过《", BOOKS, "》吗？",
         ("想听听大家的看法", "值得买纸质版吗", "求推荐类似的书", "")),
        ("今天共读", ("第一章", "第二章", "第三章", "第五章", "最后一章", "序言"), "，",
         BOOK_COMMENTS),
        ("分享一句：", QUOTES),
        ("读《", BOOKS, "》的时候想到了《", BOOKS, "》", ("", "，有点像", "，完全相反")),
        (("纸质书还是电子书", "电子书还是听书", "纸质书还是听书"),
         ("？大家更喜欢哪个", "，我都试过")),
    ),
    "morning": (
        ("今天", ("5点半", "6点", "6点20", "6点半", "7点"), "起的，",
         ("有点困", "精神不错", "先跑了个步", "喝杯咖啡醒醒", "背了20个单词", "冥想了十分钟")),
        ("坚持早起第", NUMBERS, "天", ("", "[加油]", "，继续", "💪")),
        ("早上好", ("各位", "大家", "呀", ""), ("[太阳]", "☀️", "！", "")),
        ("今天", ("跑了5公里", "跳绳1000个", "读了半小时书", "练了半小时瑜伽", "背了30个单词"),
         ("，打卡完成", "[强]", "，舒服", "")),
        (("昨晚", "又"), ("熬夜了", "没睡好", "11点就睡了"), "，",
         ("今天差点起不来", "早起好难", "状态还行")),
        (("早起的秘诀就是", "我的经验是", "分享个小方法："),
         ("早睡", "闹钟放远一点", "别看手机", "找个伙伴一起", "拉开窗帘", "先喝一杯温水")),
    ),
    "course": (
        ("老师，第", NUMBERS, "节课的", ("作业", "课件", "回放", "笔记", "练习题"),
         ("在哪里看", "怎么提交", "能再发一下吗", "什么时候截止"), "？"),
        ("请问", ("回放", "课件", "资料包", "直播链接"),
         ("在哪里", "还能看吗", "发了吗", "怎么下载"), "？"),
        ("老师，", COURSE_TOPICS,
         ("这块没太听懂", "能再讲一下吗", "有没有例子", "和昨天讲的有什么区别")),
        ("作业已交", ("", "，请老师批改", "[抱拳]", "～")),
        ("今天的", COURSE_TOPICS, ("讲得太清楚了", "干货满满", "信息量好大", "要再听一遍")),
        ("学了", COURSE_TOPICS, "之后", ("效率高多了", "终于开窍了", "还是有点懵")),
    ),
    "chat": (
        ("今天", CITIES, ("好冷，大家注意保暖", "下雨了，记得带伞", "降温了", "大太阳", "雾霾好重"),
         ("", "[捂脸]", "！")),
        ("中午吃", ("麻辣烫", "黄焖鸡", "沙拉", "螺蛳粉", "饺子", "便当"),
         ("，太香了", "，有点撑", "了吗各位", "")),
        ("周末", ("有什么安排", "去爬山了", "带娃去公园", "在家躺平", "去看了展"),
         ("？", "", "[偷笑]")),
        ("这个", ("方法", "思路", "建议", "分享"), ("太实用了", "我要试试", "收藏了", "很受启发")),
        ("谢谢", ("老师", "群主", "大家", "各位"), ("的分享", "的解答", "的鼓励", ""),
         ("[抱拳]", "🙏", "")),
        ("有人在", CITIES, "吗？", ("想约线下", "周末一起读书", "求推荐好吃的")),
        (("下班了", "终于忙完了", "刚开完会"), ("，", "！"), ("累瘫", "来群里看看", "今天好充实")),
        (("大家", "各位", "请教一下，大家"),
         ("平时几点睡", "怎么安排时间", "用什么记笔记", "怎么坚持下来的", "周末一般干嘛",
          "有什么好用的App推荐", "一天读多久书", "怎么平衡工作和学习"), ("？", "呀？", "[机智]")),
    ),
}

# --- Nicknames ---------------------------------------------------------------------------------
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金廖夏方白孟秦江薛"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚华玉兰萍红鹏辉"
    "文婷雪琳晨欣怡宇浩然涵轩雨佳琪诺桐梦瑶嘉俊思子一"
)
WORD_NICKS = (
    "清风徐来", "知足常乐", "岁月静好", "一只猫", "山川", "向阳而生", "慢慢来", "半糖去冰",
    "星河滚烫", "晚风", "南风知我意", "努力的蜗牛", "不吃香菜", "早睡早起", "追光者", "橙子",
    "柠檬不萌", "木子", "简单快乐", "海阔天空", "小太阳", "稻草人", "一颗柚子", "walk", "随遇而安",
    "北方的树",
)
ENGLISH_NICKS = ("Lily", "Amy", "Kevin", "Grace", "Tony", "Coco", "Jason", "Emma", "Leo", "Vivian")
NICK_TAGS = ("-北京-HR", "（宝妈）", "@杭州", "-产品经理", "_Coach", "·读书", "-财务", "（备考中）")
NICK_EMOJI = ("🌙", "🍊", "🌸", "☀️", "🐱", "🍀", "✨")
# Names that broke someone's dashboard once: emoji only, very long, invisible, hostile HTML.
ODD_NICKNAMES = {
    "core": ("<img src=x onerror=alert(1)>",
             ("每天进步一点点的小王同学（北京·互联网产品经理）专注职场成长与个人品牌打造"
              "｜不定期分享读书笔记和早起心得｜欢迎交流合作")),
    "burst": ("🌸花开半夏🌸",),
    "lurker": ("ㅤ",),  # U+3164, the "blank" nickname WeChat users pick to look nameless
    "dormant": ("🐟",),
}

ROOM_NAMES = (
    ("读书群", "reading"), ("早起打卡营", "morning"), ("课程答疑群", "course"),
    ("职场成长群", "chat"), ("宝妈交流群", "chat"), ("英语晨读营", "morning"),
    ("理财入门群", "course"), ("写作训练营", "course"), ("健身打卡群", "morning"),
    ("同城读书会", "reading"),
)

# Relative activity by local hour 0..23: quiet nights, a lunch bump, an evening peak.
CHAT_HOURS = (1, .5, .2, .1, .1, .3, 1.5, 3, 4, 3, 3, 3, 5, 4, 2, 2, 2, 2, 3, 4, 7, 8, 6, 3)
_CHAT_CUM = tuple(itertools.accumulate(CHAT_HOURS))
_MORNING = (5, 6, 7, 8, 9)
_MORNING_CUM = tuple(itertools.accumulate((1, 5, 6, 4, 2)))
_EVENING = (20, 21, 22, 23)
_EVENING_CUM = tuple(itertools.accumulate((2, 4, 4, 1)))
_HOURS = tuple(range(24))
_DAYTIME = tuple(range(8, 21))
_DAYTIME_CUM = tuple(itertools.accumulate(CHAT_HOURS[8:21]))


def _fill(rng: random.Random, template: Template) -> str:
    return "".join(part if isinstance(part, str) else rng.choice(part) for part in template)


def chat_line(rng: random.Random, kind: str = "chat") -> str:
    """One ordinary chat line for a room of this kind (reading, morning, course, chat)."""
    r = rng.random()
    if r < 0.22:
        text = rng.choice(SHORT_REPLIES)
    elif r < 0.26:
        return rng.choice(EMOJI) * rng.randint(1, 3)
    elif r < 0.66:
        text = _fill(rng, rng.choice(TOPIC_TEMPLATES.get(kind, TOPIC_TEMPLATES["chat"])))
    else:
        text = _fill(rng, rng.choice(TOPIC_TEMPLATES["chat"]))
    if rng.random() < 0.1:
        text = rng.choice(OPENERS) + text
    if rng.random() < 0.2:
        text += rng.choice(EMOJI)
    return text


def nickname(rng: random.Random) -> str:
    """A WeChat-style nickname: a real name, a word, an English name, with tags or emoji."""
    style = rng.random()
    real = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
    if style < 0.3:
        return real
    if style < 0.4:
        return rng.choice(("小", "阿", "老")) + rng.choice(GIVEN + SURNAMES)
    if style < 0.62:
        return rng.choice(WORD_NICKS)
    if style < 0.77:
        return rng.choice(ENGLISH_NICKS) + rng.choice(("", "", rng.choice(SURNAMES), "_" + real[0]))
    if style < 0.88:
        return real + rng.choice(NICK_TAGS)
    return rng.choice(WORD_NICKS) + rng.choice(NICK_EMOJI)


def _wxid(rng: random.Random, taken: set[str]) -> str:
    while True:
        wxid = "wxid_" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=14))
        if wxid not in taken:
            taken.add(wxid)
            return wxid


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    kind: str  # which topic templates its chat draws on


def make_rooms(count: int) -> list[Room]:
    """r1@chatroom 读书群, r2@chatroom 早起打卡营, ...; names repeat with a number past ten."""
    rooms = []
    for i in range(count):
        name, kind = ROOM_NAMES[i % len(ROOM_NAMES)]
        if i >= len(ROOM_NAMES):
            name += str(i // len(ROOM_NAMES) + 1)
        rooms.append(Room(f"r{i + 1}@chatroom", name, kind))
    return rooms


# --- Personas ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Persona:
    """How likely a member is to do each thing on an ordinary day."""

    talk_days: float  # chance of speaking on a day
    talk_per_day: tuple[int, int]
    checkin_start: float  # chance of checking in after a day without
    checkin_keep: float  # chance of checking in the day after a check-in: makes streaks
    visit_days: float
    visits_per_day: tuple[int, int]
    dm_days: float  # chance of a 1:1 message to the bot
    price_share: float  # share of their messages that ask about price or sign-up


PERSONAS = {
    "core": Persona(talk_days=0.85, talk_per_day=(2, 9), checkin_start=0.6, checkin_keep=0.9,
                    visit_days=0.5, visits_per_day=(1, 2), dm_days=0.04, price_share=0.005),
    "lurker": Persona(talk_days=0.04, talk_per_day=(1, 1), checkin_start=0.35, checkin_keep=0.75,
                      visit_days=0.8, visits_per_day=(1, 3), dm_days=0.02, price_share=0.12),
    # Burst members' big days come from Member.burst_days; this is the rest of their month.
    "burst": Persona(talk_days=0.03, talk_per_day=(1, 3), checkin_start=0.03, checkin_keep=0.3,
                     visit_days=0.05, visits_per_day=(1, 1), dm_days=0.01, price_share=0.015),
    # Most dormant accounts show no sign of life all month; a few drop by once.
    "dormant": Persona(talk_days=0.002, talk_per_day=(1, 1), checkin_start=0.001, checkin_keep=0,
                       visit_days=0.004, visits_per_day=(1, 1), dm_days=0, price_share=0.05),
    "newcomer": Persona(talk_days=0.4, talk_per_day=(1, 4), checkin_start=0.3, checkin_keep=0.7,
                        visit_days=0.4, visits_per_day=(1, 2), dm_days=0.03, price_share=0.15),
    # Joins and never says a word: the people the welcome list is for.
    "silent": Persona(talk_days=0, talk_per_day=(0, 0), checkin_start=0, checkin_keep=0,
                      visit_days=0.03, visits_per_day=(1, 1), dm_days=0, price_share=0),
}
SHARES = {"core": 0.13, "lurker": 0.18, "burst": 0.15}  # of the initial roster; the rest dormant


@dataclass
class Member:
    id: str
    name: str
    persona: str
    rooms: list[Room]  # home room first
    joined: dict[str, datetime] = field(default_factory=dict)  # room id -> when
    left: dict[str, datetime] = field(default_factory=dict)
    streak: str = ""  # "steady": checks in every day; "broken": misses a few planned days
    burst_days: frozenset[int] = frozenset()
    rename: tuple[datetime, str] | None = None  # changes nickname at that moment

    def in_room(self, room: Room, at: datetime) -> bool:
        joined = self.joined.get(room.id)
        left = self.left.get(room.id)
        return joined is not None and joined <= at and (left is None or at < left)

    def present(self, at: datetime) -> bool:
        return any(self.in_room(room, at) for room in self.rooms)

    def name_at(self, at: datetime) -> str:
        if self.rename and at >= self.rename[0]:
            return self.rename[1]
        return self.name


class _Community:
    """Collects timed events while the month is simulated, then orders and numbers them."""

    def __init__(self, rng: random.Random, zone: ZoneInfo, start: date, days: int,
                 rooms: list[Room]) -> None:
        self.rng, self.zone, self.start, self.days, self.rooms = rng, zone, start, days, rooms
        self.members: list[Member] = []
        self.roster: dict[str, list[Member]] = {room.id: [] for room in rooms}  # ever in the room
        self._events: list[tuple[datetime, int, str, dict[str, Any]]] = []

    # Time
    def day(self, i: int) -> date:
        return self.start + timedelta(days=i)

    def at(self, day: date, hours: Sequence[int] = _HOURS, cum: Sequence[float] = _CHAT_CUM
           ) -> datetime:
        hour = self.rng.choices(hours, cum_weights=cum)[0]
        moment = time(hour, self.rng.randrange(60), self.rng.randrange(60))
        return datetime.combine(day, moment, tzinfo=self.zone)

    # Events
    def _emit(self, at: datetime, etype: str, fields: dict[str, Any]) -> None:
        self._events.append((at, len(self._events), etype, fields))

    def join(self, m: Member, room: Room, at: datetime, inviter: Member | None) -> None:
        m.joined[room.id] = at
        fields = {"room": room.id, "member": m.id, "member_name": m.name_at(at),
                  "room_name": room.name}
        if inviter:
            fields["inviter"] = inviter.id
        self._emit(at, "join", fields)

    def leave(self, m: Member, room: Room, at: datetime) -> None:
        m.left[room.id] = at
        self._emit(at, "leave", {"room": room.id, "member": m.id})

    def visit(self, m: Member, at: datetime) -> None:
        if m.present(at):
            source = self.rng.choices(VISIT_SOURCES, weights=(4, 4, 2))[0]
            self._emit(at, "visit", {"member": m.id, "source": source})

    def say(self, m: Member, at: datetime, text: str, room: Room | None = None,
            mentions: Sequence[str] = ()) -> bool:
        """A message in `room` (None: 1:1 with the bot) if the member is there at that time."""
        if room is None:
            if not m.present(at):
                return False
            fields: dict[str, Any] = {}
        else:
            if not m.in_room(room, at):
                return False
            fields = {"room": room.id, "room_name": room.name}
        fields |= {"sender": m.id, "sender_name": m.name_at(at), "text": text}
        if mentions:
            fields["mentions"] = list(mentions)
        self._emit(at, "message", fields)
        return True

    def room_for(self, m: Member, at: datetime) -> Room | None:
        """Where a member speaks: mostly the home room, sometimes another one they are in."""
        order = m.rooms if self.rng.random() < 0.75 else self.rng.sample(m.rooms, len(m.rooms))
        return next((room for room in order if m.in_room(room, at)), None)

    def events(self) -> list[dict[str, Any]]:
        counters = {"message": 0, "join": 0, "leave": 0, "visit": 0, "order": 0}
        prefixes = {"message": "m", "join": "j", "leave": "l", "visit": "v", "order": "o"}
        out = []
        for at, _, etype, fields in sorted(self._events, key=lambda e: (e[0], e[1])):
            counters[etype] += 1
            ts = at.isoformat(timespec="seconds")
            out.append({"type": etype, "id": f"{prefixes[etype]}{counters[etype]}", "ts": ts,
                        **fields})
        return out


def generate_community(*, seed: int = 7, start: date = date(2026, 10, 25), days: int = 30,
                       rooms: int = 3, members: int = 300, tz: str = DEFAULT_TZ
                       ) -> list[dict[str, Any]]:
    """A month of a sample community as canonical event dicts, sorted by ts.

    The list opens with the roster: a join for every member who was already in a group,
    dated in the year before `start`, so that members who never speak are still known.
    Everything else happens on the local days start .. start + days - 1 in `tz`.
    """
    if members < 10 or rooms < 1 or days < 1:
        raise ValueError("need members >= 10, rooms >= 1 and days >= 1")
    rng = random.Random(seed)
    community = _Community(rng, ZoneInfo(tz), start, days, make_rooms(rooms))
    _cast(community, members)
    _roster_joins(community)
    _newcomer_joins_and_leaves(community)
    _announcements(community)
    for m in community.members:
        _live_month(community, m)
    _orders(community, random.Random(seed + 1))
    _prospects(community, random.Random(seed + 2))
    return community.events()


COURSES = (("21天阅读训练营", 199), ("读书会年卡", 365), ("写作入门课", 99), ("1对1读书规划", 499))


def _orders(c: _Community, rng: random.Random) -> None:
    """Purchases from the shop: core members buy most and some buy again, lurkers and
    newcomers now and then; some members who went quiet bought before the month began, and
    one order is refunded. Drawn from their own generator, so the chat stays as it was."""
    chance = {"core": 0.55, "lurker": 0.2, "newcomer": 0.15, "burst": 0.1, "dormant": 0.0, "silent": 0.0}
    refunded = False
    n = 0
    for m in c.members:
        joined = min(m.joined.values()) if m.joined else None
        if joined is None:
            continue
        if m.persona == "dormant" and rng.random() < 0.08:  # bought long ago, silent since
            at = c.at(c.start - timedelta(days=rng.randint(40, 80)))
            item, price = rng.choice(COURSES)
            n += 1
            c._emit(at, "order", {"id": f"o{n}", "member": m.id, "amount": price, "item": item})
            continue
        if rng.random() >= chance[m.persona]:
            continue
        for _ in range(2 if m.persona == "core" and rng.random() < 0.35 else 1):
            first = max(0, (joined.date() - c.start).days)
            if first >= c.days:
                break
            at = c.at(c.day(rng.randrange(first, c.days)))
            if at < joined:
                at = joined + timedelta(hours=2)
            item, price = rng.choice(COURSES)
            n += 1
            c._emit(at, "order", {"id": f"o{n}", "member": m.id, "amount": price, "item": item,
                                  "room": m.rooms[0].id})
            if not refunded and m.persona == "lurker":
                refunded = True
                n += 1
                c._emit(at + timedelta(minutes=10), "order", {
                    "id": f"o{n}", "member": m.id, "amount": -price, "item": item,
                    "refund_of": f"o{n - 1}"})


def _prospects(c: _Community, rng: random.Random) -> None:
    """People who only visit the course site or write to the bot 1:1, never in a group."""
    taken = {m.id for m in c.members}
    for _ in range(6):
        wxid = _wxid(rng, taken)
        for i in sorted(rng.sample(range(c.days), min(3, c.days))):
            c._emit(c.at(c.day(i)), "visit", {"member": wxid, "source": "h5"})
        c._emit(c.at(c.day(rng.randrange(c.days))), "message",
                {"sender": wxid, "sender_name": nickname(rng), "text": rng.choice(DM_TEXTS)})


def _cast(c: _Community, count: int) -> None:
    """Decide who is who: personas, nicknames, rooms, streak plans and burst days."""
    rng = c.rng
    n_new = max(2, round(count * 0.1))
    initial = count - n_new
    sizes = {p: max(1, round(initial * share)) for p, share in SHARES.items()}
    sizes["dormant"] = initial - sum(sizes.values())
    n_silent = max(2, n_new // 2)
    sizes |= {"silent": n_silent, "newcomer": n_new - n_silent}

    taken: set[str] = set()
    # Room sizes differ: the first room is the biggest, as a community's main group usually is.
    room_weights = [3 if i == 0 else 2 if i < 3 else 1 for i in range(len(c.rooms))]
    for persona, size in sizes.items():
        for i in range(size):
            if persona == "core" and i < len(c.rooms):
                home = c.rooms[i]  # one core member per room hosts it
            else:
                home = rng.choices(c.rooms, weights=room_weights)[0]
            member_rooms = [home]
            others = [r for r in c.rooms if r is not home]
            if others and rng.random() < (0.5 if persona == "core" else 0.25):
                member_rooms.append(rng.choice(others))
            c.members.append(Member(_wxid(rng, taken), nickname(rng), persona, member_rooms))

    groups = {p: [m for m in c.members if m.persona == p] for p in sizes}
    core = groups["core"]
    for m in core[:2]:
        m.streak = "steady"
    for m in core[2:5]:
        m.streak = "broken"
    for m in groups["burst"]:
        m.burst_days = frozenset(rng.sample(range(c.days), min(c.days, rng.randint(2, 4))))
    for persona, names in ODD_NICKNAMES.items():  # the last of each group: never a host
        for m, name in zip(reversed(groups[persona][len(c.rooms):]), names, strict=False):
            m.name = name
    if len(core) > 8:
        renamed = core[6]
        when = c.at(c.day(c.days // 2))
        renamed.rename = (when, renamed.name + rng.choice(("（已戒糖）", "·在读", "🍀")))
    for m in c.members:
        for room in m.rooms:
            c.roster[room.id].append(m)


def _roster_joins(c: _Community) -> None:
    """Joins before the month for everyone but newcomers; some came by invitation."""
    midnight = datetime.combine(c.start, time(), tzinfo=c.zone)
    joins = []
    for m in c.members:
        if m.persona in ("newcomer", "silent"):
            continue
        for room in m.rooms:
            joins.append((midnight - timedelta(seconds=c.rng.randint(3600, 365 * 86400)), m, room))
    joins.sort(key=lambda j: j[0])
    inside: dict[str, list[Member]] = {room.id: [] for room in c.rooms}
    for at, m, room in joins:
        earlier = inside[room.id]
        inviter = c.rng.choice(earlier) if earlier and c.rng.random() < 0.4 else None
        c.join(m, room, at, inviter)
        earlier.append(m)


def _newcomer_joins_and_leaves(c: _Community) -> None:
    """Joins during the month, then leaves, so that nobody leaves before joining."""
    rng = c.rng
    silent = [m for m in c.members if m.persona == "silent"]
    speaking = [m for m in c.members if m.persona == "newcomer"]
    last_days = range(max(0, c.days - 3), c.days)
    for i, m in enumerate(silent + speaking):
        # The first silent ones join at the end, so the last day has people to welcome.
        day_index = rng.choice(last_days) if i < 2 else rng.randrange(c.days)
        at = c.at(c.day(day_index))
        for room in m.rooms:
            # Core members bring friends; the rest scanned a QR code, which has no inviter.
            regulars = [o for o in c.members if o.persona == "core" and o.in_room(room, at)]
            inviter = rng.choice(regulars) if regulars and rng.random() < 0.8 else None
            c.join(m, room, at, inviter)
            at += timedelta(minutes=rng.randint(1, 90))

    # Leavers: mostly dormant members, a burst member who fell out, and a newcomer who
    # joined for a freebie and left within days.
    dormant = [m for m in c.members if m.persona == "dormant"]
    burst = [m for m in c.members if m.persona == "burst"]
    leavers = rng.sample(dormant, min(len(dormant), max(1, round(len(c.members) * 0.03))))
    leavers += burst[:1]
    for m in leavers:
        room = m.rooms[0]
        at = c.at(c.day(rng.randrange(c.days)))
        if at > m.joined[room.id]:
            c.leave(m, room, at)
    if speaking:
        m = min(speaking, key=lambda s: s.joined[s.rooms[0].id])
        at = m.joined[m.rooms[0].id] + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
        if at < datetime.combine(c.day(c.days), time(), tzinfo=c.zone):
            for room in m.rooms:
                c.leave(m, room, at + timedelta(minutes=1))


def _announcements(c: _Community) -> None:
    """Each room's host posts a notice every few days, in the morning or the evening."""
    hosts = [m for m in c.members if m.persona == "core"][: len(c.rooms)]
    for host in hosts:
        room = host.rooms[0]
        for i in range(c.rng.randrange(3), c.days, c.rng.randint(3, 4)):
            hour = c.rng.choice((9, 20))
            at = datetime.combine(c.day(i), time(hour, c.rng.randrange(20)), tzinfo=c.zone)
            c.say(host, at, _fill(c.rng, c.rng.choice(ANNOUNCEMENTS)), room)


def _live_month(c: _Community, m: Member) -> None:
    rng = c.rng
    persona = PERSONAS[m.persona]
    misses = {c.days // 3, 2 * c.days // 3, 2 * c.days // 3 + 2}
    checked_yesterday = False
    greeted = m.persona != "newcomer"
    for i in range(c.days):
        day = c.day(i)
        if m.streak == "steady":
            checks = True
        elif m.streak == "broken":
            checks = i not in misses
        else:
            chance = persona.checkin_keep if checked_yesterday else persona.checkin_start
            checks = rng.random() < (0.6 if i in m.burst_days else chance)
        checked_yesterday = checks and _check_in(c, m, day)

        if rng.random() < persona.visit_days:
            for _ in range(rng.randint(*persona.visits_per_day)):
                c.visit(m, c.at(day))

        if not greeted:
            joined = min(m.joined.values())
            if joined.date() == day:
                greeted = c.say(m, joined + timedelta(minutes=rng.randint(2, 240)),
                                rng.choice(NEWCOMER_GREETINGS), m.rooms[0])

        if i in m.burst_days:
            _burst(c, m, day)
        elif rng.random() < persona.talk_days:
            for _ in range(rng.randint(*persona.talk_per_day)):
                at = c.at(day)
                room = c.room_for(m, at)
                if room:
                    _talk(c, m, at, room, persona)

        if rng.random() < persona.dm_days:
            c.say(m, c.at(day), rng.choice(DM_TEXTS))


def _check_in(c: _Community, m: Member, day: date) -> bool:
    """One check-in, in the early-rise camp if the member is in one; sometimes a double."""
    rng = c.rng
    camp = next((r for r in m.rooms if r.kind == "morning"), m.rooms[0])
    if camp.kind == "morning" or rng.random() < 0.6:
        at = c.at(day, _MORNING, _MORNING_CUM)
    else:
        at = c.at(day, _EVENING, _EVENING_CUM)
    if not c.say(m, at, rng.choice(CHECKIN_WORDS) if rng.random() < 0.3 else "打卡", camp):
        return False
    if rng.random() < 0.03:  # forgot they already did, or did not see the bot's reply
        c.say(m, at + timedelta(minutes=rng.randint(1, 30)), rng.choice(CHECKIN_WORDS), camp)
    return True


def _burst(c: _Community, m: Member, day: date) -> None:
    """A burst day: a long run of messages within an hour or three, usually one room."""
    rng = c.rng
    at = c.at(day, _DAYTIME, _DAYTIME_CUM)
    room = c.room_for(m, at)
    if room is None:
        return
    for _ in range(rng.randint(15, 45)):
        at += timedelta(seconds=rng.randint(10, 400))
        if at.date() != day:
            break
        _talk(c, m, at, room, PERSONAS["burst"])


def _talk(c: _Community, m: Member, at: datetime, room: Room, persona: Persona) -> None:
    rng = c.rng
    scale = 2 if room.kind == "course" else 1  # the course room is where people buy and complain
    price = persona.price_share * scale
    aftersales = price + 0.015 * scale
    commands = aftersales + 0.01
    r = rng.random()
    if r < price:
        text = rng.choice(PRICE_QUESTIONS)
    elif r < aftersales:
        text = rng.choice(AFTERSALES)
    elif r < commands:
        text = rng.choice(BOT_COMMANDS)
    else:
        text = chat_line(rng, room.kind)
    if rng.random() < 0.07:
        other = rng.choice(c.roster[room.id])
        if other is not m and other.in_room(room, at):
            reply = rng.choice(SHORT_REPLIES) if rng.random() < 0.5 else text
            c.say(m, at, f"@{other.name_at(at)}\u2005{reply}", room, [other.id])  # WeChat's @ space
            return
    c.say(m, at, text, room)


# --- Benchmark stream --------------------------------------------------------------------------
def generate_messages(n: int, *, seed: int = 1, start: datetime | None = None,
                      members: int = 5000, rooms: int = 20) -> Iterator[dict[str, Any]]:
    """`n` plain chat messages (5-40 characters), a few seconds apart, ids m1..mn.

    Lazy and fast (1.5 s for 200k on this machine) for ingest benchmarks; the spacing
    ignores the daily rhythm, so 200k messages cover about two weeks. A naive `start` is read
    as Asia/Shanghai time.
    """
    rng = random.Random(seed)
    zone = ZoneInfo(DEFAULT_TZ)
    if start is None:
        start = datetime(2026, 11, 1, 7, 0, tzinfo=zone)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    room_list = make_rooms(rooms)
    taken: set[str] = set()
    people = [(_wxid(rng, taken), nickname(rng), rng.choice(room_list)) for _ in range(members)]
    # A few members say most of what is said: draw senders from a Zipf-like pool.
    pool = rng.choices(people, weights=[1 / (i + 1) ** 0.8 for i in range(members)],
                       k=4 * members)
    at = start
    for i in range(1, n + 1):
        at += timedelta(seconds=rng.randint(1, 12))
        sender, name, room = pool[int(rng.random() * len(pool))]
        if rng.random() < 0.15:
            room = room_list[int(rng.random() * len(room_list))]
        text = chat_line(rng, room.kind)
        if rng.random() < 0.3:  # two thoughts in one message, as people type them
            more = chat_line(rng, room.kind)
            if len(text) + len(more) < 40:
                text += rng.choice(("，", " ", "。")) + more
        while len(text) < 5:
            text += rng.choice(EMOJI) if rng.random() < 0.5 else rng.choice(("～", "！", "哈哈"))
        yield {"type": "message", "id": f"m{i}", "ts": at.isoformat(timespec="seconds"),
               "room": room.id, "room_name": room.name, "sender": sender,
               "sender_name": name, "text": text[:40]}


# --- Files and command line --------------------------------------------------------------------
def write_jsonl(events: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write one JSON object per line (UTF-8, Chinese kept readable); return how many."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bot.demo.sample",
        description="Write a sample community (or a benchmark message stream) as JSONL.")
    parser.add_argument("out", help="output .jsonl file")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rooms", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 10, 25),
                        help="first local day, YYYY-MM-DD")
    parser.add_argument("--messages", type=int, metavar="N",
                        help="instead of a community, write N benchmark chat messages")
    args = parser.parse_args(argv)
    began = clock.perf_counter()
    if args.messages is not None:
        events: Iterable[dict[str, Any]] = generate_messages(args.messages, seed=args.seed)
    else:
        events = generate_community(seed=args.seed, start=args.start, days=args.days,
                                    rooms=args.rooms, members=args.members)
    count = write_jsonl(events, args.out)
    print(f"wrote {count} events to {args.out} in {clock.perf_counter() - began:.2f}s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
