#!/bin/bash
# Entrypoint of ecoeco-rabbitmq: shared Erlang cookie, cluster formation settings for this
# node, then the broker in the foreground as user rabbitmq.
#   RABBITMQ_COOKIE     Erlang cookie shared by the cluster: generated per deployment, required
#   RABBITMQ_SEED_NODE  hostname of the node the others join on their first boot (rabbitmq-1)
#   RABBITMQ_DEFINITIONS  users and permissions as definitions JSON with password hashes
#                       (system/broker_access.py), imported at every boot; required
#
# Cluster formation (only a node with an empty database does any; a node that was a member
# before rejoins its known peers by itself): the seed lists no peers, so on a blank start it
# forms the cluster at once (and takes no peer discovery lock on the others); every other
# node lists only the seed (and itself) and retries for up to 120 s until the seed's
# database runs, then joins it. All nodes boot in parallel, and nodes that start together
# cannot form separate clusters.
set -euo pipefail
HOME_DIR=/var/lib/rabbitmq
COOKIE=${RABBITMQ_COOKIE:-}
# Whoever knows the cookie can run any command on every node: refuse none, a short one, or the
# value this repository once published as the default.
if [[ ${#COOKIE} -lt 20 || "$COOKIE" == ecoeco-rabbitmq-cluster-cookie ]]; then
    echo "refusing to start: RABBITMQ_COOKIE is unset, shorter than 20 characters or a published default" \
        "(the harness generates one: .runtime/secrets/erlang_cookie)" >&2
    exit 1
fi
DEFINITIONS=${RABBITMQ_DEFINITIONS:-}
if [[ "$DEFINITIONS" != *'"users"'* ]]; then
    echo "refusing to start: RABBITMQ_DEFINITIONS holds no users (the harness writes them from" \
        ".runtime/secrets; a broker without them would have no user, or a published one)" >&2
    exit 1
fi
SEED=${RABBITMQ_SEED_NODE:-rabbitmq-1}
ME=$(hostname -s)

[[ "$(stat -c %U "$HOME_DIR")" == rabbitmq ]] || chown -R rabbitmq:rabbitmq "$HOME_DIR"
rm -f "$HOME_DIR/.erlang.cookie"
printf '%s' "$COOKIE" >"$HOME_DIR/.erlang.cookie"
chown rabbitmq:rabbitmq "$HOME_DIR/.erlang.cookie"
chmod 0400 "$HOME_DIR/.erlang.cookie"

{
    cat /etc/rabbitmq/rabbitmq.base.conf
    echo
    echo "# --- cluster formation for rabbit@$ME (seed: rabbit@$SEED), written by the entrypoint"
    echo "cluster_formation.peer_discovery_backend = classic_config"
    if [[ "$ME" != "$SEED" ]]; then
        echo "cluster_formation.classic_config.nodes.1 = rabbit@$SEED"
        echo "cluster_formation.classic_config.nodes.2 = rabbit@$ME"
        echo "cluster_formation.discovery_retry_limit = 240"
        echo "cluster_formation.discovery_retry_interval = 500"
    fi
} >/etc/rabbitmq/rabbitmq.conf
chown rabbitmq:rabbitmq /etc/rabbitmq/rabbitmq.conf
printf '%s' "$DEFINITIONS" >/etc/rabbitmq/definitions.json
chown rabbitmq:rabbitmq /etc/rabbitmq/definitions.json
chmod 0400 /etc/rabbitmq/definitions.json

exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
    env HOME="$HOME_DIR" /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
