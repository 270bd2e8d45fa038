"""Check-ins in imported history: a day of 接龙 versions, names first and photos, in a MemoTrace
2024 CSV and a 2025 CSV (the 接龙 as 未知类型 with the XML as a dict), as `qunguan import` reads them."""

from __future__ import annotations

import csv
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tests.test_cli import run, write

ROOM = "40004@chatroom"
START = datetime.fromisoformat("2026-12-02T07:00:00+08:00")
HEADER = "@班长  打卡#接龙\n\n12月2日打卡 一起加油💪\n例 打卡第n天 内容\n"
PEOPLE = [("wxid_aqing", "阿青"), ("wxid_zhou", "小舟"), ("wxid_mumu", "木木")]
ENTRIES = ["阿青-读书 30页", "小舟 打卡第3天，读完第二章", "木木 打卡第一天 跑步3公里"]


def listed(n: int) -> str:
    return HEADER + "\n" + "\n".join(f"{i}. {e}" for i, e in enumerate(ENTRIES[:n], 1))


def appmsg(title: str) -> str:
    safe = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<?xml version="1.0"?><msg><appmsg appid="" sdkver="0"><title>{safe}</title><des></des>' \
           f"<type>53</type></appmsg></msg>"


def csv_2024(path: Path) -> Path:
    """MemoTrace 2024: the 接龙 as Type 49 / SubType 53 with its XML, photos as Type 3."""
    rows = []
    for i, (wxid, name) in enumerate(PEOPLE):
        rows.append((49, 53, appmsg(listed(i + 1)), START + timedelta(minutes=i), name, wxid))
    rows.append((49, 53, appmsg(listed(3)), START + timedelta(minutes=5), "路人", "wxid_lu"))  # sent on again
    rows.append((3, 0, "", START + timedelta(minutes=6), "大熊", "wxid_bear"))  # a photo: the 跑步 check-in
    rows.append((1, 0, "Lily-减脂 打卡第2⃣️天 跳绳", START + timedelta(minutes=7), "Lily", "wxid_lily"))
    rows.append((3, 0, "", START + timedelta(hours=5), "Lily", "wxid_lily"))  # outside the window: nothing
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status", "StrContent",
                      "StrTime", "Remark", "NickName", "Sender"])
        for n, (kind, sub, content, at, name, wxid) in enumerate(rows, 1):
            out.writerow([n, 9, kind, sub, 0, int(at.timestamp()), 0, content, f"{at:%Y-%m-%d %H:%M:%S}", "",
                          name, wxid])
    return path


def csv_2025(folder: Path) -> Path:
    """MemoTrace 2025: the 接龙 as 未知类型 whose 内容 is -1 and the XML parsed into a dict."""
    chat = folder / "聊天记录" / "打卡群(50005@chatroom)"
    chat.mkdir(parents=True)
    path = chat / "打卡群.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(["消息ID", "类型", "发送人", "时间", "内容", "备注", "昵称", "更多信息"])
        for i, (_, name) in enumerate(PEOPLE):
            as_dict = {"msg": {"appmsg": {"@appid": "", "@sdkver": "0", "title": listed(i + 1), "des": "",
                                          "type": "53", "url": None}, "scene": "0"}}
            out.writerow([i + 1, "未知类型", name, f"{START + timedelta(minutes=i):%Y-%m-%d %H:%M:%S}",
                          f"-1\n{as_dict!r}", "", "打卡群", "more"])
        out.writerow([9, "图片", "大熊", f"{START + timedelta(minutes=6):%Y-%m-%d %H:%M:%S}", "【图片】", "",
                      "打卡群", "more"])
    return path


def checkins(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT m.name, t.name, c.note FROM checkin c JOIN checkintask t ON t.id = c.task_id"
                            " JOIN member m ON m.id = c.member ORDER BY c.ts").fetchall()


def a_photo_task(tmp_path: Path, db: Path) -> dict:
    """The store with a 跑步 task that takes photos from 07:00 to 09:00, made by an admin's command."""
    env = {"QUNGUAN_ADMINS": "wxid_admin"}
    events = write(tmp_path / "setup.jsonl", [{"type": "message", "id": "setup-1", "ts": "2026-12-01T08:00:00+08:00",
                                               "sender": "wxid_admin", "text": "/task add 跑步 triggers=跑步打卡 "
                                               "window=07:00-09:00 media=image"}])
    assert run("replay", str(events), "--db", str(db), "--silent", env=env).returncode == 0
    return env


def test_a_2024_export_of_a_checkin_day(tmp_path: Path):
    db = tmp_path / "q.db"
    env = a_photo_task(tmp_path, db)
    res = run("import", str(csv_2024(tmp_path / "打卡群_utf8.csv")), "--room", ROOM, "--db", str(db), env=env)
    assert res.returncode == 0, res.stderr + res.stdout
    assert checkins(db) == [("阿青", "打卡", "读书 30页"), ("小舟", "打卡", "打卡第3天，读完第二章"),
                            ("木木", "打卡", "打卡第一天 跑步3公里"), ("大熊", "跑步", "图片打卡"),
                            ("Lily", "打卡", "第2天 跳绳")]
    # importing the same file again counts nothing twice
    assert run("import", str(tmp_path / "打卡群_utf8.csv"), "--room", ROOM, "--db", str(db), env=env).returncode == 0
    assert len(checkins(db)) == 5


def test_a_2025_export_of_a_checkin_day(tmp_path: Path):
    db = tmp_path / "q.db"
    env = a_photo_task(tmp_path, db)
    res = run("import", str(csv_2025(tmp_path / "exports")), "--db", str(db), env=env)
    assert res.returncode == 0, res.stderr + res.stdout
    assert checkins(db) == [("阿青", "打卡", "读书 30页"), ("小舟", "打卡", "打卡第3天，读完第二章"),
                            ("木木", "打卡", "打卡第一天 跑步3公里"), ("大熊", "跑步", "图片打卡")]
