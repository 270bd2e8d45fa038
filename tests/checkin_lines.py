"""Lines members really write in check-in groups: which are check-ins, with which trigger and note.

Tasks: 打卡 / 签到 (the default task), 早起打卡, 读书打卡. One table, used by the pure test of
tiers.checkin.recognise and by a replay through the whole bot.
"""

from __future__ import annotations

TRIGGERS = ("打卡", "签到", "早起打卡", "读书打卡")

# (line, trigger or None when it is chat, the note)
LINES: list[tuple[str, str | None, str | None]] = [
    ("打卡", "打卡", None),
    ("打卡！", "打卡", None),
    ("打卡～", "打卡", None),
    ("打卡啦！", "打卡", None),
    ("今天打卡", "打卡", None),
    ("✅打卡", "打卡", None),
    ("「打卡」", "打卡", None),
    ("#打卡#", "打卡", None),
    ("打卡打卡打卡", "打卡", None),
    ("签到", "签到", None),
    ("打卡 今天读了20页", "打卡", "今天读了20页"),
    ("#打卡 第3天：读完《原则》第三章", "打卡", "第3天：读完《原则》第三章"),
    ("Day3打卡：早睡早起，状态很好", "打卡", "早睡早起，状态很好"),
    ("day 12 打卡", "打卡", None),
    ("第十二天打卡，坚持就是胜利", "打卡", "坚持就是胜利"),
    ("【打卡】跑步5公里，配速6分", "打卡", "跑步5公里，配速6分"),
    ("打卡：背了30个单词", "打卡", "背了30个单词"),
    ("打卡，今天学会了用透视表", "打卡", "今天学会了用透视表"),
    ("打卡第5天 继续加油", "打卡", "第5天 继续加油"),
    ("打卡 今天读了20页，有人一起读这本吗？", "打卡", "今天读了20页，有人一起读这本吗？"),
    ("早起打卡 6:10 起床，喝了一杯温水", "早起打卡", "6:10 起床，喝了一杯温水"),
    ("读书打卡：《被讨厌的勇气》P45-80\n心得：课题分离", "读书打卡", "《被讨厌的勇气》P45-80\n心得：课题分离"),
    ("我今天忘了打卡了", None, None),
    ("打卡了吗？", None, None),
    ("今天打卡了吗", None, None),
    ("打卡?", None, None),
    ("打卡 怎么弄？", None, None),
    ("打卡群在哪里", None, None),
    ("打卡成功没", None, None),
    ("大家记得打卡哦", None, None),
    ("明天再打卡吧", None, None),
    ("今天的打卡任务是什么", None, None),
    ("谁帮我打个卡", None, None),
    ("打 卡", None, None),
    ("签到送的积分在哪看", None, None),
]
