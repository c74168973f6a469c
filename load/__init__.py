"""Ecoeco load generator: Locust users per domain, a client ledger and a subprocess driver.

Only `load/locustfile.py` and `load/users.py` import locust; they run inside the Locust
process. Everything else here is safe to import from pytest.
"""
