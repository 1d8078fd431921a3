"""A SQLite file that the server processes of one host share for short-lived state.

The Rasa workers of `make run` (practice/rasa_runtime/workers.py) keep their conversation locks and
rate-limit buckets here, so each sees what the others did. The state lives seconds, not
days: the file skips fsync (`synchronous=OFF`), and what a crash leaves behind expires.
A connection belongs to the process that opened it; a forked worker opens its own.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

SQLITE_PREFIX = "sqlite:///"


def use_write_ahead_log(connection: sqlite3.Connection, timeout: float = 5.0) -> None:
    """Put the file in WAL mode, waiting out other connections that hold it.

    Switching the journal mode needs the file to itself, and SQLite refuses at once
    ("database is locked") instead of waiting when another connection is writing: two
    server processes opening the file at the same moment of a burst made one of them fail
    its first request (a 503). The mode is stored in the file, so once one connection has
    set it the others find it set and change nothing.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            if str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def shared_file_of(url: str | None) -> Path | None:
    """The file of a `sqlite:///path` URL; None for any other URL or none."""
    if url and url.startswith(SQLITE_PREFIX):
        return Path(url[len(SQLITE_PREFIX) :])
    return None


class SharedSQLite:
    """One SQLite file, its tables created on first use, one connection per process."""

    def __init__(self, path: Path, schema: Sequence[str], timeout: float = 5.0) -> None:
        """Use the file at `path` (created when missing) with the `CREATE ... IF NOT EXISTS` statements of `schema`."""
        self.path = path
        self.schema = tuple(schema)
        self.timeout = timeout
        self._pid: int | None = None
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        """This process's connection (autocommit; `transaction()` groups statements)."""
        if self._db is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None, check_same_thread=False)
            use_write_ahead_log(db, self.timeout)
            db.execute("PRAGMA synchronous=OFF")
            for statement in self.schema:
                db.execute(statement)
            self._db, self._pid = db, os.getpid()
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: other processes wait until it commits or rolls back."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
