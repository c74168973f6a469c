#!/usr/bin/env bash
# Remove every container, network and volume labelled org.ecoeco.project (all Ecoeco
# projects), or only those of one project: scripts/cleanup.sh [PROJECT]; then unmounts and
# deletes the project's loop disks of harness/disks.py (under ECOECO_DISK_DIR).
# Quiet and idempotent; touches no container, network or volume without the label.
# Images are kept.
set -uo pipefail

if [[ $(id -u) -ne 0 ]] && ! docker info >/dev/null 2>&1; then
    echo "cleanup: cannot reach the docker engine (run as root?)" >&2
    exit 1
fi
docker info >/dev/null 2>&1 || exit 0   # no engine running: nothing of ours is running either

# A run of the project (scripts/chaos.sh, scripts/test.sh, pytest) holds .runtime/<project>.lock:
# never pull the stack from under it. The run's own cleanup says so with ECOECO_RUN_LOCK_HELD=1.
lock_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.runtime"
for lock in "$lock_dir"/${1:-*}.lock; do
    [[ -f "$lock" && "${ECOECO_RUN_LOCK_HELD:-}" != 1 ]] || continue
    if ! flock -n "$lock" true 2>/dev/null; then
        echo "cleanup: a run of project $(basename "$lock" .lock) is going on ($(cat "$lock")): not touching it" >&2
        exit 1
    fi
done

if [[ -n "${1:-}" ]]; then
    filter="label=org.ecoeco.project=$1"
else
    filter="label=org.ecoeco.project"
fi

containers=$(docker ps -aq --filter "$filter")
if [[ -n "$containers" ]]; then
    # disable restart policies first so that nothing comes back while we remove
    # shellcheck disable=SC2086
    docker update --restart=no $containers >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    docker rm -f -v $containers >/dev/null 2>&1 || true
fi
networks=$(docker network ls -q --filter "$filter")
# shellcheck disable=SC2086
[[ -n "$networks" ]] && docker network rm $networks >/dev/null 2>&1
volumes=$(docker volume ls -q --filter "$filter")
# shellcheck disable=SC2086
[[ -n "$volumes" ]] && docker volume rm -f $volumes >/dev/null 2>&1

# Small loop-mounted filesystems behind some volumes (harness/disks.py):
# ${ECOECO_DISK_DIR:-/var/lib/ecoeco-disks}/<project>/<volume>{,.img}. Unmount and delete them.
disk_dir=${ECOECO_DISK_DIR:-/var/lib/ecoeco-disks}
if [[ -d "$disk_dir" ]]; then
    if [[ -n "${1:-}" ]]; then roots=("$disk_dir/$1"); else roots=("$disk_dir"/*); fi
    for root in "${roots[@]}"; do
        [[ -d "$root" ]] || continue
        for mnt in "$root"/*/; do
            mnt=${mnt%/}
            if mountpoint -q "$mnt"; then
                umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || continue
            fi
            rm -rf "$mnt"
        done
        rm -f "$root"/*.img
        rmdir "$root" 2>/dev/null || true
    done
fi

left=$( { docker ps -aq --filter "$filter"; docker network ls -q --filter "$filter"; docker volume ls -q --filter "$filter"; } | wc -l)
if [[ "$left" -ne 0 ]]; then
    echo "cleanup: $left labelled object(s) could not be removed" >&2
    exit 1
fi
exit 0
