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
