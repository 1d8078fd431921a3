"""Keeps the processes of `make run` serving: restarts what exits, records what happened.

One loop in the launcher's main thread (no threads: a child's PR_SET_PDEATHSIG follows
the thread that forked it). Each pass:

* a process that exited while it was wanted is logged (which, exit code or signal, how
  often) and started again after a backoff: 1 s, 2 s, 4 s ... capped at 30 s, back to
  1 s once a process has stayed up for a minute;
* a process that exits before it ever answered counts as a failed start; five failed
  starts in a row are reported plainly. For the Rasa server that ends the launcher with
  exit code 1 (nothing can answer visitors); any other keeps being retried every 30 s
  while the rest serve;
* a process that does not answer within `start_timeout` is killed: a failed start too;
* the Rasa server's workers (practice/rasa_runtime/workers.py replaces them itself) are counted by
  pid, so their restarts show in the status too;
* the state of every process goes to a small JSON file (`RUN_STATUS_FILE`,
  var/run-status.json), which `make status` and, later, the console can read.

It watches exits, not answers: a process that hangs while running is not restarted
(docs/RELIABILITY.md, "Limits").
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence

from practice.processes import children_of, describe_exit

BACKOFF_FIRST = 1.0
BACKOFF_CAP = 30.0
STABLE_AFTER = 60.0
GIVE_UP_AFTER = 5
START_TIMEOUT = 180.0
ESSENTIAL = "rasa"


class ServiceLike(Protocol):
    """What the supervisor needs of a launcher `Service`."""

    name: str
    ready_url: str
    process: Optional[subprocess.Popen]

    def start(self, log_dir: Optional[Path]) -> None: ...  # noqa: D102

    def is_ready(self) -> bool: ...  # noqa: D102


def now_iso() -> str:
    """The time now, UTC, to the second, ISO 8601."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def backoff(failures: int) -> float:
    """Seconds to wait before start number `failures` + 1: 1, 2, 4, ... 30."""
    return min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** max(0, failures - 1))


@dataclass
class Supervised:
    """One service and what happened to it since the launcher started."""

    service: ServiceLike
    state: str = "stopped"  # starting, running, backoff, failing, stopping, stopped
    restarts: int = 0
    exits: int = 0
    failures: int = 0  # exits in a row without a minute up (sets the backoff)
    failed_starts: int = 0  # exits in a row before answering
    started_at: float = 0.0
    since: str = ""
    next_start: float = 0.0
    last_exit: Optional[str] = None
    last_exit_at: Optional[str] = None
    workers: List[int] = field(default_factory=list)
    worker_restarts: int = 0

    @property
    def pid(self) -> Optional[int]:
        """The pid of the current process, if one is running."""
        process = self.service.process
        return process.pid if process is not None and process.poll() is None else None

    def as_dict(self) -> Dict[str, Any]:
        """This service's line of the status file."""
        entry: Dict[str, Any] = {
            "name": self.service.name,
            "state": self.state,
            "pid": self.pid,
            "since": self.since,
            "restarts": self.restarts,
            "exits": self.exits,
            "last_exit": self.last_exit,
            "last_exit_at": self.last_exit_at,
            "url": self.service.ready_url,
        }
        if self.service.name == ESSENTIAL:
            entry["workers"] = self.workers
            entry["worker_restarts"] = self.worker_restarts
        return entry


class Supervisor:
    """Starts the services, keeps them running, stops them; all from one thread."""

    def __init__(
        self,
        services: Sequence[ServiceLike],
        status_file: Optional[Path] = None,
        log_dir: Optional[Path] = None,
        say: Callable[[str], None] = print,
        start_timeout: float = START_TIMEOUT,
        watch_workers: bool = False,
    ) -> None:
        """Describe the supervision; nothing starts until `start()`."""
        self.entries = [Supervised(s) for s in services]
        self.status_file = status_file
        self.log_dir = log_dir
        self.say = say
        self.start_timeout = start_timeout
        self.watch_workers = watch_workers
        self.state = "starting"
        self.started = now_iso()
        self.fatal: Optional[str] = None
        self._written = 0.0
        self._workers_checked = 0.0

    # -- the loop ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start every service (they come up in parallel; `tick()` sees them answer)."""
        for entry in self.entries:
            self._start(entry)
        self.write_status()

    def settled(self) -> bool:
        """True once every service answers or has failed to start repeatedly."""
        return all(e.state == "running" or e.state == "failing" for e in self.entries)

    def tick(self) -> None:
        """One pass: notice exits and answers, restart what is due, record the state."""
        now = time.monotonic()
        changed = False
        for entry in self.entries:
            changed |= self._check(entry, now)
            if self.fatal:
                break
        if self.watch_workers and now - self._workers_checked >= 1.0:
            self._workers_checked = now
            changed |= self._check_workers()
        if changed or now - self._written >= 2.0:
            self.write_status()

    def _start(self, entry: Supervised) -> None:
        entry.service.start(self.log_dir)
        entry.state = "starting"
        entry.started_at = time.monotonic()
        entry.since = now_iso()
        entry.workers = []

    def _check(self, entry: Supervised, now: float) -> bool:
        name = entry.service.name
        process = entry.service.process
        if entry.state in ("starting", "running") and process is not None:
            code = process.poll()
            if code is not None:
                self._exited(entry, code, now)
                return True
            if entry.state == "starting":
                if entry.service.is_ready():
                    entry.state = "running"
                    entry.failed_starts = 0
                    if entry.restarts:
                        self.say(f"{name} is back (pid {process.pid}, restart {entry.restarts}).")
                    return True
                if now - entry.started_at > self.start_timeout:
                    self.say(
                        f"{name} did not answer at {entry.service.ready_url} within "
                        f"{self.start_timeout:.0f} s: killing it."
                    )
                    _kill_group(process)
                    self._exited(entry, process.wait(), now)
                    return True
            return False
        if entry.state in ("backoff", "failing") and now >= entry.next_start:
            self._start(entry)
            entry.restarts += 1
            return True
        return False

    def _exited(self, entry: Supervised, code: int, now: float) -> None:
        name = entry.service.name
        answered = entry.state == "running"
        lived = now - entry.started_at
        entry.exits += 1
        entry.last_exit = describe_exit(code)
        entry.last_exit_at = now_iso()
        entry.failures = 1 if lived >= STABLE_AFTER else entry.failures + 1
        entry.failed_starts = 0 if answered else entry.failed_starts + 1
        delay = backoff(entry.failures)
        entry.next_start = now + delay
        entry.workers = []
        times = "once" if entry.exits == 1 else f"{entry.exits} times"
        when = f"after {lived:.0f} s up" if answered else "before it answered"
        if entry.failed_starts >= GIVE_UP_AFTER:
            if name == ESSENTIAL:
                self.fatal = (
                    f"{name} failed to start {entry.failed_starts} times in a row "
                    f"(last: {entry.last_exit}); nothing can answer visitors."
                )
                self.say(f"{name} {entry.last_exit} {when}. {self.fatal}")
                entry.state = "failing"
                return
            if entry.failed_starts == GIVE_UP_AFTER:
                self.say(
                    f"{name} {entry.last_exit} {when}: it failed to start {entry.failed_starts} "
                    f"times in a row. The others keep serving; retrying every "
                    f"{BACKOFF_CAP:.0f} s. Its output above says why."
                )
            else:
                self.say(
                    f"{name} {entry.last_exit} {when} again ({entry.failed_starts} failed "
                    f"starts in a row); next try in {BACKOFF_CAP:.0f} s."
                )
            entry.next_start = now + BACKOFF_CAP
            entry.state = "failing"
            return
        meanwhile = "no visitor is answered until it is back" if name == ESSENTIAL else "the others keep serving"
        self.say(f"{name} {entry.last_exit} {when} ({times} since start); restarting it in {delay:.0f} s, {meanwhile}.")
        entry.state = "backoff"

    def _check_workers(self) -> bool:
        changed = False
        for entry in self.entries:
            if entry.service.name != ESSENTIAL:
                continue
            pid = entry.pid
            current = children_of(pid) if pid is not None and entry.state == "running" else []
            if entry.workers and current != entry.workers:
                entry.worker_restarts += len(set(entry.workers) - set(current))
                changed = True
            if current != entry.workers:
                entry.workers = current
                changed = True
        return changed

    # -- stopping ---------------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every process group at once; SIGKILL what is left after `timeout`."""
        self.state = "stopping"
        running = []
        for entry in self.entries:
            process = entry.service.process
            if process is not None and process.poll() is None:
                entry.state = "stopping"
                running.append(process)
                _signal_group(process, signal.SIGTERM)
            else:
                entry.state = "stopped"
        self.write_status()
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(process)  # its workers too: the group is still there
                process.wait()
        for entry in self.entries:
            entry.state = "stopped"
            entry.workers = []
        self.state = "stopped"
        self.write_status()

    # -- the status file --------------------------------------------------------------------

    def status(self) -> Dict[str, Any]:
        """Everything `make status` shows."""
        return {
            "launcher": {"pid": os.getpid(), "state": self.state, "since": self.started, "updated": now_iso()},
            "services": [entry.as_dict() for entry in self.entries],
        }

    def write_status(self) -> None:
        """Replace the status file atomically (readers never see half of it)."""
        self._written = time.monotonic()
        if self.status_file is None:
            return
        try:
            self.status_file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.status_file.with_name(self.status_file.name + ".tmp")
            partial.write_text(json.dumps(self.status(), indent=2) + "\n", encoding="utf-8")
            os.replace(partial, self.status_file)
        except OSError as error:  # a full disk must not stop the service
            self.say(f"Could not write {self.status_file}: {error}")
            self.status_file = None


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _kill_group(process: subprocess.Popen) -> None:
    _signal_group(process, signal.SIGKILL)
