"""Prometheus config, alert rules and dashboard of the Ecoeco stack (see docs/monitoring.md)."""
