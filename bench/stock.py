"""The baseline: the assistant `rasa init --no-prompt` creates, trained and served with defaults."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

from bench.processes import Group, free_port

# Variables our own configuration sets; the stock run must not inherit them.
OUR_TUNING = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "SANIC_WORKERS",
    "PYTHONPATH",
    "ACTION_SERVER_URL",
    "DATABASE_URL",
)


def stock_environment(workdir: Path) -> Dict[str, str]:
    """Rasa's defaults, except: no telemetry (loopback only) and a private, empty cache."""
    env = {k: v for k, v in os.environ.items() if k not in OUR_TUNING}
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["RASA_CACHE_DIRECTORY"] = str(workdir / "rasa-cache")
    # Rasa's sanic server binds where SANIC_HOST says; loopback keeps the benchmark private.
    env["SANIC_HOST"] = "127.0.0.1"
    return env


class StockAssistant:
    """`rasa init` in a temporary folder: create + train (timed), serve, stop."""

    def __init__(self, workdir: Path) -> None:
        """Everything lives under `workdir`."""
        self.workdir = workdir
        self.project = workdir / "project"
        self.env = stock_environment(workdir)
        self.group = Group(workdir / "logs")
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.train_seconds = 0.0
        self.start_seconds = 0.0

    @property
    def url(self) -> str:
        """The REST channel."""
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def create_and_train(self) -> float:
        """`rasa init --no-prompt` (which trains); returns seconds, scaffold copy included."""
        # `rasa init --no-prompt` wants the folder to exist (and be empty).
        self.project.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with open(self.workdir / "init.log", "wb") as log:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rasa",
                    "init",
                    "--no-prompt",
                    "--init-dir",
                    str(self.project),
                ],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        self.train_seconds = time.perf_counter() - started
        if not list((self.project / "models").glob("*.tar.gz")):
            raise RuntimeError(f"rasa init trained no model; see {self.workdir / 'init.log'}")
        return self.train_seconds

    def start(self) -> float:
        """Start `rasa run actions` and `rasa run` as rasa init sets them up; returns start time."""
        started = time.perf_counter()
        self.group.start(
            "actions",
            [sys.executable, "-m", "rasa", "run", "actions", "--port", str(self.actions_port)],
            self.project,
            self.env,
        )
        self.group.start(
            "rasa",
            [
                sys.executable,
                "-m",
                "rasa",
                "run",
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
            ],
            self.project,
            self.env,
        )
        return started

    def stop(self) -> None:
        """Stop both servers."""
        self.group.stop()
