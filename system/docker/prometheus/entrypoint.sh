#!/bin/bash
# Entrypoint of ecoeco-prometheus. One image, several commands:
#
#   prometheus [ARGS...]        (default) render config + rules (ECOECO_ALERT_RULES: ours, or
#                               design for the document's own) for ECOECO_TIME_SCALE into
#                               /etc/ecoeco-prometheus, then exec Prometheus on :9090 (TSDB in
#                               /prometheus, retention PROMETHEUS_RETENTION, default 2d).
#   postgres-exporter           one postgres_exporter 0.11 process per DSN in
#                               ECOECO_PG_EXPORTER_DSNS (space separated), on ports 9187, 9188, ...
#                               in that order; the container exits when any of them exits.
#   render DIR                  only render the config and rules for ECOECO_TIME_SCALE into DIR.
#   healthcheck                 used by the image's HEALTHCHECK (knows which mode runs).
#   anything else               exec'd as is (e.g. `promtool test rules ...`).
set -euo pipefail

SRC=/opt/ecoeco-monitoring
CONF=/etc/ecoeco-prometheus
MODE_FILE=/run/ecoeco-prometheus-mode
BASE_PORT=9187
# the superuser's password is generated per deployment (system/credentials.py), passed by compose
PGPW=${ECOECO_PG_SUPERUSER_PASSWORD:-}
DEFAULT_DSNS="\
postgresql://ecoeco:$PGPW@pg-auth:5432/ecoeco_auth?sslmode=disable&connect_timeout=1 \
postgresql://ecoeco:$PGPW@pg-waste:5432/ecoeco_waste?sslmode=disable&connect_timeout=1 \
postgresql://ecoeco:$PGPW@pg-chat:5432/ecoeco_chat?sslmode=disable&connect_timeout=1 \
postgresql://ecoeco:$PGPW@pg-location:5432/ecoeco_location?sslmode=disable&connect_timeout=1 \
postgresql://ecoeco:$PGPW@pg-analytics:5432/ecoeco_waste?sslmode=disable&connect_timeout=1"

log() { echo "ecoeco-prometheus: $*" >&2; }
as_prom() { setpriv --reuid=prometheus --regid=prometheus --init-groups "$@"; }

render() {
    python3 "$SRC/render.py" --src "$SRC" --out "$1"
}

run_prometheus() {
    echo prometheus >"$MODE_FILE"
    install -d -o prometheus -g prometheus /prometheus "$CONF"
    [[ "$(stat -c %U /prometheus)" == prometheus ]] || chown -R prometheus:prometheus /prometheus
    render "$CONF"
    chown -R prometheus:prometheus "$CONF"
    promtool check config "$CONF/prometheus.yml" >&2
    exec setpriv --reuid=prometheus --regid=prometheus --init-groups \
        prometheus \
        --config.file="$CONF/prometheus.yml" \
        --storage.tsdb.path=/prometheus \
        --storage.tsdb.retention.time="${PROMETHEUS_RETENTION:-2d}" \
        --web.listen-address=:9090 \
        --web.enable-lifecycle \
        --log.level="${PROMETHEUS_LOG_LEVEL:-info}" \
        "$@"
}

run_exporters() {
    if [[ -z "${ECOECO_PG_EXPORTER_DSNS:-}" && -z "$PGPW" ]]; then
        log "refusing to start: ECOECO_PG_SUPERUSER_PASSWORD is unset (compose passes the generated one)"
        exit 1
    fi
    echo postgres-exporter >"$MODE_FILE"
    local dsns=(${ECOECO_PG_EXPORTER_DSNS:-$DEFAULT_DSNS})
    local port=$BASE_PORT pids=() dsn
    echo "${#dsns[@]}" >"$MODE_FILE.count"
    for dsn in "${dsns[@]}"; do
        log "postgres_exporter :$port -> $(sed -E 's#//[^@]*@#//***@#' <<<"${dsn%%\?*}")"
        DATA_SOURCE_NAME="$dsn" as_prom prometheus-postgres-exporter \
            --web.listen-address=":$port" --log.level="${PG_EXPORTER_LOG_LEVEL:-warn}" &
        pids+=($!)
        port=$((port + 1))
    done
    trap 'kill -TERM "${pids[@]}" 2>/dev/null || true' TERM INT
    # Any exporter ending ends the container; the restart policy brings all of them back.
    set +e
    wait -n "${pids[@]}"
    local rc=$?
    log "an exporter exited (rc=$rc); stopping the others"
    kill -TERM "${pids[@]}" 2>/dev/null
    wait
    exit $(( rc == 0 ? 1 : rc ))
}

healthcheck() {
    local mode; mode=$(cat "$MODE_FILE" 2>/dev/null || echo none)
    case "$mode" in
        prometheus)
            ECOECO_HEALTH_WAIT=0 ecoeco-healthcheck http 9090 /-/ready ;;
        postgres-exporter)
            local n i ports=(); n=$(cat "$MODE_FILE.count")
            for ((i = 0; i < n; i++)); do ports+=($((BASE_PORT + i))); done
            ECOECO_HEALTH_WAIT=0 ecoeco-healthcheck tcp "${ports[@]}" ;;
        *) exit 1 ;;
    esac
}

cmd=${1:-prometheus}
[[ $# -gt 0 ]] && shift
case "$cmd" in
    prometheus) run_prometheus "$@" ;;
    postgres-exporter) run_exporters ;;
    render) render "${1:?render needs an output directory}" ;;
    healthcheck) healthcheck ;;
    *) exec "$cmd" "$@" ;;
esac
