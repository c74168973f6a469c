"""Worker-AI: gpt5-analyzer (GPT-5 Vision) and response-generator (GPT-4o mini)."""

from __future__ import annotations

import json
from typing import Any

import openai

from system import metrics
from system.fakes.gpt import make_client
from system.settings import Settings
from system.workers.runtime import main
from system.workers.stage import ExternalFailure, Stage
from system.workers.wal import WAL

VISION_MODEL = "gpt-5"
ANSWER_MODEL = "gpt-4o-mini"


def parse_verdict(content: str | None) -> dict[str, Any]:
    """GPT-5's classification as a dict with a string `category`; ValueError for anything else."""
    verdict = json.loads(content or "")
    if not isinstance(verdict, dict) or not isinstance(verdict.get("category"), str):
        raise ValueError(f"not a classification: {str(content)[:80]!r}")
    return verdict


def build_stages(settings: Settings, wal: WAL) -> list[Stage]:
    """The two stages; the worker's WAL also holds gpt_cache."""
    client = make_client(settings.gpt_control, settings.gpt_base_url, settings.gpt_timeout_s, settings.time_scale)
    cache_wal = wal

    def analyze(msg: dict[str, Any]) -> dict[str, Any]:
        image_path = str(msg.get("image_path", ""))
        cached = cache_wal.cache_get(image_path, VISION_MODEL)
        if cached is None:
            try:
                resp = client.chat.completions.create(
                    model=VISION_MODEL,
                    messages=[
                        {"role": "system", "content": "Classify the waste in the image."},
                        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": image_path}}]},
                    ],
                )
                content = resp.choices[0].message.content
                verdict = parse_verdict(content)  # parsed before it is cached: garbage is never kept
            except (openai.APIError, ValueError) as exc:
                # an unusable answer is the provider's failure, retried like an outage, not poison
                metrics.GPT5_ERRORS.inc()
                raise ExternalFailure(f"GPT-5 Vision failed: {exc}") from exc
            cache_wal.cache_put(image_path, VISION_MODEL, json.dumps(verdict))
        else:
            verdict = parse_verdict(cached)
        return {
            "task_id": msg["task_id"],
            "image_path": image_path,
            "category": verdict["category"],
            "confidence": verdict.get("confidence"),
        }

    def answer(msg: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = client.chat.completions.create(
                model=ANSWER_MODEL,
                messages=[
                    {"role": "system", "content": "Explain how to dispose of this item."},
                    {
                        "role": "user",
                        "content": json.dumps({"category": msg.get("category"), "rules": msg.get("rules")}),
                    },
                ],
            )
        except openai.APIError as exc:
            metrics.GPT4O_MINI_ERRORS.inc()
            raise ExternalFailure(f"GPT-4o mini failed: {exc}") from exc
        return {
            "task_id": msg["task_id"],
            "category": msg.get("category", "general"),
            "rules": msg.get("rules", {}),
            "answer": resp.choices[0].message.content or "",
        }

    return [
        Stage("gpt5_analyzer", "vision_analysis_queue", "rule_retrieval_queue", analyze),
        Stage("response_generator", "response_generation_queue", None, answer),
    ]


if __name__ == "__main__":
    main("worker-ai", build_stages, final_stage="response_generator")
