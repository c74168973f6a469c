"""The APIs' request metrics: every answer counted under its route template and status,
including validation errors and unmatched paths."""

from __future__ import annotations

import warnings

from fastapi import HTTPException
from prometheus_client import REGISTRY

from system.apis.common import create_app

with warnings.catch_warnings():  # starlette's TestClient warns about httpx vs httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _count(service: str, route: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "http_requests_total", {"service": service, "method": "GET", "route": route, "status": status}
    )
    return value or 0.0


def test_every_answer_is_counted_under_its_route_and_status() -> None:
    app = create_app("metrics-test", lambda: {"dependency": True})

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404, "no item 0")
        return {"item_id": item_id}

    client = TestClient(app)
    assert client.get("/items/3").status_code == 200
    assert client.get("/items/0").status_code == 404
    assert client.get("/items/x").status_code == 422
    assert client.get("/elsewhere").status_code == 404
    assert _count("metrics-test", "/items/{item_id}", "200") == 1
    assert _count("metrics-test", "/items/{item_id}", "404") == 1
    assert _count("metrics-test", "/items/{item_id}", "422") == 1
    assert _count("metrics-test", "unmatched", "404") == 1
