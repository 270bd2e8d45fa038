"""`qunguan import` of MemoTrace's two odd CSVs, told apart from the 2024 one by their content
(the header is the same): the early-2024 private chat with 9 values a row (no Remark, NickName,
Sender: the contact is the file's 备注, or the wxid of its folder), and 2023's "export all"
messages.csv (Sender 我 or a display name, every chat in one file by TalkerId). Hand-made files
written from ../shared/notes/chat-exports.md, through the real pipeline into SQLite."""

from __future__ import annotations

import json
import shutil

from bot.core.names import derived_id
from tests.test_import_generations import CONFIG, GEN, messages, names, per_member, qunguan, rows

EARLY = GEN / "2024_early"
ALL = GEN / "2023_all" / "messages.csv"
TWO_GROUPS = GEN / "2023_all" / "两个群" / "messages.csv"
HEADER = "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender"


def test_an_early_2024_private_csv_is_a_one_to_one_chat_with_the_contact_known_by_its_remark(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(EARLY / "王五_utf8.csv"), "--db", str(db), "--config", str(CONFIG))
    assert code == 0, out
    assert "王五_utf8.csv（留痕 CSV 2024 早期版·私聊（每行 9 列））" in out
    assert "群 0 个" in out and "导出账号自己在私聊里发的 2 条" in out
    assert "联系人按文件名里的备注「王五」识别" in out
    contact = derived_id("", "王五")
    assert names(db) == {contact: "王五"}
    assert messages(db) == [(contact, "image", ""), (contact, "quote", "那我报名吧"),
                            (contact, "text", "你好，请问课程多少钱"),
                            (contact, "text", "好的\n我考虑一下，周末前回复您")]
    assert rows(db, "SELECT tag FROM membertag") == [("意向",)]  # 多少钱: read like any 1:1 question
    # imported again (say from a copy with another name in another folder): nothing counted twice
    copy = tmp_path / "备份" / "王五_utf8.csv"
    copy.parent.mkdir()
    shutil.copy(EARLY / "王五_utf8.csv", copy)
    code, out = qunguan(capsys, "import", str(copy), "--db", str(db), "--config", str(CONFIG))
    assert code == 0, out
    assert "新写入 0 条" in out and per_member(db) == {contact: 4}


def test_early_2024_private_csvs_take_the_folders_wxid_and_skip_a_broken_row(tmp_path, capsys):
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(EARLY), "--db", str(db))
    assert code == 1, out  # one row was left out, and said
    for label in ("👩‍💻小美_utf8.csv（留痕 CSV 2024 早期版·私聊（每行 9 列））",
                  "彩虹🏳️‍🌈_utf8.csv（留痕 CSV 2024 早期版·私聊（每行 9 列））",
                  "王五_utf8.csv（留痕 CSV 2024 早期版·私聊（每行 9 列））"):
        assert label in out
    assert "列数不对（应为 9 列）：彩虹🏳️‍🌈_utf8.csv:4" in out
    rainbow = derived_id("", "彩虹🏳️‍🌈")
    assert per_member(db) == {"wxid_xiaomei88": 3, rainbow: 2, derived_id("", "王五"): 4}
    assert names(db)["wxid_xiaomei88"] == "👩‍💻小美"
    assert "群 0 个" in out and "导出账号自己在私聊里发的 4 条" in out


def test_the_2023_export_all_reads_each_chat_and_the_group_by_display_name(tmp_path, capsys):
    db, room = tmp_path / "q.db", "55555@chatroom"
    code, out = qunguan(capsys, "import", str(ALL), "--room", room, "--self", "wxid_me", "--db", str(db),
                        "--config", str(CONFIG))
    assert code == 0, out
    assert "messages.csv（留痕 CSV 2023 版·全部导出（messages.csv））" in out
    assert f"群 1 个（2023读书会「{room}」）" in out and "导出账号自己在私聊里发的 2 条" in out
    by_name = {v: k for k, v in names(db).items()}
    for name in ("张三", "李四", "👩‍💻小美"):
        assert by_name[name] == derived_id(room, name)  # as MemoTrace 2025 names them: merged later
    assert by_name["赵六"] == derived_id("", "赵六") and by_name["Alice2023"] == derived_id("", "Alice2023")
    assert per_member(db) == {derived_id(room, "张三"): 3, derived_id(room, "李四"): 2,
                              derived_id(room, "👩‍💻小美"): 1, "wxid_me": 1,
                              derived_id("", "赵六"): 1, derived_id("", "Alice2023"): 1}
    assert rows(db, "SELECT member, room FROM checkin WHERE member = :m".replace(
        ":m", f"'{derived_id(room, '👩‍💻小美')}'")) == [(derived_id(room, "👩‍💻小美"), room)]
    # the private chats are no group: their messages are 1:1, not the room's
    assert rows(db, "SELECT DISTINCT room FROM eventlog WHERE member = :m".replace(
        ":m", f"'{derived_id('', '赵六')}'")) == [("",)]
    # a roster later gives the wxid for 张三: the name-only member becomes that member
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps({"type": "roster", "id": "ro1", "ts": "2023-09-03T08:00:00+08:00", "room": room,
                                  "members": [{"id": "wxid_zhangsan", "name": "张三"},
                                              {"id": "wxid_lisi", "name": "李四"}]},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    code, out = qunguan(capsys, "replay", str(roster), "--db", str(db), "--config", str(CONFIG))
    assert code == 0, out
    assert per_member(db)["wxid_zhangsan"] == 3 and derived_id(room, "张三") not in per_member(db)


def test_the_2023_export_all_without_room_imports_the_private_chats_and_says_how_to_import_the_group(tmp_path,
                                                                                                    capsys):
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(ALL), "--db", str(db))
    assert code == 1, out
    assert "群「读书会」的 7 条没有导入：文件里没有群 id" in out
    assert "--room 群id --room-name 群名" in out
    assert per_member(db) == {derived_id("", "赵六"): 1, derived_id("", "Alice2023"): 1}
    assert rows(db, "SELECT count(*) FROM room") == [(0,)]


def test_a_2023_export_all_with_two_groups_takes_the_one_room_name_names(tmp_path, capsys):
    db, room = tmp_path / "q.db", "66666@chatroom"
    code, out = qunguan(capsys, "import", str(TWO_GROUPS), "--room", room, "--db", str(db))
    assert code == 1, out  # --room alone cannot say which of two groups it is
    assert "群「读书会」的 2 条没有导入" in out and "群「晨跑团」的 3 条没有导入" in out
    assert "「读书会」（2 条）、「晨跑团」（3 条）" in out
    code, out = qunguan(capsys, "import", str(TWO_GROUPS), "--room", room, "--room-name", "晨跑团", "--db", str(db))
    assert code == 1, out
    assert "群「读书会」的 2 条没有导入" in out and "晨跑团" not in out.split("跳过")[1]
    assert per_member(db) == {derived_id(room, "阿青"): 2, derived_id(room, "小舟"): 1, derived_id("", "赵六"): 1}
    assert rows(db, "SELECT id, name FROM room") == [(room, "晨跑团")]


def test_a_header_of_no_generation_is_quoted_and_rows_of_the_wrong_width_named(tmp_path, capsys):
    eleven = tmp_path / "少一列_utf8.csv"
    eleven.write_text("\ufeff" + HEADER.rsplit(",", 1)[0] + "\n1,3,1,0,0,1693526400,2,早,2023-09-01 08:00:00,,张三\n",
                      encoding="utf-8")
    mixed = tmp_path / "读书群_utf8.csv"
    mixed.write_text("\ufeff" + HEADER + "\n"
                     "1,12,1,0,0,1790812700,0,大家早上好,2026-10-01 07:58:20,,张三,wxid_zhangsan\n"
                     "2,12,1,0,0,1790812760,0,十个值,2026-10-01 07:59:20,张三\n"
                     "3,12,1,0,0,1790812860,0,大家好，我是李四,2026-10-01 08:01:00,,李四,wxid_lisi\n", encoding="utf-8")
    db = tmp_path / "q.db"
    code, out = qunguan(capsys, "import", str(tmp_path), "--room", "77777@chatroom", "--db", str(db))
    assert code == 1, out
    assert "少一列_utf8.csv：表头不对，不是已知的留痕 CSV 格式：实际是「localId,TalkerId,Type,SubType,IsSender," \
           "CreateTime,Status,StrContent,StrTime,Remark,NickName」" in out
    assert "读书群_utf8.csv（留痕 CSV 2024 版）" in out and "列数不对（应为 12 列）：读书群_utf8.csv:3" in out
    assert per_member(db) == {"wxid_zhangsan": 1, "wxid_lisi": 1}
