"""location-api: recycling sites near a coordinate, from ecoeco_location."""

from __future__ import annotations

from typing import Any

from fastapi import Query

from system import settings as settings_mod
from system.apis.common import create_app, serve
from system.db import Database

settings = settings_mod.get()
db = Database(settings.pg_dsn["location"], "ecoeco_location")
app = create_app("location-api", lambda: {"ecoeco_location": db.ping()})

# Equirectangular distance: accurate enough within a city, and cheap in SQL.
NEAREST = """
SELECT name, kind, lat, lon,
       111.32 * sqrt(power(lat - %(lat)s, 2) + power((lon - %(lon)s) * cos(radians(%(lat)s)), 2)) AS distance_km
FROM sites ORDER BY distance_km LIMIT %(limit)s
"""


@app.get("/sites")
def sites(
    lat: float = Query(ge=-90, le=90), lon: float = Query(ge=-180, le=180), limit: int = Query(default=5, ge=1, le=50)
) -> dict[str, Any]:
    """The nearest recycling sites."""
    with db.transaction() as cur:
        # to ~1 cm: PostgreSQL refuses a subnormal double such as 5e-324 ("underflow"), a valid coordinate
        cur.execute(NEAREST, {"lat": round(lat, 7), "lon": round(lon, 7), "limit": limit})
        rows = cur.fetchall()
    return {"sites": [dict(r, distance_km=round(float(r["distance_km"]), 3)) for r in rows]}


if __name__ == "__main__":
    serve(app)
