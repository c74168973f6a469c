"""Logging shared by every service."""

import logging

# What an API logs as its lifespan starts: uvicorn opens its socket only after that, so a request
# reset before this line (by Docker's port proxy) reached no serving process (harness/deaths.py).
SERVING = "ecoeco: lifespan started, serving next"


def quiet_per_request_loggers() -> None:
    """httpx logs every request at INFO: one line per GPT call went to the container log (and
    through dockerd), a measurable share of a worker's CPU under load. Warnings still show.

    pika logs every refused connection attempt at ERROR, with a traceback, once per node and
    attempt: a worker waiting for the broker to boot wrote dozens of them. Our callers log the
    failure once, as a warning with its reason, so pika's own lines are kept for CRITICAL."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("pika").setLevel(logging.CRITICAL)
