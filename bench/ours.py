"""Our production path as `make run` starts it: the launcher's stack on free loopback ports."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, Mapping, Sequence

from bench.processes import cpu_of, free_port, pss_of
from practice.launcher import MODEL_NAME, Stack, process_environment, train_command
from practice.settings import PROJECT_ROOT, Settings, load_settings

BENCH_APPLICATION_URL = "https://apply.bench-practice.example/coaching"


def stack_environment(workdir: Path, **overrides: str) -> Dict[str, str]:
    """Free ports, a fresh SQLite tracker store and the model trained by the benchmark."""
    env = {
        "COACHING_APPLICATION_URL": BENCH_APPLICATION_URL,
        "DATABASE_URL": f"sqlite:///{workdir / 'conversations.db'}",
        "RASA_HOST": "127.0.0.1",
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "WEBSITE_PORT": str(free_port()),
        "CONSOLE_PORT": str(free_port()),
        "MODEL_DIR": str(workdir / "models"),
        # Every simulated visitor comes from 127.0.0.1: the per-client limit would refuse
        # the load itself. The per-sender limit stays as configured (ten messages a sender).
        "RATE_LIMIT_PER_CLIENT": "0",
    }
    env.update(overrides)
    return env


def _train(settings: Settings, env: Mapping[str, str], data: Path, log: Path) -> float:
    """One `rasa train` as the launcher runs it; returns seconds."""
    started = time.perf_counter()
    with log.open("ab") as output:
        subprocess.run(
            train_command(settings.model_dir, MODEL_NAME, data),  # as the launcher trains
            cwd=PROJECT_ROOT,
            env=process_environment(settings, env),
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
        )
    return time.perf_counter() - started


def add_nlu_example(data_dir: Path) -> Path:
    """Add one training example to the first intent of the first NLU file; returns the file."""
    for path in sorted(data_dir.rglob("*.yml")):
        text = path.read_text(encoding="utf-8")
        match = re.search(r"^(\s*)examples: \|\n(\s*)- ", text, re.MULTILINE)
        if match and re.search(r"^nlu:", text, re.MULTILINE):
            indent = match.group(2)
            insert_at = match.end(1) + len("examples: |\n")
            extra = f"{indent}- could you tell me a bit more about that please\n"
            path.write_text(text[:insert_at] + extra + text[insert_at:], encoding="utf-8")
            return path
    raise FileNotFoundError(f"no NLU examples under {data_dir}")


class OurAssistant:
    """Train from scratch and after an NLU-only change (timed), then serve with the launcher."""

    def __init__(
        self,
        workdir: Path,
        extra_env: Mapping[str, str] | None = None,
        only: Sequence[str] | None = None,
    ) -> None:
        """Everything the benchmark writes lives under `workdir`; `only` limits the services."""
        self.workdir = workdir
        self.only = list(only) if only else None
        self.env = stack_environment(workdir, **dict(extra_env or {}))
        self.settings = load_settings(self.env)
        self.stack: Stack | None = None
        self.train_seconds = 0.0
        self.retrain_seconds = 0.0

    @property
    def url(self) -> str:
        """The REST channel."""
        return f"http://127.0.0.1:{self.settings.rasa_port}/webhooks/rest/webhook"

    def train_both(self) -> Dict[str, float]:
        """Full training with an empty cache, then retraining after one new NLU example."""
        cache = self.workdir / "rasa-cache"
        env = {**self.env, "RASA_CACHE_DIRECTORY": str(cache)}
        log = self.workdir / "train.log"
        self.train_seconds = _train(self.settings, env, PROJECT_ROOT / "data", log)
        changed = self.workdir / "data-nlu-changed"
        shutil.copytree(PROJECT_ROOT / "data", changed)
        add_nlu_example(changed)
        retrain_settings = load_settings({**self.env, "MODEL_DIR": str(self.workdir / "retrained")})
        self.retrain_seconds = _train(retrain_settings, env, changed, log)
        return {"train": self.train_seconds, "retrain_nlu": self.retrain_seconds}

    def use_model(self, model: Path) -> None:
        """Serve an existing model instead of training one."""
        (self.workdir / "models").mkdir(parents=True, exist_ok=True)
        shutil.copy(model, self.workdir / "models" / f"{MODEL_NAME}.tar.gz")

    def start(self) -> float:
        """Start the stack as `make run` does; returns the perf_counter when it began."""
        self.stack = Stack(self.settings, extra_env=self.env, only=self.only, log_dir=self.workdir / "logs")
        started = time.perf_counter()
        for service in self.stack.services:
            service.start(self.stack.log_dir)
        return started

    def pids(self) -> Dict[str, int]:
        """Service name to root pid."""
        if self.stack is None:
            return {}
        return {
            s.name: s.process.pid for s in self.stack.services if s.process is not None and s.process.poll() is None
        }

    def memory(self) -> Dict[str, float]:
        """Service name to tree PSS in MB, plus `total`."""
        return pss_of(self.pids())

    def cpu(self) -> Dict[str, float]:
        """Service name to tree CPU seconds, plus `total`."""
        return cpu_of(self.pids())

    def stop(self) -> None:
        """Stop every service."""
        if self.stack is not None:
            self.stack.stop()
