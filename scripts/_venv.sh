# Sourced by scripts/demo and scripts/test: create or refresh .venv with the given extras.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
extras="${1:-}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" | sha1sum | cut -c1-12)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT${extras:+[$extras]}" 2>&1 | grep -v "is ignored" || true
    "$VENV/bin/python" -c "import bot, tagging, tiers" # fail loudly if the install did not take
    touch "$stamp"
fi
# Byte-compile the project, as an install does: pip compiles what it installs, and Python writes a
# changed module's bytecode on its next import, unless PYTHONDONTWRITEBYTECODE is set (as on some
# machines: every `qunguan` process then compiled our ~270 modules from source, about 0.25 s of
# each command's start). Only files changed since are compiled again; a file that does not compile
# is left to the tests to report.
"$VENV/bin/python" -m compileall -q "$ROOT/bot" "$ROOT/tagging" "$ROOT/tiers" >/dev/null || true
