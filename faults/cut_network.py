"""Cut the link between two services only: iptables rules in the source container's network namespace."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import docker.errors
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.base import TAG, Fault, FaultError
from faults.target import Project, container_ips, main_pid, state

# Connect from inside a network namespace with the host's own Python (the image may have none).
_PROBE = "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()"


def in_netns(pid: int, *argv: str, timeout_s: float = 10.0) -> subprocess.CompletedProcess[str]:
    """Run a host program inside the network namespace of process `pid`."""
    return subprocess.run(
        ["nsenter", "-t", str(pid), "-n", *argv], capture_output=True, text=True, timeout=timeout_s, check=False
    )


def tcp_reachable(pid: int, ip: str, port: int) -> bool:
    """True when a TCP connect from the namespace of `pid` to ip:port succeeds."""
    return in_netns(pid, sys.executable, "-c", _PROBE, ip, str(port)).returncode == 0


class CutLink(Fault):
    """Drop or reject traffic between two services only, with iptables in the source's namespace."""

    name = "cut_link"

    def __init__(
        self, stack: Project, source: str, destination: str, action: str = "REJECT", probe_port: int | None = None
    ) -> None:
        if action not in ("REJECT", "DROP"):
            raise ValueError(f"action must be REJECT or DROP, not {action!r}")
        self.stack = stack
        self.source = source
        self.destination = destination
        self.action = action
        self.probe_port = probe_port  # a destination port evidence() tries to reach
        self.comment = f"{TAG} {source}->{destination}"
        self._rules: list[tuple[Container, list[str]]] = []  # (source container, rule spec without -I/-D)
        self._dest_ips: list[str] = []

    def _specs(self, ip: str) -> list[list[str]]:
        # OUTPUT cuts what the source sends (requests and replies); INPUT what the destination sends.
        tail = ["-m", "comment", "--comment", self.comment, "-j", self.action]
        return [["OUTPUT", "-d", ip, *tail], ["INPUT", "-s", ip, *tail]]

    def inject(self) -> None:
        """Insert the rules at the top of OUTPUT and INPUT of each source container's namespace."""
        dests = self.stack.containers(self.destination)
        self._dest_ips = sorted({ip for d in dests for ip in container_ips(d).values()})
        if not self._dest_ips:
            raise FaultError(f"{self.destination} has no IP address (not running?)")
        for src in self.stack.containers(self.source):
            pid = main_pid(src)
            for ip in self._dest_ips:
                for spec in self._specs(ip):
                    result = in_netns(pid, "iptables", "-w", "5", "-I", spec[0], "1", *spec[1:])
                    if result.returncode != 0:
                        raise FaultError(f"iptables in {src.name} failed: {result.stderr.strip()}")
                    self._rules.append((src, spec))

    def heal(self) -> None:
        """Delete exactly the rules this fault added (gone anyway if the source restarted)."""
        while self._rules:
            src, spec = self._rules[-1]
            try:
                if state(src)["Running"]:
                    pid = main_pid(src)
                    while in_netns(pid, "iptables", "-w", "5", "-C", *spec).returncode == 0:
                        result = in_netns(pid, "iptables", "-w", "5", "-D", *spec)
                        if result.returncode != 0:
                            raise FaultError(f"could not delete rule {spec} in {src.name}: {result.stderr.strip()}")
            except docker.errors.NotFound:
                pass
            self._rules.pop()

    def evidence(self) -> list[EffectCheck]:
        """Rules present in each source namespace; optionally, a TCP connect to the destination fails."""
        out = []
        for src in {id(s): s for s, _ in self._rules}.values():
            try:
                pid = main_pid(src)
            except (FaultError, docker.errors.NotFound) as exc:
                out.append(EffectCheck(f"rules:{src.name}", False, f"source not running: {exc}"))
                continue
            listing = in_netns(pid, "iptables", "-w", "5", "-S").stdout
            present = sum(1 for line in listing.splitlines() if self.comment in line)
            expected = sum(1 for s, _ in self._rules if s is src)
            out.append(EffectCheck(f"rules:{src.name}", present >= expected, f"{present} of {expected} rules present"))
            if self.probe_port is not None:
                for ip in self._dest_ips:
                    reachable = tcp_reachable(pid, ip, self.probe_port)
                    out.append(
                        EffectCheck(
                            f"unreachable:{src.name}->{ip}:{self.probe_port}",
                            not reachable,
                            "connect succeeded" if reachable else "connect refused or timed out",
                        )
                    )
        return out or [EffectCheck("rules", False, "no rule was added")]

    def describe(self) -> dict[str, Any]:
        """Source, destination, action."""
        return {
            "fault": self.name,
            "source": self.source,
            "destination": self.destination,
            "action": self.action,
            "probe_port": self.probe_port,
        }
