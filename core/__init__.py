"""The pure part of the engine: what a run is judged by, with no Docker, network or database client.

The history format and its outcomes (ledger), the design's claims, the failure-point records, the
checkers and their verdicts, the scenario and run records, the accepted findings and the evidence
type. Everything that touches the running system (harness/, faults/, load/) feeds it plain data; it
imports nothing outside the standard library and itself (tests/unit/test_layers.py holds it to that),
so it is unit- and mutation-tested fast.
"""
