"""`qunguan import` of every generation of the exporters WeChat users have (MemoTrace 2023,
2024 and 2025 CSV, the 2025 TXT, WeFlow JSON), with names as people really write them: hand-made
files written from ../shared/notes/chat-exports.md, through the real pipeline into SQLite."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from bot.cli import main

GEN = Path(__file__).parent / "fixtures" / "generations"
EXPORTS = Path(__file__).parent / "fixtures" / "exports"
CSV_2024 = EXPORTS / "读书群_utf8.csv"
CSV_2025 = GEN / "2025" / "聊天记录" / "读书群(10001@chatroom)" / "读书群.csv"
RUN_2025 = GEN / "2025" / "聊天记录" / "跑步群(20002@chatroom)" / "跑步群.csv"
RUN_TXT = GEN / "2025" / "聊天记录" / "跑步群(20002@chatroom)" / "跑步群.txt"
ROOM, RUN_ROOM = "10001@chatroom", "20002@chatroom"
CONFIG = Path(__file__).parents[1] / "bot" / "example_config.toml"


def qunguan(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute(sql).fetchall())


def messages(db: Path) -> list[tuple]:
    """(member, kind, text) of the stored messages; plain text is stored with no kind, a check-in
    with the kind "command" (talk to the bot)."""
    return rows(db, "SELECT member, coalesce(kind, 'text'), text FROM eventlog WHERE type = 'message'")


def per_member(db: Path) -> dict[str, int]:
    """Messages a member said (chat and check-ins) by the daily counters."""
    return dict(rows(db, "SELECT member, sum(messages) + sum(checkins) FROM dailyactivity GROUP BY member"))


def names(db: Path) -> dict[str, str]:
    return dict(rows(db, "SELECT id, name FROM member"))


def test_the_2025_csv_takes_the_room_from_its_folder_and_knows_members_by_name(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(RUN_2025), "--db", str(db), "--config", str(CONFIG))
    assert code == 0, out
    assert "跑步群.csv（留痕 CSV 2025 版·微信 4.x）" in out
    assert f"「{RUN_ROOM}」" in out  # from 聊天记录/跑步群(20002@chatroom)/
    said = {names(db)[m]: (k, t) for m, k, t in messages(db) if k != "link"}
    # 接龙 (未知类型 whose 内容 is -1 and the XML as a dict): the list as shown; 阿青's entry in it is
    # a check-in, stored like every check-in as a command (talk to the bot).
    kind, text = next((k, t) for m, k, t in messages(db) if t and "#接龙" in t)
    assert kind == "command" and text.startswith("@阿青  打卡#接龙\n\n11月1日打卡") and "2. 小舟 打卡第3天" in text
    assert said["👩‍💻小美"] == ("text", "大家好呀")  # a ZWJ emoji name speaks
    assert ("quote", "欢迎欢迎") in [(k, t) for _, k, t in messages(db)]  # only the new words
    assert said["\u200b"] == ("text", "我是隐身的")  # an invisible name is a member too
    kinds = sorted(k for _, k, _ in messages(db))
    assert kinds == ["command", "command", "file", "link", "quote", "text", "text"]  # no 拍一拍, no recall
    # 彩虹🏳️‍🌈 checked in, 阿青 by the 接龙; the joiners who never spoke (🧑‍🎓, 小舟) are members
    # with their inviter.
    assert rows(db, "SELECT count(*) FROM checkin") == [(2,)]
    assert "其中 2 人入群后在记录里没说过话" in out and "改群名 1 次" in out and "撤回 1 条" in out
    by_name = {v: k for k, v in names(db).items()}
    inviter = by_name["阿青"]
    assert rows(db, f"SELECT member, inviter FROM referral WHERE member = '{by_name['🧑‍🎓']}'") == [
        (by_name["🧑‍🎓"], inviter)]
    assert rows(db, f"SELECT member FROM referral WHERE member = '{by_name['小舟']}'")  # 「" 小舟"」: space trimmed
    assert rows(db, f"SELECT name FROM room WHERE id = '{RUN_ROOM}'") == [("晨跑打卡群",)]  # the rename


def test_the_2025_csv_without_an_id_in_its_folder_is_refused_with_advice_and_the_rest_imported(tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(RUN_2025, folder / "跑步群.csv")  # the folder name lost: no id anywhere
    shutil.copy(GEN / "孙七_weflow.json", folder / "孙七.json")
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(folder), "--db", str(db))
    assert code == 1
    assert "跑步群.csv：这是留痕 2025 版" in out and "--room" in out and "聊天记录/备注(wxid)/" in out
    assert set(per_member(db)) == {"wxid_sunqi"}
    code, out = qunguan(capsys, "import", str(folder / "跑步群.csv"), "--room", RUN_ROOM, "--db", str(db))
    assert code == 0, out  # --room gives what the folder did not


def _import(capsys, db: Path, *paths: Path, extra: tuple[str, ...] = ()) -> str:
    code, out = qunguan(capsys, "import", *map(str, paths), "--room", ROOM, "--db", str(db),
                        "--config", str(CONFIG), *extra)
    assert code == 0, out
    return out


def _roster(tmp_path: Path, capsys, db: Path) -> None:
    members = [{"id": "wxid_zhangsan", "name": "张三"}, {"id": "wxid_lisi", "name": "李四"},
               {"id": "wxid_wangwu", "name": "老王", "room_alias": "王五"},
               {"id": "wxid_xm1", "name": "小明"}, {"id": "wxid_xm2", "name": "小明"},
               {"id": "wxid_me", "name": "群主小助手"}]
    path = tmp_path / "roster.jsonl"
    path.write_text(json.dumps({"type": "roster", "id": "ro-1", "ts": "2026-10-04T07:00:00+08:00", "room": ROOM,
                                "members": members}, ensure_ascii=False) + "\n", encoding="utf-8")
    code, out = qunguan(capsys, "replay", str(path), "--silent", "--db", str(db))
    assert code == 0, out


def test_the_2025_and_2024_csv_of_one_group_count_each_message_once_in_either_order(tmp_path, capsys):
    new_first, old_first = tmp_path / "a.db", tmp_path / "b.db"
    _import(capsys, new_first, CSV_2025)
    out = _import(capsys, new_first, CSV_2024)
    _import(capsys, old_first, CSV_2024)
    again = _import(capsys, old_first, CSV_2025)
    assert "新写入 0 条事件" in again  # the 2024 file already held every one of them
    assert len(messages(new_first)) == len(messages(old_first)) == 14
    assert sum(per_member(new_first).values()) == sum(per_member(old_first).values()) == 14
    assert "合并" in out  # the 2024 file said whose each name is: 张三 is wxid_zhangsan from then on
    # A later roster merges every name-only member into their wxid (王五 by their group nickname);
    # 小明, a name two members share, stays a member of its own.
    for db in (new_first, old_first):
        _roster(tmp_path, capsys, db)
    a, b = per_member(new_first), per_member(old_first)
    for member, n in (("wxid_zhangsan", 4), ("wxid_lisi", 4), ("wxid_wangwu", 2), ("wxid_zhaoliu", 1),
                      ("wxid_me", 1)):
        assert a[member] == b[member] == n, member
    assert not any(m.startswith("name:") for m in b)
    assert [m for m in a if m.startswith("name:")] == [m for m in names(new_first) if names(new_first)[m] == "小明"
                                                       and m.startswith("name:")]
    assert rows(new_first, "SELECT member, count(*) FROM checkin GROUP BY member") == [("wxid_zhangsan", 3)]
    assert rows(new_first, "SELECT points FROM member WHERE id = 'wxid_zhangsan'") == \
        rows(old_first, "SELECT points FROM member WHERE id = 'wxid_zhangsan'")


def test_the_2025_txt_ends_a_record_only_at_the_next_time_line(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(RUN_TXT), "--db", str(db))
    assert code == 0, out
    assert "跑步群.txt（留痕 TXT 2025 版·微信 4.x）" in out and "消息 6 条" in out
    said = messages(db)
    assert ("link" in [k for _, k, _ in said]) and ("sticker" in [k for _, k, _ in said])
    assert not any("这篇写得很好" in (t or "") for _, _, t in said)  # a link card's second paragraph is its own
    assert ("quote", "欢迎欢迎") in [(k, t) for _, k, t in said]
    assert "入群 2 次" in out and "改群名 1 次" in out  # the time-only system records


def test_the_2023_csv_with_9_names_over_12_values(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(GEN / "读书群_2023.csv"), "--room", ROOM, "--db", str(db),
                        "--self", "wxid_me")
    assert code == 0, out
    assert "读书群_2023.csv（留痕 CSV 2023 版）" in out and "消息 5 条" in out
    assert per_member(db) == {"wxid_zhangsan": 2, "wxid_lisi": 2, "wxid_me": 1}  # wxids from BytesExtra
    code, out = qunguan(capsys, "import", str(CSV_2024), "--room", ROOM, "--db", str(db))
    assert per_member(db)["wxid_zhangsan"] == 4  # the same messages in the 2024 export: once


def test_2024_jielong_quote_link_and_revoke(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(GEN / "打卡群_utf8.csv"), "--room", "40004@chatroom", "--db", str(db))
    assert code == 0, out
    said = {m: (k, t) for m, k, t in messages(db)}
    kind, text = said["wxid_xiaozhou"]
    # 小舟's entry is new in this version of the 接龙: a check-in, stored as a command
    assert kind == "command" and text.splitlines()[0] == "@班长  打卡#接龙" and "《人类简史》" in text
    assert said["wxid_mumu"][0] == "link" or ("quote", "我也是 & 加油") in said.values()
    assert ("quote", "我也是 & 加油") in [(k, t) for _, k, t in messages(db)]
    assert "撤回 1 条" in out and "消息 5 条" in out  # the revoke XML is no message


def test_weflow_group_and_private(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(GEN / "晨读群_weflow.json"), str(GEN / "孙七_weflow.json"),
                        "--db", str(db), "--config", str(CONFIG))
    assert code == 0, out
    assert "晨读群_weflow.json（WeFlow JSON）" in out and "孙七_weflow.json（WeFlow JSON）" in out
    assert "导出账号自己在私聊里发的 1 条" in out and "撤回 1 条" in out
    said = messages(db)
    assert ("wxid_rainbow", "command") in [(m, k) for m, k, t in said if t and "#接龙" in t]  # a 接龙 check-in
    assert ("wxid_op", "quote", "说得好") in said
    assert names(db)["wxid_rainbow"] == "彩虹🏳️‍🌈"
    assert rows(db, "SELECT member, inviter FROM referral WHERE member = 'wxid_rainbow'") == [
        ("wxid_rainbow", "wxid_aqing")]
    assert "其中 1 人入群后在记录里没说过话" in out  # 🧑‍🎓
    assert rows(db, "SELECT name FROM room") == [("晨读群",)]
    assert per_member(db)["wxid_sunqi"] == 2


def test_a_weflow_file_with_a_huge_avatar_cut_off_mid_array_keeps_what_was_read(tmp_path, capsys):
    doc = json.loads((GEN / "晨读群_weflow.json").read_text(encoding="utf-8"))
    doc["session"]["avatar"] = "data:image/png;base64," + "A" * (8 << 20)  # 8 MB, streamed past
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    cut = text[: text.index('"localType": 47')]  # the last message is half written
    path = tmp_path / "晨读群.json"
    path.write_text(cut, encoding="utf-8")
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(path), "--db", str(db))
    assert code == 1
    assert "文件不完整" in out and "之前读到的消息已导入" in out and "晨读群.json:" in out
    assert "消息 4 条" in out and len(messages(db)) == 4


def test_mixed_generations_in_one_folder_are_each_read_by_their_own(tmp_path, capsys):
    folder = tmp_path / "聊天记录"
    shutil.copytree(GEN / "2025" / "聊天记录", folder)
    shutil.copy(GEN / "晨读群_weflow.json", folder / "晨读群.json")
    (folder / "说明.docx").write_bytes(b"PK\x03\x04 not an export")
    (folder / "unknown.csv").write_text("time,who,what\n2026-10-01,a,b\n", encoding="utf-8")
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(folder), "--db", str(db))
    assert code == 1
    for label in ("读书群.csv（留痕 CSV 2025 版·微信 4.x）", "跑步群.csv（留痕 CSV 2025 版·微信 4.x）",
                  "跑步群.txt（留痕 TXT 2025 版·微信 4.x）", "晨读群.json（WeFlow JSON）"):
        assert label in out
    assert "说明.docx：" in out and "认识的格式" in out and "导出方法" in out
    assert "unknown.csv：" in out
    assert {r[0] for r in rows(db, "SELECT id FROM room")} == {ROOM, RUN_ROOM, "30003@chatroom"}


def test_a_hostile_chatlab_line_is_skipped_with_its_number_and_the_rest_imported(tmp_path, capsys):
    lines = (EXPORTS / "读书群.jsonl").read_text(encoding="utf-8").splitlines()
    hostile = [lines[0], "[" * 200_000, '{"_type": "message", "x": ' + "[" * 100 + "]" * 100 + "}", *lines[1:]]
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(hostile) + "\n", encoding="utf-8")
    for dry in ((), ("--dry-run",)):
        code, out = qunguan(capsys, "import", str(path), "--db", str(tmp_path / "q.db"), *dry)
        assert code == 1
        assert "deep.jsonl:2" in out and "嵌套太深" in out and "deep.jsonl:3" in out
        assert "Traceback" not in out and "消息 " in out and "消息 0 条" not in out


def test_a_file_imported_by_release_0_2_is_not_counted_again(tmp_path, capsys):
    """0.2 built an imported id with the sender in it (24 hex digits); 0.3 does without. The
    same message imported by both is stored once: three rows as 0.2 stored them, then the file."""
    old = [{"type": "message", "id": "imp:" + f"{i:024x}", "ts": ts, "room": ROOM, "sender": sender, "text": text}
           for i, (ts, sender, text) in enumerate(((1790812700, "wxid_zhangsan", "大家早上好"),
                                                    (1790813220, "wxid_wangwu", "请问课程多少钱"),
                                                    (1790899200, "wxid_zhangsan", "打卡")))]
    old.append({"type": "join", "id": "imp:" + "f" * 24, "ts": 1790812800, "room": ROOM, "member": "wxid_lisi"})
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in old), encoding="utf-8")
    db = tmp_path / "q.db"
    assert qunguan(capsys, "replay", str(path), "--silent", "--db", str(db))[0] == 0
    out = _import(capsys, db, CSV_2024)
    assert "有 4 条以前（0.2 版）已经导入过" in out
    fresh = tmp_path / "fresh.db"
    _import(capsys, fresh, CSV_2024)
    assert per_member(db) == per_member(fresh)
    assert rows(db, "SELECT count(*) FROM checkin") == rows(fresh, "SELECT count(*) FROM checkin")


def test_chatlab_with_emoji_and_invisible_names(tmp_path, capsys):
    lines = [{"_type": "header", "chatlab": {"version": "0.0.2"},
              "meta": {"name": "彩虹🏳️‍🌈群", "platform": "weixin", "type": "group", "groupId": "50005@chatroom"}},
             {"_type": "member", "platformId": "wxid_coder", "accountName": "👩‍💻小美", "groupNickname": "\u202e美小"},
             {"_type": "message", "sender": "wxid_coder", "accountName": "👩‍💻小美", "timestamp": 1796169600,
              "type": 0, "content": "打卡 第一天"},
             {"_type": "message", "sender": "wxid_ghost", "accountName": "\u200b", "timestamp": 1796169660,
              "type": 25, "content": "同意\n引用：👩‍💻小美: 打卡 第一天"},
             {"_type": "message", "sender": "wxid_coder", "accountName": "👩‍💻小美", "timestamp": 1796169720,
              "type": 22, "content": "\"👩‍💻小美\" 拍了拍 \"\u200b\""},
             {"_type": "message", "sender": "system", "accountName": "系统消息", "timestamp": 1796169780,
              "type": 80, "content": "\"👩‍💻小美\"邀请\"🧑‍🎓\"加入了群聊"}]
    path = tmp_path / "彩虹.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(path), "--db", str(db))
    assert code == 0, out
    assert names(db)["wxid_coder"] == "👩‍💻小美" and names(db)["wxid_ghost"] == "\u200b"
    assert ("wxid_ghost", "quote", "同意") in messages(db)
    assert "消息 2 条" in out and "拍一拍等系统提示 1 条" in out and "其中 1 人入群后在记录里没说过话" in out
    assert rows(db, "SELECT name FROM room") == [("彩虹🏳️‍🌈群",)]


def test_hostile_weflow_and_2025_rows_are_skipped_and_the_rest_imported(tmp_path, capsys):
    doc = (GEN / "晨读群_weflow.json").read_text(encoding="utf-8")
    deep = doc.replace('"messages": [', '"messages": [' + "[" * 200_000 + "]" * 200_000 + ", "
                       + '{"content": "' + "长" * (2 << 20) + '"}, ', 1)
    (tmp_path / "deep.json").write_text(deep, encoding="utf-8")
    folder = tmp_path / "聊天记录" / "跑步群(20002@chatroom)"
    folder.mkdir(parents=True)
    csv_text = RUN_2025.read_text(encoding="utf-8-sig")
    csv_text += '99,未知类型,阿青,2026-11-02 07:00:00,"-1\n' + "{'msg': " * 5000 + '",,跑步群,more\n'
    (folder / "跑步群.csv").write_text(csv_text, encoding="utf-8-sig")
    for dry in ((), ("--dry-run",)):
        code, out = qunguan(capsys, "import", str(tmp_path / "deep.json"), str(folder / "跑步群.csv"),
                            "--db", str(tmp_path / "q.db"), *dry)
        assert code == 1 and "Traceback" not in out
        assert "deep.json:" in out and "第 1 条消息嵌套太深" in out and "第 2 条消息太大" in out
        assert "消息 13 条" in out  # WeFlow's 5 and the 2025 CSV's 7, and the hostile 未知类型 as a card


def test_live_wechat_merges_a_name_only_member_and_counters_of_one_day_add_up(tmp_path, capsys):
    db = tmp_path / "q.db"
    _import(capsys, db, CSV_2025)
    before = rows(db, "SELECT day, messages, checkins FROM dailyactivity WHERE member LIKE 'name:%' AND day = "
                      "'2026-10-01' AND member = (SELECT id FROM member WHERE name = '张三')")
    assert before == [("2026-10-01", 1, 1)]
    live = [{"type": "message", "id": "live-1", "ts": "2026-10-01T20:00:00+08:00", "room": ROOM,
             "sender": "wxid_zhangsan", "sender_name": "张三", "text": "晚上好"},
            {"type": "message", "id": "live-2", "ts": "2026-10-01T20:01:00+08:00", "room": ROOM,
             "sender": "wxid_xm9", "sender_name": "小明", "text": "我也叫小明"}]
    path = tmp_path / "live.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in live), encoding="utf-8")
    assert qunguan(capsys, "replay", str(path), "--silent", "--db", str(db))[0] == 0
    assert rows(db, "SELECT day, messages, checkins FROM dailyactivity WHERE member = 'wxid_zhangsan'") == [
        ("2026-10-01", 2, 1), ("2026-10-02", 0, 1), ("2026-10-03", 0, 1)]
    assert rows(db, "SELECT count(*) FROM member WHERE name = '张三'") == [(1,)]
    assert rows(db, "SELECT count(*) FROM checkin WHERE member = 'wxid_zhangsan'") == [(3,)]
    # The rule goes by what is known: the only 小明 the store knows in the room is wxid_xm9, so the
    # export's 小明 (one name there, whoever wrote) merges into them.
    assert rows(db, "SELECT count(*) FROM member WHERE name = '小明'") == [(1,)]


def test_a_private_2025_txt_in_its_folder_is_a_one_to_one_chat(tmp_path, capsys):
    db = tmp_path / "q.db"
    path = GEN / "2025" / "聊天记录" / "孙七(wxid_sunqi)" / "孙七.txt"
    code, out = qunguan(capsys, "import", str(path), "--db", str(db), "--config", str(CONFIG))
    assert code == 0, out
    assert "导出账号自己在私聊里发的 1 条" in out and "群 0 个" in out
    assert messages(db) == [("wxid_sunqi", "text", "你好，请问课程多少钱"), ("wxid_sunqi", "voice", "")]
    assert rows(db, "SELECT tag FROM membertag WHERE member = 'wxid_sunqi'") == [("意向",)]
