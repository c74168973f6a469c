"""The engine that measures and judges: ledger, checkers, claims, verdicts and run records.

Everything in this package is pure (no Docker, no network) so it can be unit-tested fast;
the scenario runner feeds it what the probes, the load and the audits observed.
"""
