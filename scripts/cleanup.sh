#!/usr/bin/env bash
# Remove every container, network and volume labelled org.ecoeco.project (all Ecoeco
# projects), or only those of one project: scripts/cleanup.sh [PROJECT]
# Quiet and idempotent; touches nothing without the label. Images are kept.
set -uo pipefail

if [[ $(id -u) -ne 0 ]] && ! docker info >/dev/null 2>&1; then
    echo "cleanup: cannot reach the docker engine (run as root?)" >&2
    exit 1
fi
docker info >/dev/null 2>&1 || exit 0   # no engine running: nothing of ours is running either

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

left=$( { docker ps -aq --filter "$filter"; docker network ls -q --filter "$filter"; docker volume ls -q --filter "$filter"; } | wc -l)
if [[ "$left" -ne 0 ]]; then
    echo "cleanup: $left labelled object(s) could not be removed" >&2
    exit 1
fi
exit 0
