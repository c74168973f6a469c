"""Logging shared by every service."""

import logging


def quiet_per_request_loggers() -> None:
    """httpx logs every request at INFO: one line per GPT call went to the container log (and
    through dockerd), a measurable share of a worker's CPU under load. Warnings still show."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
