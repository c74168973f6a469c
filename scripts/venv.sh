#!/usr/bin/env bash
# The host-side Python environment of the harness (.venv), from requirements-dev.txt.
# Idempotent: reinstalls only when requirements changed. Prints the venv's python path.
# Installs with uv (from PyPI, ~15 s here from an empty cache) where it can, else with pip (~80 s); uv is given pip's own
# configuration (indexes, find-links, constraints, CA bundle) so both resolve from the same sources.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ECOECO_VENV:-$REPO/.venv}"
STAMP="$VENV/.requirements.sha256"
REQ="$REPO/requirements-dev.txt"
want=$(cat "$REQ" "$REPO/system/requirements.txt" | sha256sum | cut -d' ' -f1)
PY="$VENV/bin/python"

pip_conf() {  # the value pip itself uses for one setting (environment over files), or nothing
    "$PY" -m pip config list 2>/dev/null | sed -n "s/^[^.]*\.$1='\(.*\)'\$/\1/p" | tail -1
}

with_uv() {
    "$PY" -m pip install -q --disable-pip-version-check uv >&2 2>/dev/null || return 1
    [[ -x "$VENV/bin/uv" ]] || return 1
    local index extra links constraint cert
    index=$(pip_conf index-url) extra=$(pip_conf extra-index-url) links=$(pip_conf find-links)
    constraint=$(pip_conf constraint) cert=$(pip_conf cert)
    # pip weighs every index alike; uv by default takes a package from the first index that has it
    env ${index:+UV_DEFAULT_INDEX="$index"} ${extra:+UV_EXTRA_INDEX_URL="$extra"} \
        ${links:+UV_FIND_LINKS="$links"} ${constraint:+UV_CONSTRAINT="$constraint"} \
        ${cert:+SSL_CERT_FILE="$cert"} UV_INDEX_STRATEGY=unsafe-best-match \
        "$VENV/bin/uv" pip install -q --python "$PY" -r "$REQ" >&2
}

if [[ ! -x "$PY" ]]; then
    python3 -m venv "$VENV" >&2 || { echo "venv: python3 -m venv failed (apt-get install python3-venv?)" >&2; exit 1; }
fi
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
    echo "[venv] installing requirements-dev.txt into $VENV" >&2
    if ! with_uv; then
        echo "[venv] uv unavailable or failed: installing with pip" >&2
        "$PY" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
    fi
    echo "$want" >"$STAMP"
fi
echo "$PY"
