"""The workload every scenario runs under: the design's, at a stated share of measured capacity.

GPT answers at the design's latencies (GPT-5 ~30 s, GPT-4o mini ~10 s a call, time-scaled and
jittered by the fake, system/fakes/gpt.py), uploads are photo-sized PNG and JPEG images
(load/images.py), and the offered upload rate is a fixed fraction of what the pipeline can
complete under that same workload on this machine, so a fault always meets work in flight and
a healthy system still drains what the fault left behind.
"""

from __future__ import annotations

from dataclasses import dataclass

# Uploads completed per second through all four stages under this workload, measured with
# `python3 -m benchmarks.pipeline --workload design` on the 2-core / 24 GiB Debian 12 VM the
# project is developed on (time scale 0.02, 12 GPT consumers per stage, photos of ~220 KiB):
# 17.4 and 17.2/s in two runs. A slower machine gets a smaller share of its own capacity.
CAPACITY_UPLOADS_PER_S = 17.2
OFFERED_FRACTION = 0.45  # the backlog of a 10 s outage then drains in ~15 s


@dataclass(frozen=True)
class Workload:
    """Offered load and the phases it runs through in a scenario."""

    photo_uploads_per_s: float  # Locust's photo uploads (load/users.py WasteUser)
    canary_uploads_per_s: float  # the prober's tiny uploads: waste's probe and the pipeline canary
    upload_users: int  # Locust users that upload photos (the rate is split between them)
    other_users: int  # Locust users of the other domains (chat, auth, userinfo, location, recycle)
    warmup_min_s: float  # load before the injection at least (every Locust user has started)
    warmup_s: float  # and at most: work is in flight where the fault strikes well before that
    relapse_s: float  # a recovery counts once the capability has stayed up this long under the load

    @property
    def offered_uploads_per_s(self) -> float:
        """All uploads offered per second."""
        return self.photo_uploads_per_s + self.canary_uploads_per_s


CANARY_UPLOADS_PER_S = 2.0
DESIGN = Workload(
    photo_uploads_per_s=round(CAPACITY_UPLOADS_PER_S * OFFERED_FRACTION - CANARY_UPLOADS_PER_S, 2),
    canary_uploads_per_s=CANARY_UPLOADS_PER_S,
    upload_users=4,
    other_users=8,  # the smallest count at which Locust gives each of the other user classes one
    warmup_min_s=2.0,
    warmup_s=6.0,
    relapse_s=5.0,
)
