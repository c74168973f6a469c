"""Prometheus metrics of the spec (section 4) and request metrics of the APIs."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WAL_TASKS = Counter("wal_tasks", "WAL task transitions (started/completed/failed) per stage", ["status", "task_name"])
WAL_PENDING = Gauge("wal_pending_tasks", "task_wal rows in pending/running/republished")
WAL_SYNC_DELAY = Histogram(
    "wal_sync_delay_seconds",
    "Time from task completion to PostgreSQL sync",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
WAL_FILE_SIZE = Gauge("wal_file_size_bytes", "Size of task_queue.db-wal")
WAL_SYNC_FAILURES = Counter("wal_sync_failures", "Failed WAL to PostgreSQL sync batches")
WAL_SYNC_RETRIED = Counter("wal_sync_retried_rows", "Rows synced after at least one failed attempt")
WAL_UNSYNCED = Gauge("wal_unsynced_tasks", "Completed task_wal rows not yet synced to PostgreSQL")
WAL_RETRY_QUEUE = Gauge("wal_retry_queue_tasks", "Entries waiting in retry_queue")
WAL_RETRIED = Counter("wal_retried_tasks", "retry_queue entries that completed and were forwarded")
WAL_RETRY_ERRORS = Counter("wal_retry_errors", "retry_queue entries that failed unexpectedly (pushed back)")
WAL_PRUNED = Counter("wal_pruned_tasks", "Finished, synced task_wal rows deleted after the retention")
WAL_RECOVERED = Counter("wal_recovered_tasks", "Rows handled by startup recovery", ["action"])
WAL_DISK_FREE = Gauge("wal_disk_free_bytes", "Bytes available on the filesystem holding the WAL")
WAL_ERRORS = Counter("wal_write_errors", "WAL writes that failed (disk full, corruption)")
WAL_LOST_COMMITS = Gauge(
    "wal_lost_commits", "Commits a damaged -wal dropped, found at start; 0 again once the rebuild window closed"
)
WAL_REBUILT = Counter("wal_rebuilt_rows", "Stage rows the lost commits had completed, rebuilt in ecoeco_waste")
GPT5_ERRORS = Counter("gpt5_api_errors", "Failed GPT-5 Vision calls")
GPT4O_MINI_ERRORS = Counter("gpt4o_mini_api_errors", "Failed GPT-4o mini calls")
S3_ERRORS = Counter("s3_errors", "Failed S3 uploads")
S3_UP = Gauge("s3_up", "1 while S3 answers a probe of the images bucket (worker-storage)")
FORWARD_REFUSED = Counter("forward_refused", "Stage outputs the broker refused (next queue blocked); held, retried")
STAGE_SECONDS = Histogram("stage_duration_seconds", "Time to process one delivery", ["task_name"])
CONSUMER_UP = Gauge("worker_consumer_up", "1 while the stage's consumer is connected", ["task_name"])
RESULTS_STORED = Counter("results_stored", "Final results written to ecoeco_waste")

HTTP_REQUESTS = Counter("http_requests", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["service", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PENDING = Gauge("outbox_pending", "Accepted uploads not yet published to RabbitMQ")
BROKER_PUBLISH_FAILURES = Counter("broker_publish_failures", "Publishes that were not confirmed")
OUTBOX_RELAYED = Counter("outbox_relayed", "Outbox rows the relay published after the request path could not")
