"""The engine that drives and measures: the stack, the scenario runner, probes, observations of
the system's state, alerts, loop disks, the run journal and lock, the claims lint.

It feeds what the probes, the load and the audits observed to the pure part in core/ (checkers,
verdicts, records, claims), which imports nothing from here.
"""
