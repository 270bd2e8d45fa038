"""KeywordMatcher at scale: agrees with a brute-force matcher on a generated chat corpus.

Speed is measured by scripts/bench_ingest.py (500 rules against bare jieba), not here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import jieba  # type: ignore[import-untyped]
import pytest

from tagging.matcher import Hit, KeywordMatcher, Tokenizer, get_tokenizer, normalize
from tagging.rules import KeywordRule, Scope, can_be_token

# Lines of the kind people send in 读书群 / 课程群 / 团购群 chats.
_LINES = [
    "打卡",
    "今天打卡第12天",
    "早上好呀各位",
    "大家早上好",
    "晚安",
    "收到",
    "收到，谢谢老师",
    "好的好的",
    "哈哈哈哈哈",
    "哈哈哈笑死我了",
    "[强][强][强]",
    "👍👍👍",
    "请问这个课多少钱呀",
    "这个课价格多少",
    "有没有优惠券",
    "团购什么时候截止",
    "已下单，等发货",
    "快递到了吗",
    "我昨天买的还没发货",
    "怎么报名啊",
    "报名链接发一下",
    "链接在哪里",
    "今天的作业交了吗",
    "老师，第三课的音频打不开",
    "音频打不开，是不是网络问题",
    "这本书写得真好，推荐大家看",
    "我读完了第二章，有点难懂",
    "有人一起读《人类简史》吗",
    "周末有线下活动吗",
    "活动地点在哪里",
    "几点开始",
    "明天早上八点直播",
    "直播回放在哪看",
    "回放链接 https://example.com/live/123",
    "@小助手 我的积分怎么没加",
    "我的等级",
    "积分可以换什么",
    "退款怎么操作",
    "评价格式不对，怎么改",
    "这个产品质量怎么样",
    "孩子很喜欢，谢谢分享",
    "宝妈们平时几点哄睡",
    "减肥第三天，体重没变",
    "今天跑了5公里",
    "打卡第30天，坚持就是胜利",
    "VIP会员有什么权益",
    "开通vip要多少钱",
    "price多少",
    "学费能分期吗",
    "可以开发票吗",
    "发票抬头写公司名",
    "客服在吗",
    "在吗在吗",
    "有人吗",
    "新人报到，请多关照",
    "欢迎新朋友",
    "谢谢群主",
    "群主辛苦了",
    "这个月的书单出来了吗",
    "下期什么时候开课",
    "能不能试听一下",
    "试听课在哪里",
    "感觉讲得太快了",
    "老师讲得很清楚",
    "笔记整理好了，分享给大家",
    "求资料",
    "资料包怎么领取",
    "已领取，谢谢",
    "二维码过期了",
    "重新发一下二维码",
    "我想咨询一下课程安排",
    "周三晚上有空",
    "晚上八点半不见不散",
    "今天好热啊",
    "下雨了，记得带伞",
    "刚下班，补个打卡",
    "补卡可以吗",
    "昨天忘记打卡了，连续天数断了",
    "太难了😭",
    "加油💪",
    "冲冲冲",
    "这个方法有用，试了一周瘦了两斤",
    "还差多少钱包邮",
    "满减活动还有吗",
    "拼团成功了吗",
    "拼团还差两个人",
    "我也要参加",
    "+1",
    "同问",
    "同上",
    "你们都用什么app记账",
    "推荐一个背单词的软件",
    "英语打卡day 15",
    "今天读了30页",
    "分享一篇文章给大家",
    "原文在这里，大家看看",
    "我觉得这个观点有点问题",
    "有道理",
    "说得对",
    "学到了",
]
_PARTICLES = ["", "", "", "呀", "啊", "吧", "呢", "哈", "～", "！", "？", "。", "😂", "[捂脸]"]
_OPENERS = [
    "",
    "",
    "",
    "",
    "老师",
    "群主",
    "亲",
    "请问",
    "对了，",
    "哈哈，",
    "@小助手 ",
    "我想问下",
]

# Keywords a community would put in rules (intent, after-sales, activity, topics).
_KEYWORDS = [
    "多少钱",
    "价格",
    "优惠",
    "优惠券",
    "报名",
    "学费",
    "分期",
    "发票",
    "退款",
    "发货",
    "快递",
    "团购",
    "拼团",
    "包邮",
    "满减",
    "折扣",
    "试听",
    "课程",
    "开课",
    "直播",
    "回放",
    "资料",
    "领取",
    "链接",
    "二维码",
    "积分",
    "等级",
    "打卡",
    "补卡",
    "作业",
    "音频",
    "视频",
    "书单",
    "读书",
    "笔记",
    "线下",
    "活动",
    "地点",
    "会员",
    "vip",
    "权益",
    "续费",
    "客服",
    "投诉",
    "质量",
    "售后",
    "咨询",
    "预约",
    "名额",
    "截止",
    "减肥",
    "体重",
    "跑步",
    "宝妈",
    "孩子",
    "哄睡",
    "英语",
    "单词",
    "记账",
    "理财",
    "保险",
    "基金",
    "股票",
    "租房",
    "装修",
    "旅游",
    "机票",
    "酒店",
    "美食",
    "菜谱",
    "健身",
    "瑜伽",
    "冥想",
    "睡眠",
    "失眠",
    "焦虑",
    "考研",
    "考证",
    "面试",
    "简历",
    "副业",
    "兼职",
    "创业",
    "加盟",
    "代理",
    "合作",
    "推广",
    "广告",
    "引流",
    "私域",
    "社群",
    "裂变",
    "转化",
    "复购",
    "客单价",
    "文案",
    "海报",
    "剪辑",
    "拍照",
    "穿搭",
]


def chat_corpus(count: int, seed: int = 7) -> list[str]:
    """`count` short chat messages, the same for a given seed."""
    rng = random.Random(seed)
    messages = []
    for _ in range(count):
        text = rng.choice(_OPENERS) + rng.choice(_LINES)
        if rng.random() < 0.25:
            text += "，" + rng.choice(_LINES)
        messages.append(text + rng.choice(_PARTICLES))
    return messages


def _dictionary_words() -> list[str]:
    """Common 2–4 character words of jieba's own dictionary, in dictionary order."""
    words = []
    with jieba.get_dict_file() as dictionary:
        for line in dictionary:
            word, freq, *_ = line.decode("utf-8").split()
            if 2 <= len(word) <= 4 and int(freq) >= 300:
                words.append(word)
    return words


def keyword_rules(count: int, seed: int = 11) -> list[KeywordRule]:
    """`count` rules of 2–4 keywords, two in three word mode, some limited to rooms or 1:1.

    About one keyword in six comes from the community list above and the rest from jieba's
    dictionary, so 500 rules have mostly different keywords, as a real rule set would.
    """
    rng = random.Random(seed)
    vocabulary = _dictionary_words()
    scopes = [Scope("all")] * 6 + [Scope("private"), Scope("rooms", ("r1", "r2"))]
    rules = []
    for rule_id in range(1, count + 1):
        words: list[str] = []
        while len(words) < rng.randint(2, 4):
            source = _KEYWORDS if rng.random() < 1 / 6 else vocabulary
            word = rng.choice(source)
            if word not in words:
                words.append(word)
        rules.append(
            KeywordRule(
                id=rule_id,
                tag=f"标签{rule_id}",
                keywords=tuple(words),
                mode="word" if rng.random() < 2 / 3 else "substring",
                scope=rng.choice(scopes),
            )
        )
    return rules


def brute_force(rules: Sequence[KeywordRule], text: str, room: str | None) -> list[Hit]:
    """The obvious per-rule loop, as the reference the indexed matcher must agree with."""
    lowered = normalize(text)
    tokens = get_tokenizer().lcut(lowered)
    hits = []
    for rule in rules:
        if not rule.scope.applies(room):
            continue
        best: tuple[int, int, str] | None = None  # (place, -length, keyword)
        for keyword in rule.keywords:
            key = normalize(keyword)
            if rule.mode == "word" and can_be_token(key):
                places = [i for i, token in enumerate(tokens) if token == key]
                place = places[0] if places else -1
            else:
                place = lowered.find(key)
            if place >= 0 and (best is None or (place, -len(key)) < best[:2]):
                best = (place, -len(key), keyword)
        if best is not None:
            hits.append(Hit(rule.id, best[2]))
    return hits


@pytest.mark.parametrize("room", ["r1", "r9", None])
def test_indexed_matcher_agrees_with_brute_force_on_the_corpus(room: str | None) -> None:
    rules = keyword_rules(500)
    matcher = KeywordMatcher(rules, get_tokenizer())
    corpus = chat_corpus(1500)
    hit_count = 0
    for text in corpus:
        expected = brute_force(rules, text, room)
        assert matcher.match(text, room) == expected, text
        hit_count += len(expected)
    # Guards the test itself: a corpus that hits nothing would agree trivially.
    assert hit_count > len(corpus)


def test_single_characters_and_ascii_agree_with_brute_force() -> None:
    # Single characters and mixed-case ASCII take other paths through the index.
    extra = ["钱", "贵", "吗", "VIP", "App", "day", "Price", "1", "链接", "二维码"]
    rng = random.Random(3)
    rules = [
        KeywordRule(
            id=rule_id,
            tag=f"标签{rule_id}",
            keywords=tuple(rng.sample(extra, 3)),
            mode=rng.choice(["word", "substring"]),
        )
        for rule_id in range(1, 41)
    ]
    matcher = KeywordMatcher(rules, get_tokenizer())
    corpus = chat_corpus(1500, seed=5)
    hit_count = 0
    for text in corpus:
        expected = brute_force(rules, text, "r1")
        assert matcher.match(text, "r1") == expected, text
        hit_count += len(expected)
    assert hit_count > len(corpus) // 2


def test_tokenizes_at_most_once_per_message_with_500_rules(
    count_lcut: Callable[[Tokenizer], list[str]],
) -> None:
    rules = keyword_rules(500)
    tokenizer = get_tokenizer()
    matcher = KeywordMatcher(rules, tokenizer)
    calls = count_lcut(tokenizer)
    corpus = chat_corpus(300)
    for text in corpus:
        matcher.match(text, "r1")
    word_keys = {normalize(k) for rule in rules if rule.mode == "word" for k in rule.keywords}
    # Exactly the messages in which some word-mode keyword occurs, each once.
    expected = [normalize(text) for text in corpus if any(k in normalize(text) for k in word_keys)]
    assert calls == expected
    assert 0 < len(calls) < len(corpus)


def test_does_not_tokenize_when_every_rule_is_substring(
    count_lcut: Callable[[Tokenizer], list[str]],
) -> None:
    tokenizer = get_tokenizer()
    rules = [
        KeywordRule(id=rule.id, tag=rule.tag, keywords=rule.keywords, mode="substring")
        for rule in keyword_rules(50)
    ]
    matcher = KeywordMatcher(rules, tokenizer)
    calls = count_lcut(tokenizer)
    assert any(matcher.match(text, None) for text in chat_corpus(200))
    assert calls == []


