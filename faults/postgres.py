"""The faults' own PostgreSQL connections: from the host to a service's published port."""

from __future__ import annotations

from typing import Any

import psycopg2
import psycopg2.extensions

from system.db import NETWORK_TIMEOUTS


def loopback_connection(
    port: int,
    dbname: str,
    user: str,
    password: str,
    *,
    application: str,
    connect_timeout_s: float = 5,
    options: str = "",
) -> psycopg2.extensions.connection:
    """A connection to 127.0.0.1:`port`, named `application` in pg_stat_activity so that the fault's
    connections are told from the services'. A dead peer is noticed in seconds (the services' own
    TCP timeouts), so a fault never hangs on a frozen server."""
    extra: dict[str, Any] = {"options": options} if options else {}
    return psycopg2.connect(
        host="127.0.0.1",
        port=port,
        dbname=dbname,
        user=user,
        password=password,
        connect_timeout=connect_timeout_s,
        application_name=application,
        **NETWORK_TIMEOUTS,
        **extra,
    )
