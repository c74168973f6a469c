#!/bin/bash
# Entrypoint of ecoeco-rabbitmq: shared Erlang cookie, first-boot ordering, then the broker
# in the foreground as user rabbitmq.
#   RABBITMQ_COOKIE     Erlang cookie shared by the cluster (default below)
#   RABBITMQ_SEED_NODE  hostname of the node the others join on their first boot (rabbitmq-1)
set -euo pipefail
HOME_DIR=/var/lib/rabbitmq
COOKIE=${RABBITMQ_COOKIE:-ecoeco-rabbitmq-cluster-cookie}
SEED=${RABBITMQ_SEED_NODE:-rabbitmq-1}
ME=$(hostname -s)

[[ "$(stat -c %U "$HOME_DIR")" == rabbitmq ]] || chown -R rabbitmq:rabbitmq "$HOME_DIR"
rm -f "$HOME_DIR/.erlang.cookie"
printf '%s' "$COOKIE" >"$HOME_DIR/.erlang.cookie"
chown rabbitmq:rabbitmq "$HOME_DIR/.erlang.cookie"
chmod 0400 "$HOME_DIR/.erlang.cookie"

# On its very first boot a node joins the first reachable peer, or starts a cluster of its
# own if none answers. Nodes booting at the same moment could thus form separate clusters:
# a fresh non-seed node waits (bounded) for the seed's AMQP port, which opens once it is up.
if [[ "$ME" != "$SEED" && ! -d "$HOME_DIR/mnesia/rabbit@$ME" ]]; then
    echo "ecoeco-rabbitmq: first boot of $ME, waiting for seed $SEED" >&2
    for _ in $(seq 1 240); do
        if timeout 1 bash -c "</dev/tcp/$SEED/5672" 2>/dev/null; then break; fi
        sleep 0.5
    done
fi

exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
    env HOME="$HOME_DIR" /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
