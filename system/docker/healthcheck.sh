#!/bin/bash
# Healthcheck of every Ecoeco container (installed as /usr/local/bin/ecoeco-healthcheck).
#
#   ecoeco-healthcheck http PORT [PATH]   GET http://127.0.0.1:PORT/PATH (default /health) answers 200
#   ecoeco-healthcheck tcp PORT...        every PORT on 127.0.0.1 accepts a connection
#   ecoeco-healthcheck -- COMMAND...      COMMAND exits 0
#
# A check that fails is retried every second for up to ECOECO_HEALTH_WAIT seconds (default 20).
# Why: Docker 20.10 runs the first check one full interval after a container starts and the
# next one an interval later; a service that became ready just after a check waited a whole
# interval to count as healthy. Waiting inside the check lets the interval be long (each check
# is a runc exec costing ~85 ms of host CPU) while `up --wait` still returns as soon as all is
# ready. The compose healthcheck timeout must exceed the wait.
# bash's /dev/tcp rather than curl or Python: nothing to start but this shell.
set -u
wait_s="${ECOECO_HEALTH_WAIT:-20}"

http_ok() {  # http_ok PORT PATH
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    local status
    IFS= read -r -t 3 status <&3 || { exec 3<&-; return 1; }
    # read the answer to its end: closing early resets the server's write (a traceback in its log)
    while IFS= read -r -t 3 _ <&3; do :; done
    exec 3<&-
    [[ "${status}" == "HTTP/1."?" 200 "* ]]
}

tcp_ok() {  # tcp_ok PORT...
    local port
    for port in "$@"; do
        { exec 3<>"/dev/tcp/127.0.0.1/${port}"; } 2>/dev/null || return 1
        exec 3<&-
    done
}

mode="${1:?usage: ecoeco-healthcheck http PORT [PATH] | tcp PORT... | -- COMMAND...}"
shift
case "${mode}" in
    http) check() { http_ok "${1:?PORT}" "${2:-/health}"; } ;;
    tcp) check() { tcp_ok "$@"; } ;;
    --) check() { "$@"; } ;;
    *) echo "ecoeco-healthcheck: unknown mode ${mode}" >&2; exit 2 ;;
esac

deadline=$((SECONDS + wait_s))
until check "$@" 2>/dev/null; do
    ((SECONDS < deadline)) || exit 1
    sleep 1
done
