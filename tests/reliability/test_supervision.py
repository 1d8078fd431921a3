"""`make run` itself keeps the assistant answering when one of its processes dies.

Every test here runs the real launcher, `python -m practice.launcher run`, as `make run`
does, on free ports with its own SQLite files and status file (environment variables
only), and looks at it from outside: the status file it writes, its output, /proc.

* a crash or OOM kill of the action server, the console, the demo site or one Rasa
  worker: a new visitor is answered with the application link within 5 s, and the
  process is back within 30 s;
* a second `make run` finds the ports taken, names who holds them and exits 2;
* its start-up output is quiet (no library DeprecationWarning, one screen);
* SIGKILL of the launcher: within 5 s no process of it is left and the ports are free;
* SIGTERM at random moments of start-up and of shutdown: always "Stopping ...",
  "Stopped.", exit code 0, no traceback, nothing left behind.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from practice.processes import is_alive, port_is_free
from practice.settings import PROJECT_ROOT
from tests.conftest import TEST_APPLICATION_URL, stack_environment
from tests.reliability.client import new_sender, post

READY_TIMEOUT = 240.0  # two cores shared with other jobs; usually about 25 s
ANSWER_BUDGET = 5.0
BACK_WITHIN = 30.0
PORTS = ("RASA_PORT", "ACTION_SERVER_PORT", "WEBSITE_PORT", "CONSOLE_PORT")


@dataclass
class Launcher:
    """One `python -m practice.launcher run` and where to look at it."""

    env: Dict[str, str]
    output: Path
    process: subprocess.Popen
    seen: List[int] = field(default_factory=list)

    @property
    def status_file(self) -> Path:
        return Path(self.env["RUN_STATUS_FILE"])

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def status(self) -> Dict[str, Any]:
        """The status file (empty until the launcher has written it)."""
        try:
            return json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def service(self, name: str) -> Dict[str, Any]:
        return next(s for s in self.status().get("services", []) if s["name"] == name)

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"the launcher exited while {what}:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}\n{self.text()[-3000:]}"
            time.sleep(0.2)

    def wait_ready(self) -> None:
        self.wait_for(lambda: "Press Ctrl-C to stop." in self.text(), READY_TIMEOUT, "starting")

    def remaining(self) -> List[int]:
        """Living processes this launcher started (they carry its status file in their
        environment), the launcher itself included."""
        marker = f"RUN_STATUS_FILE={self.env['RUN_STATUS_FILE']}".encode()
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = Path(entry.path, "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0") and is_alive(int(entry.name)):
                found.append(int(entry.name))
        return found

    def taken_ports(self) -> List[str]:
        return [name for name in PORTS if not port_is_free("127.0.0.1", int(self.env[name]))]

    def kill(self) -> None:
        """Clean up whatever a failed test left: the launcher, then any straggler."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.remaining():
            os.kill(pid, signal.SIGKILL)


def start_launcher(tmp: Path, **extra: str) -> Launcher:
    """Start the launcher as `make run` does, on free ports with its own files."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **stack_environment(tmp),
        "RUN_STATUS_FILE": str(tmp / "run-status.json"),
        "CONSOLE_PASSWORD": "supervision-test-password",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("PYTHONWARNINGS", None)
    output = tmp / "launcher.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "practice.launcher", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Launcher(env, output, process)


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """One launcher for the process-death tests; the last test kills it."""
    running = start_launcher(tmp_path_factory.mktemp("supervised"))
    try:
        running.wait_ready()
        yield running
    finally:
        running.kill()


def visitor_gets_the_link(launcher: Launcher) -> None:
    url = f"http://127.0.0.1:{launcher.env['RASA_PORT']}/webhooks/rest/webhook"
    reply = post(url, {"sender": new_sender(), "message": "what is leaky gut?"}, timeout=ANSWER_BUDGET)
    assert reply.status == 200, reply.body
    assert TEST_APPLICATION_URL in reply.text, reply.text
    assert reply.seconds < ANSWER_BUDGET, f"took {reply.seconds:.1f} s"


def answers(url: str) -> bool:
    try:
        import urllib.request

        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError as error:
        return getattr(error, "code", None) is not None  # an HTTP error is an answer


@pytest.mark.parametrize(
    "name, how",
    [
        ("actions", signal.SIGKILL),  # an OOM kill
        ("console", signal.SIGTERM),  # a clean exit is still an unexpected one
        ("website", signal.SIGKILL),
    ],
)
def test_a_stopped_process_comes_back_and_visitors_are_answered_meanwhile(
    launcher: Launcher, name: str, how: signal.Signals
) -> None:
    before = launcher.service(name)
    assert before["state"] == "running" and before["pid"]
    os.kill(before["pid"], how)
    visitor_gets_the_link(launcher)

    def back() -> bool:
        now = launcher.service(name)
        return (
            now["state"] == "running"
            and now["pid"] not in (None, before["pid"])
            and now["restarts"] == before["restarts"] + 1
        )

    launcher.wait_for(back, BACK_WITHIN, f"{name} coming back")
    assert answers(launcher.service(name)["url"])
    word = "killed by SIGKILL" if how == signal.SIGKILL else "exited with code 0"
    assert f"{name} {word}" in launcher.text()
    assert launcher.service(name)["last_exit"] == word
    visitor_gets_the_link(launcher)


def test_a_killed_rasa_worker_is_replaced_and_visitors_are_answered_meanwhile(
    launcher: Launcher,
) -> None:
    rasa = launcher.service("rasa")
    assert len(rasa["workers"]) == 2, rasa
    victim = rasa["workers"][0]
    os.kill(victim, signal.SIGKILL)
    visitor_gets_the_link(launcher)

    def replaced() -> bool:
        now = launcher.service("rasa")
        return (
            len(now["workers"]) == 2
            and victim not in now["workers"]
            and now["worker_restarts"] == rasa["worker_restarts"] + 1
        )

    launcher.wait_for(replaced, BACK_WITHIN, "the Rasa worker being replaced")
    assert launcher.service("rasa")["pid"] == rasa["pid"], "the whole server was restarted"
    assert f"Rasa worker {victim} killed by SIGKILL" in launcher.text()
    visitor_gets_the_link(launcher)


def test_make_status_shows_each_process_and_its_restarts(launcher: Launcher) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "practice.launcher", "status"],
        cwd=PROJECT_ROOT,
        env=launcher.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"pid {launcher.process.pid}" in done.stdout
    for name in ("actions", "rasa", "website", "console"):
        line = next(x for x in done.stdout.splitlines() if x.split()[:1] == [name])
        assert line.split()[1] == "running"
    assert "1 replaced" in done.stdout  # the Rasa worker above
    # The containers' health check is the same readiness check.
    for name in ("actions", "rasa", "website", "console"):
        health = subprocess.run(
            [sys.executable, "-m", "practice.launcher", "health", name], cwd=PROJECT_ROOT, env=launcher.env, timeout=30
        )
        assert health.returncode == 0, name


def test_a_second_run_names_who_holds_the_ports_and_stops(launcher: Launcher, tmp_path: Path) -> None:
    env = {**launcher.env, "RUN_STATUS_FILE": str(tmp_path / "second.json")}
    done = subprocess.run(
        [sys.executable, "-m", "practice.launcher", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    rasa = launcher.service("rasa")
    rasa_pid = rasa["pid"]
    named = re.search(rf"port {launcher.env['RASA_PORT']} \(rasa, RASA_PORT\) is taken by pid (\d+)", done.stdout)
    assert named and int(named.group(1)) in [rasa_pid, *rasa["workers"]], done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert launcher.process.poll() is None and launcher.service("rasa")["pid"] == rasa_pid


def test_the_start_output_is_quiet_and_fits_one_screen(launcher: Launcher) -> None:
    text = launcher.text()
    start = text[: text.index("Press Ctrl-C to stop.")]
    assert "DeprecationWarning" not in text and "FutureWarning" not in text, text
    assert "Traceback" not in text, text
    assert len(start.splitlines()) <= 40, start


def test_sigkill_of_the_launcher_leaves_no_process_and_frees_the_ports(launcher: Launcher) -> None:
    assert len(launcher.remaining()) >= 7  # launcher, 4 services, 2 Rasa workers
    launcher.process.kill()
    launcher.process.wait()
    deadline = time.monotonic() + 5.0
    while (launcher.remaining() or launcher.taken_ports()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert launcher.remaining() == [], "left running after the launcher was killed"
    assert launcher.taken_ports() == []
    done = subprocess.run(
        [sys.executable, "-m", "practice.launcher", "status"],
        cwd=PROJECT_ROOT,
        env=launcher.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 3 and "Launcher: not running" in done.stdout, done.stdout


def assert_orderly_stop(launcher: Launcher, note: str) -> None:
    try:
        code = launcher.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{note}: no exit within 60 s\n{launcher.text()[-3000:]}")
    text = launcher.text()
    assert code == 0, f"{note}: exit code {code}\n{text[-3000:]}"
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, f"{note}\n{text[-3000:]}"
    assert text.count("Stopping ...") == 1 and text.rstrip().endswith("Stopped."), f"{note}\n{text[-3000:]}"
    deadline = time.monotonic() + 5.0
    while launcher.remaining() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert launcher.remaining() == [], f"{note}: processes left"
    assert launcher.taken_ports() == [], f"{note}: ports left taken"


def test_sigterm_at_random_moments_of_start_up_is_an_orderly_stop(tmp_path: Path) -> None:
    seed = int(os.environ.get("SUPERVISION_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    for run in range(3):
        delay = rng.uniform(0.0, 12.0)
        launcher = start_launcher(tmp_path / f"run{run}")
        try:
            # From its first line on (before it, Python itself is still starting up).
            launcher.wait_for(lambda launcher=launcher: launcher.text().strip() != "", 60, "first output")
            time.sleep(delay)
            launcher.process.send_signal(signal.SIGTERM)
            assert_orderly_stop(launcher, f"seed {seed}, run {run}: SIGTERM {delay:.1f} s into start-up")
        finally:
            launcher.kill()


def test_sigterm_during_training_is_an_orderly_stop(tmp_path: Path) -> None:
    # A fresh clone trains first: an empty MODEL_DIR makes this run train too.
    seed = int(os.environ.get("SUPERVISION_SEED", str(int(time.time()))))
    delay = random.Random(seed).uniform(0.5, 4.0)
    launcher = start_launcher(tmp_path / "training", MODEL_DIR=str(tmp_path / "models"))
    try:
        launcher.wait_for(lambda: "Training the assistant" in launcher.text(), 60, "training")
        time.sleep(delay)
        launcher.process.send_signal(signal.SIGTERM)
        assert_orderly_stop(launcher, f"seed {seed}: SIGTERM {delay:.1f} s into training")
        assert not (tmp_path / "models" / "current.fingerprint").exists()
        assert "Starting:" not in launcher.text()
    finally:
        launcher.kill()


def test_sigterm_and_sigint_during_shutdown_keep_it_orderly(tmp_path: Path) -> None:
    seed = int(os.environ.get("SUPERVISION_SEED", str(int(time.time()))))
    delay = random.Random(seed).uniform(0.0, 1.5)
    launcher = start_launcher(tmp_path / "shutdown")
    try:
        launcher.wait_ready()
        launcher.process.send_signal(signal.SIGTERM)
        time.sleep(delay)
        launcher.process.send_signal(signal.SIGTERM)
        launcher.process.send_signal(signal.SIGINT)  # impatient operator and supervisor
        assert_orderly_stop(launcher, f"seed {seed}: second signals {delay:.2f} s into shutdown")
        assert launcher.status()["launcher"]["state"] == "stopped"
    finally:
        launcher.kill()
