"""A throwaway PostgreSQL server for the tests: Debian's server binaries, a cluster made by
initdb in a temporary folder, listening on a free loopback port, removed at the end."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class Unavailable(Exception):
    """PostgreSQL cannot be started here; the message says why."""


@dataclass
class Server:
    url: str
    folder: Path
    pg_ctl: str
    as_user: list[str]

    def stop(self) -> None:
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    if which:
        return Path(which).resolve().parent
    raise Unavailable("PostgreSQL's server (pg_ctl, initdb) is not installed: scripts/test installs "
                      "Debian's postgresql package when it runs as root")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start() -> Server:
    """Start a server; Unavailable when that is impossible here."""
    external = os.environ.get("QUNGUAN_TEST_PG_URL")
    if external:
        return Server(external, Path(tempfile.mkdtemp(prefix="qunguan-pg-")), "true", [])
    try:
        import psycopg2  # noqa: F401  (the driver the URL names)
    except ImportError:
        raise Unavailable("psycopg2 is not installed (pip install -e '.[postgres]')") from None
    bindir = _bindir()
    folder = Path(tempfile.mkdtemp(prefix="qunguan-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        if shutil.which("runuser") is None:
            raise Unavailable("running as root without runuser to start PostgreSQL as another user")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("no 'postgres' user to run the server as") from None
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = folder / "data"
    init = subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "qunguan", "-A", "trust",
                           "-E", "UTF8", "--locale=C", "--no-sync"], capture_output=True, text=True,
                          timeout=120, check=False)
    if init.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    opts = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    run = subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
                          "-o", opts, "-w", "-t", "60", "start"], capture_output=True, text=True,
                         timeout=120, check=False)
    server = Server(f"postgresql+psycopg2://qunguan@127.0.0.1:{port}/postgres", folder,
                    str(bindir / "pg_ctl"), as_user)
    if run.returncode:
        log = (folder / "log").read_text(errors="replace")[-500:] if (folder / "log").exists() else ""
        server.stop()
        raise Unavailable(f"pg_ctl start failed: {run.stderr.strip()[-300:]} {log}")
    return server
