"""A PostgreSQL database that takes the statements of a transaction and then refuses its COMMIT.

Real servers do this: a SERIALIZABLE transaction fails at COMMIT with a serialization failure, a
deferred constraint is checked only then, and a connection can break between the last statement and
the commit. A client that treats "the statements ran" as "the data is stored" (and marks its own
copy done before COMMIT returned) loses exactly those rows. A network cut or a killed server lands
in that window only by chance (a few milliseconds a second); this fault lands in it every time.

Made of a deferred constraint trigger on each named table: it lets every statement through and
raises `serialization_failure` (SQLSTATE 40001) when the transaction commits. A sequence (not
rolled back with the transaction) counts the refused commits.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from core.evidence import EffectCheck
from faults.base import TAG, Fault, FaultError
from faults.postgres import loopback_connection
from faults.target import Project
from system.credentials import PG_SUPERUSER, pg_superuser_password

PREFIX = TAG.replace("-", "_")  # SQL names of everything this fault creates, for leftovers to find
FUNCTION = f"{PREFIX}_refuse_commit"
COUNTER = f"{PREFIX}_refused_commits"


def connect(stack: Project, service: str, dbname: str) -> psycopg2.extensions.connection:
    """The generated superuser's connection to `dbname` on the service's published port."""
    conn = loopback_connection(
        stack.host_port(service, 5432),
        dbname,
        PG_SUPERUSER,
        pg_superuser_password(),
        application=TAG,
        # a trigger waits for the table's open transactions: never forever, and shorter than the
        # services' own statement timeout (5 s), which statements queued behind it count against
        options="-c lock_timeout=2000 -c statement_timeout=10000",
    )
    conn.autocommit = True
    return conn


def _trigger(table: str) -> str:
    return f"{PREFIX}_refuse_{table}"


def _drop(cur: psycopg2.extensions.cursor, trigger: str, table: str, schema: str | None = None) -> None:
    on = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    cur.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(trigger), on))


def _pass_through(cur: psycopg2.extensions.cursor) -> None:
    """Disarm at once: replacing a function takes no lock on the tables its triggers are on."""
    cur.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"
        ).format(sql.Identifier(FUNCTION))
    )


_ARMED = (
    "SELECT t.tgname, n.nspname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.tgname LIKE %s ORDER BY c.relname"
)
_LIKE = f"{PREFIX}\\_refuse\\_%"


def drop_refusals(conn: psycopg2.extensions.connection) -> list[str]:
    """Disarm and drop every refusal trigger of this fault in the connected database; returns their tables."""
    with conn.cursor() as cur:
        cur.execute(_ARMED, (_LIKE,))
        found = cur.fetchall()
        if found:
            _pass_through(cur)
        for name, schema, table in found:
            _drop(cur, name, table, schema)
    return [table for _, _, table in found]


class RefuseCommits(Fault):
    """Every transaction that writes one of `tables` fails at COMMIT, after all its statements ran."""

    name = "refuse_commits"

    def __init__(
        self, stack: Project, service: str = "pg-waste", dbname: str = "ecoeco_waste", tables: tuple[str, ...] = ()
    ) -> None:
        if not tables:
            raise ValueError("refuse_commits needs at least one table")
        self.stack, self.service, self.dbname, self.tables = stack, service, dbname, tuple(tables)
        self._conn: psycopg2.extensions.connection | None = None
        self._at_inject: int | None = None
        self._touched = False  # from the first CREATE on, heal disarms and drops every table's trigger

    def _count(self, conn: psycopg2.extensions.connection) -> int:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("SELECT last_value + CASE WHEN is_called THEN 0 ELSE -1 END FROM {}").format(
                    sql.Identifier(COUNTER)
                )
            )
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def inject(self) -> None:
        """Install the counter, the function and one deferred trigger per table."""
        try:
            conn = self._connection()
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(sql.Identifier(COUNTER)))
                # SECURITY DEFINER: the services' own roles may not use the fault's sequence
                cur.execute(
                    sql.SQL(
                        "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
                        "SET search_path = pg_catalog, public AS $$ "
                        "BEGIN PERFORM nextval({counter}); "
                        "RAISE EXCEPTION 'could not serialize access due to concurrent update' "
                        "USING ERRCODE = 'serialization_failure', DETAIL = 'refused at commit by {tag}'; "
                        "END $$"
                    ).format(fn=sql.Identifier(FUNCTION), counter=sql.Literal(COUNTER), tag=sql.SQL(TAG))
                )
            self._at_inject = self._count(conn)
            self._touched = True
            for table in self.tables:
                with conn.cursor() as cur:
                    # one left by a heal that failed earlier is replaced, not a duplicate that stops us
                    _drop(cur, _trigger(table), table)
                    cur.execute(
                        sql.SQL(
                            "CREATE CONSTRAINT TRIGGER {trg} AFTER INSERT OR UPDATE ON {table} "
                            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {fn}()"
                        ).format(
                            trg=sql.Identifier(_trigger(table)),
                            table=sql.Identifier(table),
                            fn=sql.Identifier(FUNCTION),
                        )
                    )
        except psycopg2.Error as exc:
            raise FaultError(f"installing commit refusal on {self.service}/{self.dbname} failed: {exc}") from exc

    def heal(self) -> None:
        """Drop the triggers (the counter and function stay, harmless, for the evidence)."""
        if self._touched:
            with self._connection().cursor() as cur:
                _pass_through(cur)  # first: the refusals end now (a COMMIT already under way may still fail)
                for table in self.tables:
                    _drop(cur, _trigger(table), table)
            self._touched = False
        if self._conn is not None:
            with contextlib.suppress(psycopg2.Error):
                self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg2.extensions.connection:
        if self._conn is None or self._conn.closed != 0:
            self._conn = connect(self.stack, self.service, self.dbname)
        return self._conn

    def evidence(self) -> list[EffectCheck]:
        """The triggers are in place and commits were refused since inject."""
        try:
            conn = self._connection()
            refused = self._count(conn) - (self._at_inject or 0)
            with conn.cursor() as cur:
                cur.execute(_ARMED, (_LIKE,))
                armed = sorted(r[2] for r in cur.fetchall())
        except (psycopg2.Error, FaultError) as exc:
            return [EffectCheck("commits-refused", False, f"could not read the refusals: {exc}")]
        finally:
            if not self._touched:  # read after heal: nothing else will close it
                self.heal()
        return [
            EffectCheck("refusal-armed", armed == sorted(self.tables), f"triggers on {armed or 'nothing'}"),
            EffectCheck("commits-refused", refused > 0, f"{refused} commits refused since inject"),
        ]

    def describe(self) -> dict[str, Any]:
        """Service, database, tables."""
        return {"fault": self.name, "service": self.service, "dbname": self.dbname, "tables": list(self.tables)}
