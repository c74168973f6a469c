"""A connection lost during COMMIT is an unknown outcome, never a definite refusal.

Found by F11-kill in CI: PostgreSQL was SIGKILLed while an upload committed; waste-api answered
503 "database unavailable" (which the API's contract and the load read as "refused, not done"),
yet the commit had been flushed, the relay published the task and it completed: an acknowledged-
as-failed upload that happened. Only COMMIT can end that way: a statement before it that fails
leaves nothing committed."""

from __future__ import annotations

import warnings
from typing import Any

import psycopg2
import pytest

from system.apis.common import create_app
from system.db import CommitOutcomeUnknown, Database, DatabaseUnavailable

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class FakeCursor:
    def __init__(self, fail_execute: bool) -> None:
        self.fail_execute = fail_execute

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, *args: Any) -> None:
        if self.fail_execute:
            raise psycopg2.OperationalError("server closed the connection unexpectedly")


class FakeConnection:
    closed = 0

    def __init__(self, fail_execute: bool = False, fail_commit: bool = False) -> None:
        self.fail_execute, self.fail_commit = fail_execute, fail_commit
        self.rolled_back = False

    def cursor(self, **_: Any) -> FakeCursor:
        return FakeCursor(self.fail_execute)

    def commit(self) -> None:
        if self.fail_commit:
            raise psycopg2.OperationalError("server closed the connection unexpectedly")

    def rollback(self) -> None:
        self.rolled_back = True

    def close(self) -> None:
        self.closed = 1


def db_with(conn: FakeConnection, monkeypatch: pytest.MonkeyPatch) -> Database:
    db = Database("dbname=x", "ecoeco_test")
    monkeypatch.setattr(db, "_checkout", lambda: conn)
    return db


def test_a_lost_commit_is_an_unknown_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    db = db_with(FakeConnection(fail_commit=True), monkeypatch)
    with pytest.raises(CommitOutcomeUnknown, match="during COMMIT"), db.transaction() as cur:
        cur.execute("INSERT ...")


def test_a_statement_that_fails_before_commit_is_a_plain_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    db = db_with(FakeConnection(fail_execute=True), monkeypatch)
    with pytest.raises(DatabaseUnavailable) as info, db.transaction() as cur:
        cur.execute("INSERT ...")
    assert not isinstance(info.value, CommitOutcomeUnknown)


def test_the_api_answers_an_unknown_outcome_with_504_not_503() -> None:
    app = create_app("commit-test", lambda: {})

    @app.post("/unknown")
    def unknown() -> None:
        raise CommitOutcomeUnknown("ecoeco_test: connection lost during COMMIT")

    @app.post("/refused")
    def refused() -> None:
        raise DatabaseUnavailable("ecoeco_test: cannot connect")

    client = TestClient(app)
    r = client.post("/unknown")
    assert r.status_code == 504 and r.json()["error"].startswith("outcome unknown, retry with the same id")
    assert client.post("/refused").status_code == 503


def test_the_load_reads_504_as_maybe_done_and_503_as_not_done() -> None:
    from load.outcome import classify

    assert classify(202, 504, None).type == "info"
    assert classify(202, 503, None).type == "fail"
