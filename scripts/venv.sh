#!/usr/bin/env bash
# The host-side Python environment of the harness (.venv), from requirements-dev.txt.
# Idempotent: reinstalls only when requirements changed. Prints the venv's python path.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ECOECO_VENV:-$REPO/.venv}"
STAMP="$VENV/.requirements.sha256"
want=$(cat "$REPO/requirements-dev.txt" "$REPO/system/requirements.txt" | sha256sum | cut -d' ' -f1)
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV" >&2 || { echo "venv: python3 -m venv failed (apt-get install python3-venv?)" >&2; exit 1; }
fi
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
    echo "[venv] installing requirements-dev.txt into $VENV" >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO/requirements-dev.txt" >&2
    echo "$want" >"$STAMP"
fi
echo "$VENV/bin/python"
