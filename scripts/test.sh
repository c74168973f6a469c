#!/usr/bin/env bash
# From a fresh Debian 12 machine (as root) to the whole test suite: Docker engine, Compose,
# images, the harness's Python environment, then pytest (unit, integration, F1-F17 chaos,
# planted-defect controls, monitoring, reports). Extra arguments go to pytest.
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -m "not chaos and not controls"  # without the fault scenarios
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=runlock.sh
source "$REPO/scripts/runlock.sh"
"$REPO/scripts/setup.sh" || exit 1
PY=$("$REPO/scripts/venv.sh") || exit 1
# the report test renders report.html in headless Chromium (Debian's package)
command -v chromium >/dev/null 2>&1 || { { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
    echo "[test] chromium not installed: the screenshot test will be skipped" >&2; }
export ECOECO_RUN_ID="${ECOECO_RUN_ID:-$(date +%Y%m%d-%H%M%S)}"
export ECOECO_REQUIRE_DOCKER=1  # setup.sh started the engine: a Docker-backed test may not skip here
RUN_DIR="$REPO/runs/$ECOECO_RUN_ID"
mkdir -p "$RUN_DIR"
trap '"$REPO/scripts/cleanup.sh" "${ECOECO_PROJECT:-ecoeco}"' EXIT
"$PY" -m pytest -p no:cacheprovider --junitxml="$RUN_DIR/junit.xml" "$@"
rc=$?
if [[ -f "$RUN_DIR/run.json" ]]; then
    "$PY" -m reports build "$RUN_DIR" >/dev/null && echo "report: $RUN_DIR/report.html"
fi
exit $rc
