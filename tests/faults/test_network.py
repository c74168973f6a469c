"""Isolation (network disconnect) and one cut link (iptables in the source's namespace)."""

from __future__ import annotations

import pytest
from docker.models.containers import Container

from faults import TAG, CutLink, FaultError, Isolate, took_effect
from faults.cut_network import in_netns, tcp_reachable
from faults.target import container_ips, main_pid
from tests.faults.conftest import TestProject

pytestmark = pytest.mark.integration

# debian-slim has perl-base: a TCP server that accepts and closes, on port 7000
LISTEN = [
    "perl",
    "-MIO::Socket::INET",
    "-e",
    "$s=IO::Socket::INET->new(LocalPort=>7000,Listen=>16,ReuseAddr=>1) or die; while($c=$s->accept){close $c}",
]


def resolves(peer: Container, name: str) -> bool:
    """True when `name` resolves inside `peer` (Docker's embedded DNS)."""
    return bool(peer.exec_run(["getent", "hosts", name]).exit_code == 0)


def test_isolate_and_reconnect_with_aliases(proj: TestProject) -> None:
    proj.run("worker-storage")
    peer = proj.run("waste-api")
    assert resolves(peer, "worker-storage")
    fault = Isolate(proj.stack, "worker-storage", dns_probe_from="waste-api")
    fault.inject()
    evidence = fault.evidence()
    assert took_effect(evidence), evidence
    assert not resolves(peer, "worker-storage")
    fault.heal()
    fault.heal()
    assert resolves(peer, "worker-storage")  # the compose alias is back
    assert not took_effect(fault.evidence())


def test_isolate_refuses_a_container_not_on_the_network(proj: TestProject) -> None:
    container = proj.run("s3")
    proj.network().disconnect(container)
    fault = Isolate(proj.stack, "s3")
    with pytest.raises(FaultError, match="not attached"):
        fault.inject()
    fault.heal()  # safe after the failed inject: it disconnected nothing, so it connects nothing
    container.reload()
    assert container.attrs["NetworkSettings"]["Networks"] == {}


@pytest.mark.parametrize("action", ["REJECT", "DROP"])
def test_cut_link_between_two_services_only(proj: TestProject, action: str) -> None:
    source = proj.run("worker-storage")
    destination = proj.run("pg-waste", command=LISTEN)
    bystander = proj.run("worker-ai")
    dest_ip = next(iter(container_ips(destination).values()))
    pid = main_pid(source)
    # an unrelated rule in the source's namespace, which heal must leave alone
    assert in_netns(pid, "iptables", "-A", "OUTPUT", "-d", "192.0.2.1", "-j", "DROP").returncode == 0
    assert tcp_reachable(pid, dest_ip, 7000)
    fault = CutLink(proj.stack, "worker-storage", "pg-waste", action=action, probe_port=7000)
    fault.inject()
    evidence = fault.evidence()
    assert took_effect(evidence), evidence
    assert not tcp_reachable(pid, dest_ip, 7000)
    assert tcp_reachable(main_pid(bystander), dest_ip, 7000)  # only that link is cut
    fault.heal()
    fault.heal()
    rules = in_netns(pid, "iptables", "-S").stdout
    assert TAG not in rules and "192.0.2.1" in rules
    assert tcp_reachable(pid, dest_ip, 7000)


def test_cut_link_heal_after_the_source_restarted(proj: TestProject) -> None:
    source = proj.run("worker-ai")
    destination = proj.run("pg-waste", command=LISTEN)
    dest_ip = next(iter(container_ips(destination).values()))
    fault = CutLink(proj.stack, "worker-ai", "pg-waste", probe_port=7000)
    fault.inject()
    old_pid = main_pid(source)
    source.restart(timeout=5)  # a new process in a new network namespace
    pid = main_pid(source)
    assert pid != old_pid
    # A rule of ours in the namespace the source has now (a restart that kept it, or the rule put
    # back): heal must look up the source's current process, not the one it cut at inject.
    spec = ["OUTPUT", "-d", dest_ip, "-m", "comment", "--comment", fault.comment, "-j", "REJECT"]
    assert in_netns(pid, "iptables", "-I", *spec[:1], "1", *spec[1:]).returncode == 0
    assert not tcp_reachable(pid, dest_ip, 7000)
    fault.heal()
    assert TAG not in in_netns(pid, "iptables", "-S").stdout
    assert tcp_reachable(pid, dest_ip, 7000)
    assert not took_effect(fault.evidence())
