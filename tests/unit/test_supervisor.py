"""The launcher's supervision rules on stand-in processes (practice/supervisor.py).

The real launcher, real servers and real kills: tests/reliability/test_supervision.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

from practice import quiet, supervisor
from practice.processes import describe_exit
from practice.supervisor import Supervisor, backoff

# A process that exits at once with the given code.
EXIT = [sys.executable, "-c", "import sys; sys.exit(int(sys.argv[1]))"]


class FakeService:
    """Starts a short-lived real process; answers when `ready` says so."""

    def __init__(self, name: str, code: int = 1, ready: bool = False) -> None:
        self.name = name
        self.ready_url = f"http://127.0.0.1:1/{name}"
        self.process: Optional[subprocess.Popen] = None
        self.code = code
        self.ready = ready
        self.starts = 0

    def start(self, log_dir: Optional[Path]) -> None:
        self.starts += 1
        self.process = subprocess.Popen([*EXIT, str(self.code)])

    def is_ready(self) -> bool:
        return self.ready


def run_until(sup: Supervisor, clock: List[float], condition, limit: int = 200) -> None:
    """Tick with a fake clock that jumps to each due restart."""
    for _ in range(limit):
        for entry in sup.entries:
            if entry.service.process is not None:
                entry.service.process.wait()
        sup.tick()
        if condition():
            return
        clock[0] += 31.0  # past any backoff
    pytest.fail("condition never held")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    now = [1000.0]
    monkeypatch.setattr(supervisor.time, "monotonic", lambda: now[0])
    return now


def test_the_backoff_doubles_up_to_thirty_seconds() -> None:
    assert [backoff(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_exits_are_described_by_code_or_signal() -> None:
    assert describe_exit(0) == "exited with code 0"
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-15) == "killed by SIGTERM"


def test_a_service_failing_at_start_is_reported_and_retried_the_others_untouched(
    clock: List[float], tmp_path: Path
) -> None:
    said: List[str] = []
    console, website = FakeService("console", code=3), FakeService("website", ready=True)
    sup = Supervisor([console, website], status_file=tmp_path / "s.json", say=said.append)
    sup.start()
    run_until(sup, clock, lambda: sup.entries[0].state == "failing")
    assert sup.fatal is None
    assert console.starts == supervisor.GIVE_UP_AFTER
    assert any("console exited with code 3 before it answered: it failed to start 5 times" in s for s in said), said
    # It is still retried (every 30 s), and the status file says all of it.
    run_until(sup, clock, lambda: console.starts > supervisor.GIVE_UP_AFTER + 1)
    assert any(
        "console exited with code 3 before it answered again (6 failed starts in a row); next try in 30 s." in s
        for s in said
    ), said
    status = json.loads((tmp_path / "s.json").read_text())
    entry = next(s for s in status["services"] if s["name"] == "console")
    assert entry["state"] in ("starting", "failing") and entry["restarts"] >= 5
    assert entry["last_exit"] == "exited with code 3"


def test_the_rasa_server_failing_at_start_ends_the_launcher(clock: List[float]) -> None:
    said: List[str] = []
    sup = Supervisor([FakeService("rasa", code=1), FakeService("console", ready=True)], say=said.append)
    sup.start()
    run_until(sup, clock, lambda: sup.fatal is not None)
    assert "rasa failed to start 5 times in a row" in sup.fatal
    sup.stop()


def test_the_backoff_grows_while_a_service_keeps_dying(clock: List[float]) -> None:
    said: List[str] = []
    sup = Supervisor([FakeService("website", code=0)], say=said.append)
    sup.start()
    run_until(sup, clock, lambda: len(said) >= 3)
    assert "restarting it in 1 s" in said[0]
    assert "restarting it in 2 s" in said[1]
    assert "restarting it in 4 s" in said[2]


def test_library_deprecation_warnings_are_quiet_the_projects_own_are_not() -> None:
    library = str(Path(pytest.__file__))
    own = str(quiet.PROJECT_ROOT / "practice" / "launcher.py")
    assert quiet.is_library_deprecation(DeprecationWarning, library)
    assert quiet.is_library_deprecation(FutureWarning, library)
    assert not quiet.is_library_deprecation(UserWarning, library)
    assert not quiet.is_library_deprecation(DeprecationWarning, own)
    shown: List[str] = []
    show = quiet.quieting(lambda message, *args: shown.append(str(message)))
    show(DeprecationWarning("library"), DeprecationWarning, library, 1)
    show(DeprecationWarning("ours"), DeprecationWarning, own, 1)
    show(RuntimeWarning("library error"), RuntimeWarning, library, 1)
    assert shown == ["ours", "library error"]
