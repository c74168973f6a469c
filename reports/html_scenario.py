"""One report section per scenario: the claim, the fault and its evidence, judgements, plots, ledger."""

from __future__ import annotations

import json

from core.claims import Claim
from core.record import ScenarioRecord
from reports import plots, repeats
from reports.cells import claimed_text, measured_text
from reports.compare import ScenarioChange
from reports.html_parts import badge, esc, evidence_html, vclass
from reports.scorecard import Row
from reports.svg import fmt


def section(row: Row, change: ScenarioChange | None) -> str:
    """The whole <section id=Fn> of one failure point that ran."""
    scenario = row.scenario
    assert scenario is not None
    out = [
        f'<section class="card" id="{esc(row.claim.fid)}">',
        f"<h2>{badge(row.verdict, row.label)} {esc(row.claim.fid)} · {esc(row.claim.title)}</h2>",
    ]
    if row.known_false:
        out.append(
            f'<div class="callout v-violated"><b>Known false.</b> The harness has shown this design claim '
            f"to be false: {esc(row.known_false)}. Pytest marks it xfail; this report counts it as VIOLATED."
            "</div>"
        )
    if scenario.problem:
        out.append(
            f'<div class="callout v-harness_error"><b>Harness error: the record cannot be trusted.</b> '
            f"{esc(scenario.problem)}<br><small>{esc(scenario.path)}</small></div>"
        )
    rec = scenario.record
    if rec is None:
        out.append("</section>")
        return "\n".join(out)
    claim = (
        _claim(row.claim)
        if row.catalogued
        else (
            "<h3>Claim</h3><p>Not one of F1-F17 in core/claims.py (a control or an extra scenario): judged against "
            "the bounds its judgements state.</p>"
        )
    )
    out.append(f'<div class="grid2"><div>{claim}</div><div>{_fault(rec)}</div></div>')
    if rec.errors:
        items = "".join(f"<li>{esc(e)}</li>" for e in rec.errors)
        out.append(f'<div class="callout v-harness_error"><b>Harness errors during the run</b><ul>{items}</ul></div>')
    out.append(_judgements(rec))
    out.append(repeats.html(rec))
    out.append("<h3>Plots</h3>")
    if not (rec.load.per_second or rec.probes or rec.queue_depth or rec.wal_pending or rec.ledger):
        out.append("<p><i>Nothing was sampled: the scenario stopped before load and probes started.</i></p>")
    else:
        for svg in (
            plots.load_plot(rec),
            plots.probe_plot(rec, row.claim.impact),
            plots.backlog_plot(rec),
            plots.ledger_plot(rec),
        ):
            out.append(f"<figure>{svg}</figure>")
    out.append(_ledger(rec))
    if change is not None:
        out.append(_change(change))
    out.append("</section>")
    return "\n".join(out)


def _kv(pairs: list[tuple[str, str]]) -> str:
    """A two-column table; values are HTML already."""
    return '<table class="kv">' + "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs) + "</table>"


def _claim(c: Claim) -> str:
    general = f"“until it recovers”, bounded by the general {fmt(c.rto_limit_s)} s"
    rto = f"{fmt(c.rto_s)} s" if c.rto_s is not None else general
    impact = ", ".join(sorted(c.impact)) or "—"
    pairs = [
        ("layer", esc(c.layer)),
        ("claimed RTO", f"{esc(rto)} <small>measured from {esc(c.rto_from)}</small>"),
        ("claimed RPO", f"{c.rpo_ops} acknowledged ops lost"),
        ("impact (allowed to fail)", esc(impact)),
        ("everything else", "keeps serving (isolation)"),
        (
            "expected alert",
            f"<code>{esc(c.alert)}</code>" + (f" <small>{esc(c.detection)}</small>" if c.detection else ""),
        ),
        ("source", "design table (spec §5)" if c.source == "spec" else "general claims (spec §5)"),
    ]
    if c.known_weakness:
        pairs.append(("known weakness", esc(c.known_weakness)))
    return "<h3>Claim</h3>" + _kv(pairs)


# rendered as their own tables below the fault's parameters
_OWN_TABLES = ("cpu_by_phase",)


def _fault(rec: ScenarioRecord) -> str:
    params = [
        (k, esc(v or "—" if isinstance(v, str) else json.dumps(v)))
        for k, v in sorted(rec.parameters.items())
        if k not in _OWN_TABLES
    ]
    tl = rec.timeline
    instants = [
        ("injected", tl.injected_s),
        ("healed", tl.healed_s),
        ("recovered", tl.recovered_s),
        ("drained", tl.drained_s),
        ("end", tl.end_s),
    ]
    times = " · ".join(f"{k} {fmt(v)} s" if v is not None else f"{k} never" for k, v in instants)
    if tl.injected_s is not None and tl.healed_s is not None:
        times += f"<br><small>fault held {fmt(tl.healed_s - tl.injected_s)} s"
        if tl.recovered_s is not None:
            after_heal = tl.recovered_s - tl.healed_s
            times += f"; recovered {fmt(tl.recovered_s - tl.injected_s)} s after injection, " + (
                f"{fmt(after_heal)} s after heal" if after_heal >= 0 else f"{fmt(-after_heal)} s before heal"
            )
        times += "</small>"
    effects = "".join(
        f'<li><span class="{"ok" if e.ok else "bad"}">{"✔ seen" if e.ok else "✘ NOT seen"}</span> '
        f"<b>{esc(e.check)}</b> {esc(e.detail)}</li>"
        for e in rec.effect
    )
    if not effects:
        effects = '<li><span class="bad">no evidence recorded</span>: a fault that did not bite proves nothing</li>'
    return (
        "<h3>Fault</h3>"
        + _kv([*params, ("timeline (s after start)", times)])
        + f'<h3>Evidence the fault took effect</h3><ul class="effect">{effects}</ul>'
        + _cpu(rec)
    )


def _cpu(rec: ScenarioRecord) -> str:
    """Cores used per phase (harness/cpu.py): the host's busy, steal and iowait, and the busiest
    containers; a value of another type (a hand-edited or future record) shows as a dash."""
    by_phase = rec.parameters.get("cpu_by_phase")
    if not isinstance(by_phase, dict):
        return ""

    def num(v: object) -> str:
        return fmt(v) if isinstance(v, int | float) and not isinstance(v, bool) else "—"

    rows = []
    for phase, use in by_phase.items():
        if not isinstance(use, dict) or "host_busy" not in use:
            continue
        cont = use.get("containers")
        busiest = ", ".join(f"{esc(s)} {num(c)}" for s, c in cont.items()) if isinstance(cont, dict) else ""
        notes = [
            f"{k}: {esc(', '.join(map(str, use[k])))}" for k in ("restarted", "unread") if isinstance(use.get(k), list)
        ]
        cells = [num(use.get(k)) for k in ("wall_s", "host_busy", "steal", "iowait", "outside_containers")]
        rows.append(
            f"<tr><td>{esc(phase)}</td>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f"<td>{busiest}{'<br><small>' + '; '.join(notes) + '</small>' if notes else ''}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "<h3>Where the CPU went (cores)</h3><table><tr><th>phase</th><th>s</th><th>host busy</th><th>steal</th>"
        "<th>iowait</th><th>outside containers</th><th>busiest containers</th></tr>" + "".join(rows) + "</table>"
    )


def _judgements(rec: ScenarioRecord) -> str:
    if not rec.judgements:
        return '<h3>Judgements</h3><p class="bad">No claim was judged (that alone is inconclusive).</p>'
    rows = "".join(
        f'<tr><td><code>{esc(j.claim)}</code></td><td class="v-{vclass(j.verdict)}">{badge(j.verdict)}</td>'
        f"<td>{esc(measured_text(j))}</td><td>{esc(claimed_text(j))}</td>"
        f'<td class="ev">{evidence_html(j.evidence, rec.timeline.t0_unix)}</td></tr>'
        for j in rec.judgements
    )
    return (
        "<h3>Judgements</h3><table><tr><th>claim</th><th>verdict</th><th>measured</th><th>claimed</th>"
        f"<th>evidence</th></tr>{rows}</table>"
    )


def _ledger(rec: ScenarioRecord) -> str:
    if not rec.ledger:
        return ""
    rows = "".join(
        f"<tr><td>{esc(k)}</td>"
        + "".join(f"<td>{c.get(f, 0)}</td>" for f in ("invoke", "ok", "fail", "info"))
        + "</tr>"
        for k, c in sorted(rec.ledger.items())
    )
    return (
        "<h3>Ledger counts</h3><table><tr><th>operation</th><th>invoked</th><th>ok</th><th>fail</th>"
        f"<th>info (outcome unknown)</th></tr>{rows}</table>"
    )


def _change(change: ScenarioChange) -> str:
    head = (
        f"<h3>Since the previous run: {esc(change.direction)}</h3><p>verdict "
        f"{badge(change.before)} → {badge(change.after)}</p>"
    )
    if not change.deltas:
        return head + "<p><small>No judged figure changed.</small></p>"
    rows = "".join(
        f"<tr><td><code>{esc(d.claim)}</code></td><td>{badge(d.verdict_before)} → {badge(d.verdict_after)}</td>"
        f"<td>{'—' if d.before is None else fmt(d.before)} → {'—' if d.after is None else fmt(d.after)} {esc(d.unit)}"
        f"</td><td>{'' if d.change is None else ('+' if d.change > 0 else '') + fmt(d.change) + ' ' + esc(d.unit)}"
        "</td></tr>"
        for d in change.deltas
    )
    return head + f"<table><tr><th>claim</th><th>verdict</th><th>measured</th><th>delta</th></tr>{rows}</table>"
