# Sourced by scripts/chaos.sh and scripts/test.sh before anything else: one run per compose project
# (a second one would tear the first one's stack down; harness/runlock.py says the same to pytest).
# Holds fd 9 on .runtime/<project>.lock for the rest of the script; the kernel drops it on exit.
mkdir -p "$REPO/.runtime"
ECOECO_LOCK_FILE="$REPO/.runtime/${ECOECO_PROJECT:-ecoeco}.lock"
exec 9>>"$ECOECO_LOCK_FILE"
if ! flock -n 9; then
    echo "another run of project ${ECOECO_PROJECT:-ecoeco} is going on ($(cat "$ECOECO_LOCK_FILE" 2>/dev/null));" \
         "wait for it, or set another ECOECO_PROJECT and ECOECO_PORT_PREFIX" >&2
    exit 3
fi
echo "pid $$ ($(basename "$0"))" >"$ECOECO_LOCK_FILE"
export ECOECO_RUN_LOCK_HELD=1
