"""`qunguan import` and `qunguan replay` read their files in a second process
(bot.core.readahead): what crosses the pipe, and what happens when that process dies, fails,
or Ctrl-C stops the command."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.events import latest_ts
from bot.core.readahead import Feed, Readahead, RemoteTraceback
from bot.demo.exports import group_history, write_memotrace_2025_csv, write_memotrace_csv
from bot.demo.sample import generate_messages, write_jsonl
from bot.importer.progress import Progress
from bot.importer.run import reading, run_import
from bot.importer.source import ImportOptions
from tests.test_import import CONFIG, ROOM, counts, qunguan

REPO = Path(__file__).parents[1]


def history_csv(folder: Path, messages: int, **kw: object) -> Path:
    """A MemoTrace 2025 export of one group, in its `聊天记录/读书群(id)/` folder."""
    chat = folder / "聊天记录" / f"读书群({ROOM})"
    chat.mkdir(parents=True, exist_ok=True)
    path = chat / "读书群.csv"
    write_memotrace_2025_csv(group_history(messages, **kw), path, "读书群")  # type: ignore[arg-type]
    return path


def history_jsonl(folder: Path, messages: int) -> Path:
    path = folder / "events.jsonl"
    write_jsonl(generate_messages(messages), path)
    return path


def command(kind: str, path: Path, db: Path) -> subprocess.Popen[str]:
    """`qunguan import` of a history, or a silent `qunguan replay` of an events file, into `db`."""
    cmd = ["import", str(path)] if kind == "import" else ["replay", str(path), "--silent"]
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *cmd, "--db", str(db), "--config", str(CONFIG)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def source(kind: str, folder: Path, messages: int) -> Path:
    return history_csv(folder, messages) if kind == "import" else history_jsonl(folder, messages)


def reader_of(pid: int, timeout: float = 60) -> int:
    """The pid of the command's reading process (not multiprocessing's resource tracker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text():
                return int(child)
        time.sleep(0.02)
    raise AssertionError("the import started no reading process")


def stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return int(conn.execute("SELECT count(*) FROM eventlog").fetchone()[0])
    except sqlite3.OperationalError:  # the store is not built yet
        return 0


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie waits only for its parent


@pytest.mark.slow  # kill -9 of whole `qunguan` processes of 100k messages, and two imports or replays after
@pytest.mark.parametrize("kind", ["import", "replay"])
def test_a_killed_reader_is_said_in_chinese_and_a_rerun_counts_each_message_once(tmp_path, kind):
    path = source(kind, tmp_path, 100_000)  # the reader is far from done when the first batch is in
    db, clean = tmp_path / "q.db", tmp_path / "clean.db"
    proc = command(kind, path, db)
    reader = reader_of(proc.pid)
    deadline = time.monotonic() + 120
    while stored(db) == 0 and time.monotonic() < deadline:  # the first batch is in
        time.sleep(0.05)
    os.kill(reader, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "读取文件的子进程意外退出（被 SIGKILL 结束" in err and "重新运行同一命令即可继续" in err
    assert "Traceback" not in err, err
    assert 0 < stored(db) < 100_000, err
    # Run again: what was stored is not counted twice, what was not is stored now.
    assert command(kind, path, db).wait(timeout=300) == 0
    assert command(kind, path, clean).wait(timeout=300) == 0
    assert counts(db) == counts(clean)


@pytest.mark.slow  # a whole `qunguan` process of 100k messages, interrupted
@pytest.mark.parametrize("kind", ["import", "replay"])
def test_ctrl_c_stops_the_command_and_its_reader_and_the_reader_says_nothing(tmp_path, kind):
    """The reader ignores SIGINT and is ended by the command. (How the command itself stops
    mid-batch is the pipeline's: on main before the reader process, one Ctrl-C in three during a
    replay ended in a traceback of bot/core/pipeline.py's `_Commit.wait`, "release unlocked
    lock"; so the command's own status and output are not asserted here.)"""
    path = source(kind, tmp_path, 100_000)
    db = tmp_path / "q.db"
    proc = command(kind, path, db)
    reader = reader_of(proc.pid)
    deadline = time.monotonic() + 120
    while stored(db) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not gone(reader)  # still reading: it would print its own traceback if it took the SIGINT
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "Process qunguan-reader" not in err and "readahead" not in err
    assert gone(reader)


def waiting_reader(feed: Feed) -> None:
    """A reader that waits for an answer that never comes."""
    feed.call("room")


def test_a_keyboard_interrupt_while_waiting_for_the_reader_ends_it_quietly(capfd):
    with pytest.raises(KeyboardInterrupt), Readahead(waiting_reader) as reader:
        reader.serve = lambda request: os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C as the call comes
        pid = reader._process.pid
        assert pid is not None
        for _ in reader.batches():
            pass
    assert gone(pid)
    assert capfd.readouterr().err == ""  # the child took no SIGINT and printed nothing


def test_the_progress_names_the_file_each_message_came_from(tmp_path):
    """Two exports of one group, one after the other in time, read in the second process: the
    progress lines name the file being read, and the eta counts the files' lines."""
    earlier, later = tmp_path / "a_utf8.csv", tmp_path / "b_utf8.csv"
    write_memotrace_csv(group_history(3000), earlier)
    write_memotrace_csv(group_history(3000, start=datetime(2026, 4, 1, tzinfo=UTC)), later)  # a month on
    out, clock = io.StringIO(), [0.0]

    def tick() -> float:  # ten seconds between two looks: a line at each 256th message
        clock[0] += 10
        return clock[0]

    progress = Progress(0, terminal=False, out=out, clock=tick)
    opts = ImportOptions(tz=UTC, not_after=latest_ts(), room=ROOM)
    with reading([later, earlier], opts, store=False) as reader:
        summary = run_import(reader, None, progress=progress)
    assert summary.messages == 6000
    assert progress.total == sum(p.read_bytes().count(b"\n") for p in (earlier, later))
    lines = out.getvalue().splitlines()
    files = [line.split("，")[0].removeprefix("导入中：") for line in lines]
    assert files == sorted(files) and set(files) == {"a_utf8.csv", "b_utf8.csv"}
    assert all("约还需" in line for line in lines)


def test_a_malformed_file_in_the_middle_of_a_folder_is_said_and_the_others_imported_once(tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    write_memotrace_csv(group_history(400), folder / "a_utf8.csv")
    (folder / "b_utf8.csv").write_text("这不是导出文件\n随便写的\n", encoding="utf-8")
    write_memotrace_csv(group_history(400, members=20, joins=5), folder / "c_utf8.csv")
    db, good = tmp_path / "q.db", tmp_path / "good.db"
    code, out, err = qunguan(capsys, "import", str(folder), "--room", ROOM, "--db", str(db), "--config", str(CONFIG))
    assert code == 1 and "Traceback" not in err
    assert f"✗ {folder / 'b_utf8.csv'}：无法识别的文件格式（不是已知的导出工具写的）" in out
    assert "文件 2 个：a_utf8.csv（留痕 CSV 2024 版）、c_utf8.csv（留痕 CSV 2024 版）" in out
    (folder / "b_utf8.csv").unlink()
    assert qunguan(capsys, "import", str(folder), "--room", ROOM, "--db", str(good), "--config", str(CONFIG))[0] == 0
    assert counts(db) == counts(good)
    assert qunguan(capsys, "import", str(folder), "--room", ROOM, "--db", str(db), "--config", str(CONFIG))[0] == 0
    assert counts(db) == counts(good)  # imported again: nothing counted twice


def failing_reader(feed: Feed, after: int) -> None:
    """A reader with a bug: it sends `after` items, then fails."""
    for n in range(after):
        feed.put(n)
    raise ValueError("读到一半出了错")


def test_an_exception_in_the_reader_is_raised_here_with_the_readers_traceback():
    received: list[int] = []
    with Readahead(failing_reader, 2500) as reader, pytest.raises(ValueError, match="读到一半出了错") as raised:
        for batch in reader.batches():
            received += batch
    assert received == list(range(2000))  # the whole batches sent before it
    assert isinstance(raised.value.__cause__, RemoteTraceback)
    assert "failing_reader" in str(raised.value.__cause__)
