"""Session start: undo whatever an interrupted earlier run left in the project (by label and by tag)."""

from __future__ import annotations

import contextlib
import json
import logging
import shlex
from pathlib import Path

import docker
import docker.errors

from faults.base import TAG
from faults.cut_network import in_netns
from faults.deny_queue import ALL, set_permissions
from faults.fill_disk import remove_ballast
from faults.gpt_outage import CONTROL_FILE, reset_control
from faults.refuse_commits import connect, drop_refusals
from faults.target import COMPOSE_SERVICE, Project, service_of, volume_host_path
from system.credentials import amqp_users

log = logging.getLogger(__name__)


def _flush_iptables(pid: int) -> int:
    """Delete every rule tagged TAG in the network namespace of `pid`; returns how many."""
    removed = 0
    for line in in_netns(pid, "iptables", "-w", "5", "-S").stdout.splitlines():
        # `-S` prints each rule as it was added: the same words after -D delete exactly that rule
        tagged = TAG in line and line.startswith("-A ")
        if tagged and in_netns(pid, "iptables", "-w", "5", "-D", *shlex.split(line[3:])).returncode == 0:
            removed += 1
    return removed


def _clear_policies(stack: Project) -> list[str]:
    """Clear every RabbitMQ policy named TAG* through the first running node."""
    for container in stack.all_containers():
        if not container.labels.get(COMPOSE_SERVICE, "").startswith("rabbitmq") or container.status != "running":
            continue
        result = container.exec_run(["rabbitmqctl", "-q", "list_policies", "--formatter", "json"])
        if result.exit_code != 0:
            continue
        names = [p["name"] for p in json.loads(result.output.decode() or "[]") if p["name"].startswith(TAG)]
        for name in names:
            container.exec_run(["rabbitmqctl", "clear_policy", name])
        actions = [f"cleared RabbitMQ policy {n}" for n in names]
        for user in amqp_users():
            listing = container.exec_run(["rabbitmqctl", "-q", "list_user_permissions", user, "--formatter", "json"])
            perms = json.loads(listing.output.decode() or "[]") if listing.exit_code == 0 else []
            if any(p.get("read") != ALL for p in perms):  # a DenyQueue that was never healed
                set_permissions(container, user, ALL)
                actions.append(f"restored RabbitMQ read permission of {user}")
        return actions
    return []


def _drop_commit_refusals(stack: Project) -> list[str]:
    """Drop RefuseCommits triggers left in any database of the project's running PostgreSQL
    primaries (a standby replays its primary's drop). Never raises: a server or database it cannot
    reach is skipped, and said so."""
    actions = []
    for container in stack.all_containers():
        service = service_of(container)
        if not service.startswith("pg-") or container.status != "running":
            continue
        try:
            with contextlib.closing(connect(stack, service, "postgres")) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery()")
                row = cur.fetchone()
                if row is None or row[0]:
                    continue
                cur.execute("SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn")
                names = [r[0] for r in cur.fetchall()]
        except Exception as exc:  # not published, not up yet, or not a server we can log in to
            log.info("leftovers: no commit refusals looked for on %s: %s", service, exc)
            continue
        for name in names:
            try:
                with contextlib.closing(connect(stack, service, name)) as conn:
                    actions += [f"dropped a commit refusal on {service}/{name}.{t}" for t in drop_refusals(conn)]
            except Exception as exc:
                actions.append(f"could not look for commit refusals on {service}/{name}: {exc}")
    return actions


def heal_leftovers(client: docker.DockerClient, project: str, control_file: Path = CONTROL_FILE) -> list[str]:
    """Undo what an earlier, interrupted run may have left in the project; returns what was done."""
    stack = Project(client, project)
    actions: list[str] = []
    networks = stack.networks()
    for c in stack.all_containers():
        service = service_of(c)
        if c.status == "paused":
            c.unpause()
            actions.append(f"unpaused {c.name}")
        attached = set(c.attrs["NetworkSettings"]["Networks"] or {})
        mode = str(c.attrs["HostConfig"].get("NetworkMode", ""))
        own_stack = mode not in ("host", "none") and not mode.startswith(("container:", "service:"))
        if networks and own_stack and not attached & {n.name for n in networks}:
            for net in networks:  # compose attaches every service to the project's networks here
                net.connect(c, aliases=[service])
                actions.append(f"reconnected {c.name} to {net.name} as {service}")
        # only services meant to run all the time: a finished one-shot container stays finished
        policy = (c.attrs["HostConfig"].get("RestartPolicy") or {}).get("Name", "no")
        if c.status in ("exited", "created") and policy in ("always", "unless-stopped"):
            try:
                c.start()
                actions.append(f"started {c.name}")
            except docker.errors.APIError as exc:
                actions.append(f"could not start {c.name}: {exc}")
        c.reload()
        if c.status == "running":
            removed = _flush_iptables(int(c.attrs["State"]["Pid"]))
            if removed:
                actions.append(f"removed {removed} iptables rules in {c.name}")
    for volume in stack.volumes():
        path = volume_host_path(volume)
        if path.is_dir() and remove_ballast(path):
            actions.append(f"deleted ballast in volume {volume.name}")
    reset_control(control_file)
    actions.append(f"reset {control_file} to healthy")
    actions.extend(_clear_policies(stack))
    actions.extend(_drop_commit_refusals(stack))
    return actions
