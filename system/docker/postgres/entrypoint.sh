#!/bin/bash
# Entrypoint of ecoeco-postgres. Runs as root, prepares $PGDATA, then execs `postgres` in the
# foreground as user postgres, so postgres is the container's main process (a SIGKILL of it
# from the host ends the container and the restart policy starts it again on the same data).
#
# Environment:
#   PG_ROLE                primary (default) | replica
#   PG_DATABASE            database to create at first init (primary), e.g. ecoeco_waste
#   PG_SCHEMA              applies /schema/$PG_SCHEMA.sql once at first init if that file exists
#   PG_SYNCHRONOUS_COMMIT  on (default) | off | local | remote_write | remote_apply
#   PG_MAX_CONNECTIONS     default 50 (a replica never goes below its primary's value)
#   PG_PRIMARY_HOST        replica only: host of the primary (port PG_PRIMARY_PORT, default 5432)
#   PG_USER / PG_PASSWORD  superuser and replication user (default user ecoeco); the password is
#                          generated per deployment and required: none, or the one this repository
#                          once published, is refused
#   PG_APP_ROLES           primary only: the services' own login roles on PG_DATABASE, created at
#                          first init: "name" (read and write its rows) or "name:read" (SELECT only);
#                          each role's password in PG_PW_<NAME> (upper case), generated per deployment
set -euo pipefail

PGDATA=${PGDATA:-/var/lib/postgresql/data}
PG_ROLE=${PG_ROLE:-primary}
PG_DATABASE=${PG_DATABASE:-}
PG_SCHEMA=${PG_SCHEMA:-}
PG_SYNCHRONOUS_COMMIT=${PG_SYNCHRONOUS_COMMIT:-on}
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-50}
PG_PRIMARY_HOST=${PG_PRIMARY_HOST:-}
PG_PRIMARY_PORT=${PG_PRIMARY_PORT:-5432}
PG_USER=${PG_USER:-ecoeco}
PG_PASSWORD=${PG_PASSWORD:-}
PG_APP_ROLES=${PG_APP_ROLES:-}
MARKER="$PGDATA/.ecoeco-initialized"
SOCK=/run/postgresql

log() { echo "ecoeco-postgres[$PG_ROLE]: $*" >&2; }
if [[ ${#PG_PASSWORD} -lt 12 || "$PG_PASSWORD" == ecoeco ]]; then
    log "refusing to start: PG_PASSWORD is unset, shorter than 12 characters or a published default" \
        "(the harness generates one: .runtime/secrets/pg_superuser)"
    exit 1
fi
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

install -d -o postgres -g postgres -m 2775 "$SOCK"
install -d -o postgres -g postgres -m 0700 "$PGDATA"
# a volume may come from elsewhere (or a tmpfs): make sure postgres owns it
[[ "$(stat -c %U "$PGDATA")" == postgres ]] || chown -R postgres:postgres "$PGDATA"
chmod 0700 "$PGDATA"

write_hba() {
    cat >"$PGDATA/pg_hba.conf" <<EOF
# written by ecoeco-postgres entrypoint
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
host    all          all   ::1/128       trust
host    all          all   all           scram-sha-256
host    replication  all   all           scram-sha-256
EOF
    chown postgres:postgres "$PGDATA/pg_hba.conf"
}

init_primary() {
    log "first start: initdb"
    local pwfile; pwfile=$(mktemp); echo "$PG_PASSWORD" >"$pwfile"; chown postgres "$pwfile"
    as_pg initdb -D "$PGDATA" -U "$PG_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    write_hba
    # server-wide settings that belong in the data directory (a replica copies them)
    cat >>"$PGDATA/postgresql.conf" <<EOF

# --- ecoeco ---
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
# Uploads pass through the outbox with their image (~250 KiB each): keep the WAL on disk small
# (recycled at checkpoints) so a day of uploads fits the data disk; the replica needs only a margin.
wal_keep_size = 64MB
max_wal_size = 160MB
min_wal_size = 32MB
# deleted outbox rows (with their TOASTed images) must be vacuumed within seconds, not minutes,
# or the table grows by every upload until autovacuum's next visit
autovacuum_naptime = 5s
hot_standby = on
password_encryption = scram-sha-256
EOF
    if [[ -n "$PG_DATABASE" || -n "$PG_SCHEMA" ]]; then
        # temporary server on the unix socket only, so nothing outside sees a half-made database
        as_pg pg_ctl -D "$PGDATA" -w -t 60 -o "-c listen_addresses='' -c unix_socket_directories=$SOCK" start >/dev/null
        local psql=(as_pg psql -v ON_ERROR_STOP=1 -q -h "$SOCK" -U "$PG_USER")
        if [[ -n "$PG_DATABASE" ]]; then
            log "creating database $PG_DATABASE"
            "${psql[@]}" -d postgres -c "CREATE DATABASE \"$PG_DATABASE\" OWNER \"$PG_USER\""
        fi
        if [[ -n "$PG_SCHEMA" && -f "/schema/$PG_SCHEMA.sql" ]]; then
            log "applying /schema/$PG_SCHEMA.sql to ${PG_DATABASE:-postgres}"
            "${psql[@]}" -d "${PG_DATABASE:-postgres}" -f "/schema/$PG_SCHEMA.sql"
        elif [[ -n "$PG_SCHEMA" ]]; then
            log "no /schema/$PG_SCHEMA.sql: database left empty"
        fi
        [[ -n "$PG_APP_ROLES" ]] && create_app_roles "${psql[@]}" -d "$PG_DATABASE"
        as_pg pg_ctl -D "$PGDATA" -w -t 60 -m fast stop >/dev/null
    fi
}

# A login role per service, with rights on this database's rows and nothing else (no DDL, no other
# database): a service's credentials cannot drop a table or read another domain.
create_app_roles() {
    local role access var pw
    "$@" -c "REVOKE ALL ON DATABASE \"$PG_DATABASE\" FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC"
    "$@" -c "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC; REVOKE CONNECT ON DATABASE template1 FROM PUBLIC"
    for spec in $PG_APP_ROLES; do
        role=${spec%%:*}; access=${spec#"$role"}; access=${access#:}
        var="PG_PW_${role^^}"; pw=${!var:-}
        [[ ${#pw} -ge 16 ]] || { log "refusing to create role $role: $var is unset or shorter than 16 characters"; exit 1; }
        log "creating role $role (${access:-read-write}) on $PG_DATABASE"
        "$@" -v role="$role" -v pw="$pw" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
SQL
        "$@" -c "GRANT CONNECT ON DATABASE \"$PG_DATABASE\" TO \"$role\"; GRANT USAGE ON SCHEMA public TO \"$role\""
        if [[ "$access" == read ]]; then
            "$@" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"$role\""
        else
            "$@" -c "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"$role\"; GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO \"$role\""
        fi
    done
}

init_replica() {
    [[ -n "$PG_PRIMARY_HOST" ]] || { log "PG_ROLE=replica needs PG_PRIMARY_HOST"; exit 2; }
    log "first start: waiting for primary $PG_PRIMARY_HOST:$PG_PRIMARY_PORT"
    until pg_isready -q -h "$PG_PRIMARY_HOST" -p "$PG_PRIMARY_PORT" -U "$PG_USER" -t 2; do sleep 0.5; done
    log "pg_basebackup from $PG_PRIMARY_HOST"
    local tries=0
    until PGPASSWORD="$PG_PASSWORD" as_pg pg_basebackup -h "$PG_PRIMARY_HOST" -p "$PG_PRIMARY_PORT" \
            -U "$PG_USER" -D "$PGDATA" -R -X stream -c fast; do
        tries=$((tries + 1))
        [[ $tries -lt 30 ]] || { log "pg_basebackup kept failing"; exit 1; }
        find "$PGDATA" -mindepth 1 -delete
        sleep 1
    done
    write_hba
}

if [[ ! -f "$MARKER" ]]; then
    # A first init that was interrupted leaves a partial directory: start it over.
    if [[ -n "$(ls -A "$PGDATA")" ]]; then
        log "removing an unfinished first init in $PGDATA"
        find "$PGDATA" -mindepth 1 -delete
    fi
    case "$PG_ROLE" in
        primary) init_primary ;;
        replica) init_replica ;;
        *) log "PG_ROLE must be primary or replica, not '$PG_ROLE'"; exit 2 ;;
    esac
    date -u +%FT%TZ >"$MARKER"; chown postgres:postgres "$MARKER"
    log "first init done"
fi

# After a SIGKILL the old postmaster.pid remains. This container is new (its own PID
# namespace), so no other postmaster can be using this directory: remove the stale lock
# unless the PID it names is alive here.
if [[ -f "$PGDATA/postmaster.pid" ]]; then
    oldpid=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null || true)
    if [[ -z "$oldpid" || "$oldpid" == "$$" ]] || ! kill -0 "$oldpid" 2>/dev/null; then
        rm -f "$PGDATA/postmaster.pid"
    fi
fi

# A hot standby refuses to run with a lower max_connections than its primary's. pg_control of
# a standby holds the primary's value (from the WAL): never go below it.
if [[ -f "$PGDATA/standby.signal" ]]; then
    primary_max=$(pg_controldata "$PGDATA" 2>/dev/null | awk -F: '/max_connections setting/ {gsub(/ /, "", $2); print $2}')
    if [[ "$primary_max" =~ ^[0-9]+$ && "$primary_max" -gt "$PG_MAX_CONNECTIONS" ]]; then
        log "max_connections raised from $PG_MAX_CONNECTIONS to the primary's $primary_max"
        PG_MAX_CONNECTIONS=$primary_max
    fi
fi

log "starting postgres (synchronous_commit=$PG_SYNCHRONOUS_COMMIT max_connections=$PG_MAX_CONNECTIONS)"
exec setpriv --reuid=postgres --regid=postgres --init-groups \
    postgres -D "$PGDATA" \
    -c listen_addresses='*' \
    -c unix_socket_directories="$SOCK" \
    -c synchronous_commit="$PG_SYNCHRONOUS_COMMIT" \
    -c max_connections="$PG_MAX_CONNECTIONS" \
    "$@"
