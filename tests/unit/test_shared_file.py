"""WAL mode is set even while another connection writes (practice/store/shared_file.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from practice.store.shared_file import use_write_ahead_log


def test_write_ahead_log_waits_for_a_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "locks.db"
    writer = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.execute("BEGIN EXCLUSIVE")  # another process in the middle of a write
    writer.execute("INSERT INTO t VALUES (1)")
    newcomer = sqlite3.connect(str(path), timeout=0.1, isolation_level=None, check_same_thread=False)

    release = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    use_write_ahead_log(newcomer, timeout=5.0)
    release.join()
    assert time.monotonic() - started >= 0.2  # it waited for the writer
    assert newcomer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert newcomer.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_file_already_in_write_ahead_mode_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "locks.db"
    first = sqlite3.connect(str(path), isolation_level=None)
    use_write_ahead_log(first)
    second = sqlite3.connect(str(path), isolation_level=None)
    use_write_ahead_log(second)
    assert second.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
