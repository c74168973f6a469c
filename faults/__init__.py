"""Fault primitives for the Ecoeco stack: one module per mechanism, all with inject / heal / evidence."""

from faults.base import TAG, Fault, FaultError, took_effect
from faults.block_queue import BlockQueue
from faults.corrupt_wal import CorruptWal
from faults.crash import Crash
from faults.crash_loop import CrashLoop
from faults.cut_network import CutLink
from faults.exhaust_pool import ExhaustPool
from faults.fill_disk import FillDisk
from faults.gpt_outage import GptOutage
from faults.isolate import Isolate
from faults.nemesis import Nemesis, Record, heal_leftovers
from faults.pause import Pause
from faults.poison_messages import PoisonMessages
from faults.refuse_commits import RefuseCommits
from faults.s3_outage import S3Outage
from faults.stop import Stop
from faults.target import Project

__all__ = [
    "TAG",
    "BlockQueue",
    "CorruptWal",
    "Crash",
    "CrashLoop",
    "CutLink",
    "ExhaustPool",
    "Fault",
    "FaultError",
    "FillDisk",
    "GptOutage",
    "Isolate",
    "Nemesis",
    "Pause",
    "PoisonMessages",
    "Project",
    "Record",
    "RefuseCommits",
    "S3Outage",
    "Stop",
    "heal_leftovers",
    "took_effect",
]
