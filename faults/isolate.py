"""Isolate a service: disconnect its containers from a compose network (its name stops resolving)."""

from __future__ import annotations

from typing import Any

import docker.errors
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.base import Fault, FaultError
from faults.target import Project


class Isolate(Fault):
    """Disconnect a service's containers from a compose network; heal reconnects with their aliases."""

    name = "isolate"

    def __init__(
        self, stack: Project, service: str, network: str = "backend", dns_probe_from: str | None = None
    ) -> None:
        self.stack = stack
        self.service = service
        self.network = network
        self.dns_probe_from = dns_probe_from  # a peer service that should stop resolving our name
        self._saved: dict[str, tuple[Container, list[str]]] = {}
        self._net_name = ""

    def inject(self) -> None:
        """Remember each container's aliases on the network, then disconnect it."""
        net = self.stack.network(self.network)
        self._net_name = net.name
        for c in self.stack.containers(self.service):
            settings = (c.attrs["NetworkSettings"]["Networks"] or {}).get(net.name)
            if settings is None:
                raise FaultError(f"{c.name} is not attached to network {net.name}")
            # Docker adds the short container id itself; compose's aliases are what DNS needs.
            aliases = [a for a in settings.get("Aliases") or [] if a != c.id[:12]]
            self._saved[c.id] = (c, aliases)
            try:
                net.disconnect(c)
            except docker.errors.APIError as exc:
                raise FaultError(f"could not disconnect {c.name} from {net.name}: {exc}") from exc

    def heal(self) -> None:
        """Reconnect every saved container that is not attached, with its compose aliases."""
        if not self._saved:
            return
        net = self.stack.client.networks.get(self._net_name)
        for c, aliases in self._saved.values():
            try:
                c.reload()
                if self._net_name not in (c.attrs["NetworkSettings"]["Networks"] or {}):
                    net.connect(c, aliases=aliases or [self.service])
            except docker.errors.NotFound:
                continue

    def evidence(self) -> list[EffectCheck]:
        """Per container: not attached to the network; optionally: a peer no longer resolves the name."""
        out = []
        for c, _aliases in self._saved.values():
            try:
                c.reload()
                attached = self._net_name in (c.attrs["NetworkSettings"]["Networks"] or {})
                out.append(
                    EffectCheck(
                        f"disconnected:{c.name}",
                        not attached,
                        f"networks={sorted(c.attrs['NetworkSettings']['Networks'] or {})}",
                    )
                )
            except docker.errors.NotFound:
                out.append(EffectCheck(f"disconnected:{c.name}", False, "container removed"))
        if self.dns_probe_from and self._saved:
            peer = self.stack.container(self.dns_probe_from)
            result = peer.exec_run(["getent", "hosts", self.service])
            out.append(
                EffectCheck(
                    f"unresolvable-from:{self.dns_probe_from}",
                    result.exit_code != 0,
                    f"getent hosts {self.service} -> exit {result.exit_code} "
                    f"{result.output.decode(errors='replace').strip()!r}",
                )
            )
        return out or [EffectCheck("disconnected", False, "nothing was disconnected")]

    def describe(self) -> dict[str, Any]:
        """Service and network."""
        return {"fault": self.name, "service": self.service, "network": self.network}
