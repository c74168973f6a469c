"""recycle-api: disposal information per category (ecoeco_waste) and statistics (the replica)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import HTTPException

from system import settings as settings_mod
from system.apis.common import create_app, serve
from system.apis.openapi_doc import errors
from system.db import Database

settings = settings_mod.get()
db = Database(settings.pg_dsn["waste"], "ecoeco_waste")
replica = Database(settings.pg_dsn["analytics"], "ecoeco_analytics")
app = create_app("recycle-api", lambda: {"ecoeco_waste": db.ping()})
CATEGORY = re.compile(r"[A-Za-z0-9_-]{1,64}")  # fullmatch


@app.get("/categories")
def categories() -> dict[str, Any]:
    """Every recycling category."""
    with db.transaction() as cur:
        cur.execute("SELECT name, description, disposal FROM recycling_categories ORDER BY name")
        return {"categories": [dict(r) for r in cur.fetchall()]}


@app.get("/categories/{name}", responses=errors(404))
def category(name: str) -> dict[str, Any]:
    """Disposal information for one category."""
    if not CATEGORY.fullmatch(name):  # no category is named so (and a NUL must not reach psycopg2)
        raise HTTPException(404, "unknown category")
    with db.transaction() as cur:
        cur.execute("SELECT name, description, disposal FROM recycling_categories WHERE name=%s", (name,))
        row = cur.fetchone()
    if row is None:
        raise HTTPException(404, f"unknown category {name}")
    return dict(row)


@app.get("/stats")
def stats() -> dict[str, Any]:
    """Results per category, read from the ecoeco_analytics streaming replica."""
    with replica.transaction() as cur:
        cur.execute("SELECT category, count(*) AS n FROM results GROUP BY category ORDER BY category")
        per_category = {r["category"]: r["n"] for r in cur.fetchall()}
        cur.execute(
            "SELECT pg_is_in_recovery() AS replica, "
            "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) AS lag_s"
        )
        meta = cur.fetchone() or {}
    return {
        "results_per_category": per_category,
        "source": "ecoeco_analytics",
        "is_replica": meta.get("replica"),
        "replay_lag_s": meta.get("lag_s"),
    }


if __name__ == "__main__":
    serve(app)
