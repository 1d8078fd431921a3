"""The launcher's exit: a signal after everything stopped cannot kill it on the way out."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from practice.settings import PROJECT_ROOT

# Installs the launcher's stop handlers, waits for a SIGTERM, "stops", then exits the way
# `practice.launcher` does (the handlers ignored once stopped).
CHILD = """
import sys, time
from practice.launcher import _StopRequest
stop = _StopRequest()
stop.install()
print("ready", flush=True)
while not stop:
    time.sleep(0.01)
print("Stopped.", flush=True)
stop.ignore_from_now_on()
"""


def test_signals_during_python_s_exit_do_not_kill_the_stopped_launcher() -> None:
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        assert child.stdout.readline().strip() == "Stopped."
        # An impatient operator and supervisor: signals all through the interpreter's exit.
        while child.poll() is None:
            try:
                child.send_signal(signal.SIGTERM)
                child.send_signal(signal.SIGINT)
            except ProcessLookupError:
                break
            time.sleep(0.001)
        assert child.wait(timeout=30) == 0
