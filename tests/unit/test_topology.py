"""The one topology: read from docker-compose.yml, refused when the file publishes a port another way."""

from __future__ import annotations

from typing import Any

import pytest

from system import topology
from system.topology import TopologyError, parse

P = "127.0.0.1:${ECOECO_PORT_PREFIX:-170}"


def compose(**services: Any) -> dict[str, object]:
    return {"services": services}


def test_ports_databases_and_roles_come_from_the_compose_document() -> None:
    t = parse(
        compose(
            **{
                "pg-a": {"ports": [f"{P}21:5432"], "environment": {"PG_DATABASE": "db_a"}},
                "api-a": {"ports": [f"{P}01:8000"]},
                "worker-x": {"ports": [f"{P}11:9090"]},
                "prometheus": {"ports": [f"{P}90:9090"]},
                "mq-1": {"ports": [f"{P}31:5672", f"{P}41:15692"]},
                "internal": {"environment": ["A=1"]},  # publishes nothing, env as a list
            }
        )
    )
    assert t.apis == ("api-a",) and t.workers == ("worker-x",) and t.broker_nodes == ("mq-1",)
    assert dict(t.databases) == {"pg-a": "db_a"}
    assert t.suffix("mq-1") == "31" and t.suffix("mq-1", 15692) == "41"
    with pytest.raises(KeyError, match="no port 1234 for service 'mq-1'"):
        t.suffix("mq-1", 1234)
    with pytest.raises(KeyError, match="'nowhere'"):
        t.suffix("nowhere")


@pytest.mark.parametrize(
    "ports",
    [
        ["0.0.0.0:17001:8000"],  # not on the loopback
        ["127.0.0.1:17001:8000"],  # a fixed port: the prefix could not move it
        [f"{P}1:8000"],  # not two digits
    ],
)
def test_a_port_published_another_way_is_refused(ports: list[str]) -> None:
    with pytest.raises(TopologyError, match=r"is not 127\.0\.0\.1"):
        parse(compose(api={"ports": ports}))


def test_two_services_on_one_suffix_are_refused() -> None:
    doubled = {"ports": [f"{P}01:8000"]}
    with pytest.raises(TopologyError, match="share a suffix"):
        parse(compose(a=doubled, b=doubled))


def test_the_port_prefix_must_make_ports() -> None:
    assert topology.port_prefix({}) == "170" and topology.port_prefix({"ECOECO_PORT_PREFIX": "180"}) == "180"
    for bad in ("abc", "700", "17a"):
        with pytest.raises(ValueError, match="does not make valid ports"):
            topology.port_prefix({"ECOECO_PORT_PREFIX": bad})


def test_the_repositorys_compose_file() -> None:
    t = topology.load()
    assert set(t.apis) == {"waste-api", "auth-api", "userinfo-api", "location-api", "recycle-api", "chat-llm-api"}
    assert t.workers == ("worker-storage", "worker-ai") and len(t.broker_nodes) == 3
    assert t.databases["pg-analytics"] == "ecoeco_waste"  # the replica of the waste database
    assert topology.host_port("waste-api", prefix="180") == 18001
    assert topology.url("rabbitmq-2", 15692, prefix="170") == "http://127.0.0.1:17042"


def test_service_roles_come_from_each_servers_pg_app_roles() -> None:
    t = parse(
        compose(
            **{
                "pg-a": {"environment": {"PG_DATABASE": "db_a", "PG_APP_ROLES": "svc_one svc_two:read"}},
                "pg-b": {"environment": {"PG_DATABASE": "db_b"}},
            }
        )
    )
    assert dict(t.app_roles) == {"pg-a": ("svc_one", "svc_two")} and t.role_server("svc_two") == "pg-a"
    with pytest.raises(StopIteration):
        t.role_server("nobody")
    assert "waste_api" in topology.load().app_roles["pg-waste"]
