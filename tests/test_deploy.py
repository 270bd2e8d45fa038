"""deploy/: install.sh writes the environment files and units (once), the installed units pass
`systemd-analyze verify`, and the example environment files name only settings that exist."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from bot.core.settings import Settings
from bot.wiring import FEATURES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))


def install(root: Path, *names: str) -> subprocess.CompletedProcess:
    """deploy/install.sh into a scratch root (no user, no systemctl), reusing the test's .venv."""
    return subprocess.run([str(DEPLOY / "install.sh"), *names], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "QUNGUAN_INSTALL_ROOT": str(root),
                               "QUNGUAN_INSTALL_EXTRAS": "test,wechaty,postgres"})


def test_install_writes_the_environment_files_and_the_units_once(tmp_path):
    done = install(tmp_path, "A", "B")
    assert done.returncode == 0, done.stderr
    etc = tmp_path / "etc/qunguan"
    a, b = (dict(re.findall(r"^([A-Z_]+)=(.*)$", (etc / f"{n}.env").read_text(), re.M)) for n in "AB")
    assert a["WECHATY_PUPPET_SERVICE_ENDPOINT"] == "127.0.0.1:8788" and a["QUNGUAN_WEB_PORT"] == "8080"
    assert b["WECHATY_PUPPET_SERVICE_ENDPOINT"] == "127.0.0.1:8789" and b["QUNGUAN_WEB_PORT"] == "8081"
    assert len(a["WECHATY_PUPPET_SERVICE_TOKEN"]) == 48
    assert a["WECHATY_PUPPET_SERVICE_TOKEN"] != b["WECHATY_PUPPET_SERVICE_TOKEN"]
    for env in etc.iterdir():
        assert stat.S_IMODE(env.stat().st_mode) == 0o600, env  # they hold tokens and a password
    run = (tmp_path / "etc/systemd/system/qunguan-run@.service").read_text()
    assert f"ExecStart={ROOT}/.venv/bin/qunguan run --account %i" in run
    # Again: the environment files an operator edited are kept.
    (etc / "A.env").write_text((etc / "A.env").read_text() + "# edited\n")
    again = install(tmp_path, "A")
    assert again.returncode == 0 and "kept" in again.stdout
    assert (etc / "A.env").read_text().endswith("# edited\n")
    assert install(tmp_path, "bad name").returncode == 2


def test_the_installed_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("!!! systemd-analyze is not installed here: the deploy/ units were NOT verified "
                    "(Debian: apt-get install systemd)")
    assert {u.name for u in UNITS} == {"qunguan-gateway@.service", "qunguan-run@.service", "qunguan-serve.service"}
    assert install(tmp_path, "A").returncode == 0
    units = tmp_path / "etc/systemd/system"
    # Templates are verified as an instance (account A), as systemctl would start them.
    names = [u.name.replace("@.", "@A.") for u in UNITS]
    done = subprocess.run([analyze, "verify", "--man=no", *names], cwd=units, capture_output=True, text=True,
                          env={"SYSTEMD_UNIT_PATH": f"{units}:", "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    # The check can fail: a unit with a typo is reported.
    broken = units / "qunguan-serve.service"
    broken.write_text(broken.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    done = subprocess.run([analyze, "verify", "--man=no", "qunguan-serve.service"], cwd=units,
                          capture_output=True, text=True, env={"SYSTEMD_UNIT_PATH": f"{units}:"}, timeout=60)
    assert "sometimes" in done.stderr


def test_the_units_order_the_run_after_its_gateway_and_restart():
    run = (DEPLOY / "qunguan-run@.service").read_text()
    assert re.search(r"^After=.*qunguan-gateway@%i\.service", run, re.M)
    assert re.search(r"^After=.*postgresql\.service", run, re.M)
    assert "ExecStart=/opt/qunguan/.venv/bin/qunguan run --account %i" in run
    for unit in UNITS:
        text = unit.read_text()
        assert re.search(r"^Restart=(always|on-failure)$", text, re.M), unit.name
        assert "EnvironmentFile=/etc/qunguan/qunguan.env" in text, unit.name
        assert "RestartPreventExitStatus=2" in text, unit.name  # a config mistake is not retried


def test_the_example_environment_files_name_real_settings():
    # The core's settings and every feature's (Feature.settings).
    kinds = [Settings, *(f.settings for f in FEATURES if f.settings is not None)]
    known = {f"QUNGUAN_{name.upper()}" for kind in kinds for name in kind.model_fields}
    gateway = {"WECHATY_PUPPET", "WECHATY_PUPPET_TOKEN", "WECHATY_PUPPET_OPTIONS", "WECHATY_PUPPET_SERVICE_TOKEN",
               "WECHATY_PUPPET_SERVICE_ENDPOINT"}
    for env in ("qunguan.env", "account.env"):
        names = re.findall(r"^#? ?([A-Z_]+)=", (DEPLOY / env).read_text(), re.M)
        assert names, env
        unknown = [n for n in names if n not in known | gateway]
        assert not unknown, f"{env} names settings that do not exist: {unknown}"
