"""People's mistakes get a line that says what to fix, never a traceback; the bot's own
unexpected errors are logged and told to the admins once an hour per kind."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.cli import main
from bot.core.events import Event, Message
from bot.core.pipeline import Batch, Hook
from bot.core.scheduler import ScheduleError
from bot.core.settings import Settings
from bot.features.followup.settings import FollowupSettings
from bot.wiring import App
from tests.test_cli import QUNGUAN, run, write


@pytest.mark.parametrize(("toml", "key", "expected"), [
    ('levels = "新芽:10,青苗:5"', "levels", "积分应为0"),
    ('levels = "新芽=0"', "levels", "名称:积分"),
    ("levels = 5", "levels", "应为字符串"),
    ('[[checkin_tasks]]\nname = "早起"\npoints = "很多"', "checkin_tasks[1].points", "整数"),
    ('[[checkin_tasks]]\nname = "早起"\ntriggers = "早起"', "checkin_tasks[1].triggers", "字符串列表"),
    # the window is checked when the file is read (tiers.spec), naming its key
    ('[[checkin_tasks]]\nname = "早起"\nwindow = "九点"', "checkin_tasks[1].window", "05:00-09:00"),
    ('tag_rules = "keyword 意向 多少钱"', "tag_rules", "表数组"),
    ("[[tag_rules]]\nrule = 3", "tag_rules[1].rule", "字符串"),
    ('[[tag_rules]]\nrule = "keyword"', "keyword", ""),
    ('[[operators]]\nroom = "r1"', "operators[1].member", "字符串"),
    ('[[tag_groups]]\nname = "阶段"\nexclusive = "yes"', "tag_groups[1].exclusive", "true 或 false"),
    ("levels = ", "不是合法的 TOML", ""),
    # placeholders are checked when the file is read (tiers.spec), naming the key
    ('[friends]\nwelcome = "你好 {nam}"', "friends", "「{nam}」不认识：可用的只有 {name}"),
    ('[friends.channels."来源-抖音"]\nwelcome = "拉你进 {grop}"', "channels.来源-抖音.welcome", "「{grop}」"),
])
def test_config_mistakes_name_the_file_the_key_and_what_is_expected(tmp_path, capsys, toml, key, expected):
    config = tmp_path / "bad.toml"
    config.write_text(toml, encoding="utf-8")
    assert main(["report", "--db", str(tmp_path / "q.db"), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert str(config) in err and key in err and expected in err, err
    assert len(err.strip().splitlines()) == 1, err  # one line naming the file, the key and what is expected


def test_a_bad_setting_in_the_environment_says_which(tmp_path):
    res = run("report", "--db", str(tmp_path / "q.db"), env={"QUNGUAN_TIMEZONE": "Mars/Olympus"})
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "QUNGUAN_TIMEZONE" in res.stderr and "Mars/Olympus" in res.stderr
    res = run("report", "--db", str(tmp_path / "q.db"), env={"QUNGUAN_WINDOW_DAYS": "月"})
    assert res.returncode == 2 and "QUNGUAN_WINDOW_DAYS" in res.stderr


def test_a_features_bad_setting_stops_the_start_with_one_line_naming_it(tmp_path):
    """QUNGUAN_FOLLOWUP_TIME is the followup feature's setting, checked when the process starts."""
    for env, expected in ((("QUNGUAN_FOLLOWUP_TIME", "9am"), "「9am」应写成 HH:MM"),
                          (("QUNGUAN_OUTREACH_DAILY_CAP", "0"), "greater than or equal to 1"),
                          (("QUNGUAN_WEEKLY_REPORT", "someday 9:00"), "mon 09:00")):
        res = run("report", "--db", str(tmp_path / "q.db"), env=dict([env]))
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        line, = res.stderr.strip().splitlines()
        assert line.startswith(f"设置 {env[0]} 有误：") and expected in line, line


def test_a_port_in_use_says_which_and_how_to_pick_another(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = run("serve", "--db", str(tmp_path / "q.db"), "--port", str(port))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"127.0.0.1:{port} 已被占用" in res.stderr and "--port" in res.stderr


def test_a_closed_pipe_ends_quietly(tmp_path):
    events = write(tmp_path / "e.jsonl", [
        {"type": "visit", "id": f"v{i}", "ts": 1793498400 + i, "member": f"wxid_{i:05d}"}
        for i in range(3000)])
    assert run("replay", str(events), "--db", str(tmp_path / "q.db"), "--silent").returncode == 0
    proc = subprocess.Popen([*QUNGUAN, "report", "--json", "--db", str(tmp_path / "q.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)  # `| head -c 100`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_invalid_input_in_chat_gets_a_line_saying_so(tmp_path):
    res = subprocess.run([*QUNGUAN, "chat", "--db", str(tmp_path / "q.db")],
                         input=b"\xff\xfe\xfd\n/as alice@\xe8\xaf\xbb\n a\x00b \n\xe5\xb8\xae\xe5\x8a\xa9\n/quit\n",
                         capture_output=True, timeout=120)
    out, err = res.stdout.decode(), res.stderr.decode()
    assert res.returncode == 0, err
    assert "Traceback" not in err
    assert out.count("不是合法的 UTF-8") == 1
    assert "这条消息没有发出：字段 text 含有空字符" in out
    assert "你可以用这些命令" in out  # 帮助 still answered


class Boom(Hook):
    """A feature with a bug: it fails on every chat message."""

    def on_chat(self, batch: Batch, msg: Message) -> None:
        raise RuntimeError("a bug")


async def test_unexpected_errors_are_logged_and_told_to_the_admins_once_an_hour(tmp_path, caplog):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}", admins="wxid_admin,wxid_boss")
    t0 = datetime(2026, 11, 2, 1, tzinfo=UTC)
    events: list[Event] = [Message(id=f"m{i}", ts=t0 + timedelta(minutes=i), sender="wxid_a",
                                   text="大家好，今天天气不错") for i in range(3)]
    adapter = MemoryAdapter(events)
    app = App(settings, adapter)
    app.pipeline.hooks.append(Boom())
    clock = [1000.0]
    app.alerts.clock = lambda: clock[0]
    with caplog.at_level(logging.ERROR):
        await app.run()
        assert [r.to for r in adapter.sent] == ["wxid_admin", "wxid_boss"]
        assert adapter.sent[0].text == ("群管处理消息时出错（RuntimeError），详情已写入日志；"
                                        "同类错误一小时内只提醒一次。")
        clock[0] += 3601
        adapter.events = [Message(id="m9", ts=t0 + timedelta(hours=2), sender="wxid_a", text="还有人吗在不在")]
        await app.run()
    assert len(adapter.sent) == 4
    assert sum("RuntimeError: a bug" in (r.exc_text or "") for r in caplog.records) == 4
    assert json.dumps([o.text for o in adapter.sent], ensure_ascii=False).count("\\n") == 0


async def test_run_refuses_to_start_when_a_daily_job_cannot_be_scheduled(tmp_path):
    """A time that slipped past validation (a store or a release that took any text) used to
    start a bot whose daily jobs were never scheduled, without a word: the trigger raised inside
    the scheduler's background task."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}", admins="wxid_admin")
    bad = settings.using(FollowupSettings.model_construct(followup_time="9am"))  # as if unchecked
    adapter = MemoryAdapter([])
    with pytest.raises(ScheduleError, match="定时任务 daily_followup 无法安排：时间「9am」应写成 HH:MM"):
        await App(bad, adapter).run(schedule=True)


async def test_a_background_task_that_dies_is_logged_and_told_to_the_admins_once_an_hour(tmp_path, caplog):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}", admins="wxid_admin")
    t0 = datetime(2026, 11, 2, 1, tzinfo=UTC)

    class Dying:
        async def run(self) -> None:
            raise RuntimeError("the leader's connection is gone")

    clock = [1000.0]
    adapter = MemoryAdapter([])
    app = App(settings, adapter)
    app.alerts.clock = lambda: clock[0]
    app.leadership = lambda poll=None: Dying()  # type: ignore[method-assign,assignment,misc]
    with caplog.at_level(logging.ERROR):
        for i in range(3):  # the second half an hour after the first, the third an hour after it
            adapter.events = [Message(id=f"m{i}", ts=t0 + timedelta(minutes=i), sender="wxid_a", text="大家好")]
            adapter.sent.clear()
            await app.run(schedule=True)
            app.queue_alerts()
            await app.sender.drain()
            clock[0] += 1800 if i == 0 else 3600
            assert [o.text for o in adapter.sent if o.to == "wxid_admin"] == (
                [] if i == 1 else ["群管定时任务时出错（RuntimeError），详情已写入日志；同类错误一小时内只提醒一次。"])
    died = [r for r in caplog.records if "background task scheduler died" in r.getMessage()]
    assert len(died) == 3 and all("the leader's connection is gone" in (r.exc_text or "") for r in died)


def test_chat_replays_no_backlog_keeps_names_and_plays_on_in_the_stores_time(tmp_path):
    """On a store with replies queued earlier and events that end weeks ago (the demo's):
    `qunguan chat` printed the whole backlog first, `/as <wxid>@群` renamed that member to the
    wxid, and one line typed now moved the store's "now" by weeks."""
    from tests.harness import Bot

    bot = Bot(tmp_path)
    bot.say("wxid_alice", "我的等级", name="Alice", ts="2026-10-01T10:00:00+08:00")  # a reply, queued
    assert bot.scalar("SELECT count(*) FROM outbox WHERE status = 'pending'") == 1
    bot.engine.dispose()
    res = subprocess.run([*QUNGUAN, "chat", "--db", str(bot.path)],
                         input="/as wxid_alice@读书群\n打卡\n/quit\n".encode(), capture_output=True, timeout=120)
    out = res.stdout.decode()
    assert res.returncode == 0, res.stderr.decode()
    assert "还有 1 条之前排队、尚未发出的消息，这里不会重放" in out and "qunguan outbox" in out
    assert out.count("Lv1") == 0  # the old 我的等级 answer was not replayed
    assert "「打卡」成功" in out
    assert bot.scalar("SELECT name FROM member WHERE id = 'wxid_alice'") == "Alice"
    latest = bot.scalar("SELECT max(ts) FROM eventlog")
    assert latest < datetime.fromisoformat("2026-10-02T10:00:00+08:00").timestamp()


def test_a_full_disk_is_named_with_the_path_and_nothing_is_half_written(tmp_path, capsys):
    """The store may not grow (SQLite's max_page_count answers SQLITE_FULL, as a full disk
    does): replay used to say 「无法连接数据库 …请确认数据库服务已启动」."""
    from sqlalchemy import Engine, event

    from tests.test_cli import msg, write

    db = tmp_path / "q.db"
    assert main(["replay", str(write(tmp_path / "a.jsonl", [msg(i) for i in range(3)])), "--db", str(db)]) == 0
    many = write(tmp_path / "b.jsonl", [msg(100 + i, f"第{i}条很长的读书心得" * 20, sender=f"wxid_{i % 50}")
                                        for i in range(3000)])

    def full(dbapi_conn, _record, _proxy) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Engine, "checkout", full)
    try:
        capsys.readouterr()
        assert main(["replay", str(many), "--db", str(db)]) == 1
    finally:
        event.remove(Engine, "checkout", full)
    err = capsys.readouterr().err
    assert f"磁盘已满：数据库 {db} 写不进去了" in err and "没写完的那批事件已整体撤销" in err
    assert "无法连接数据库" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM eventlog").fetchone()[0] == 3  # nothing half-written
    assert main(["replay", str(many), "--db", str(db)]) == 0  # room again: on from where it stopped
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM eventlog").fetchone()[0] == 3003
