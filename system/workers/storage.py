"""Worker-Storage: image-uploader (image to S3) and rule-retriever (rules from local JSON)."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from system import metrics
from system.settings import Settings
from system.workers.runtime import main
from system.workers.stage import ExternalFailure, PoisonMessage, Stage
from system.workers.wal import WAL

log = logging.getLogger(__name__)

RULES_FILE = Path(__file__).with_name("rules.json")
S3_PROBE_S = 15.0  # design seconds between two probes of S3 (one Prometheus scrape interval)


@cache
def rules() -> dict[str, Any]:
    """The disposal rules shipped with the worker."""
    data: dict[str, Any] = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return data


def make_s3(settings: Settings) -> Any:
    """A boto3 S3 client on the moto endpoint, failing fast instead of retrying."""
    # checksums only where S3 requires them (botocore's default before 1.36): the CRC work was
    # a tenth of a put's CPU, and the body's integrity is already covered by TCP and SigV4
    config = botocore.config.Config(
        connect_timeout=2,
        read_timeout=3,
        retries={"max_attempts": 1},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="fake",
        aws_secret_access_key="fake",
        config=config,
    )


def probe_s3_forever(s3: Any, bucket: str, period_s: float) -> None:
    """s3_up: 1 while S3 answers a HEAD of the bucket within the client's timeouts. A frozen S3
    makes uploads hang rather than fail, and a hang shows in no error rate for a long while."""
    while True:
        try:
            s3.head_bucket(Bucket=bucket)
            metrics.S3_UP.set(1)
        except botocore.exceptions.ClientError as exc:  # NoSuchBucket (moto restarted) still answers
            metrics.S3_UP.set(1 if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket") else 0)
        except botocore.exceptions.BotoCoreError:
            metrics.S3_UP.set(0)
        time.sleep(period_s)  # a probe period, not a wait for a state


def build_stages(settings: Settings, _wal: WAL) -> list[Stage]:
    """The two stages of this worker (and the S3 probe behind s3_up)."""
    s3 = make_s3(settings)
    threading.Thread(
        target=probe_s3_forever,
        args=(make_s3(settings), settings.s3_bucket, max(1.0, settings.scaled(S3_PROBE_S))),
        name="s3-probe",
        daemon=True,
    ).start()

    def upload(msg: dict[str, Any]) -> dict[str, Any]:
        try:
            image = base64.b64decode(msg["image_b64"], validate=True)
        except (KeyError, ValueError) as exc:
            raise PoisonMessage(f"upload message without a valid image: {exc}") from exc
        key = f"uploads/{msg['task_id']}"
        try:
            try:
                s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=image)
            except botocore.exceptions.ClientError as exc:
                # moto keeps buckets in memory: after an S3 restart the bucket must be made again.
                if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
                    raise
                s3.create_bucket(Bucket=settings.s3_bucket)
                s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=image)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            metrics.S3_ERRORS.inc()
            if not settings.is_unsafe("s3_error_ignored"):
                raise ExternalFailure(f"S3 upload failed: {exc}") from exc
            log.error("S3 upload of %s failed, going on without it: %r", key, exc)  # planted
        return {
            "task_id": msg["task_id"],
            "user_id": msg.get("user_id"),
            "image_path": f"s3://{settings.s3_bucket}/{key}",
        }

    def retrieve(msg: dict[str, Any]) -> dict[str, Any]:
        category = str(msg.get("category", "general"))
        found = rules().get(category) or rules()["general"]
        return {"task_id": msg["task_id"], "category": category, "rules": found, "image_path": msg.get("image_path")}

    return [
        Stage("image_uploader", "user_input_queue", "vision_analysis_queue", upload, bulky=("image_b64",)),
        Stage("rule_retriever", "rule_retrieval_queue", "response_generation_queue", retrieve),
    ]


if __name__ == "__main__":
    main("worker-storage", build_stages, final_stage=None)
