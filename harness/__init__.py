"""The engine that drives, measures and judges.

Its pure part (ledger, checkers, claims, verdicts, records, accepted findings, the claims lint)
imports no Docker, network or database client, so it is unit- and mutation-tested fast; the rest
(stack, scenario, observe, probes, alerts, disks, startup) drives the running system and feeds the
pure part what the probes, the load and the audits observed. The load (load/) imports only the
ledger from here, to write the same history format.
"""
