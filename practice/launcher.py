"""Starts every process of the assistant, trains first when the model is missing or stale.

`python -m practice.launcher run`   train if needed, start all, stop all on Ctrl-C
`python -m practice.launcher train` train if needed (`--force` to train anyway)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

from practice.settings import PROJECT_ROOT, Settings, get_settings

MODEL_NAME = "current"
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "practice/nlu", "build/spacy-en/meta.json")


def model_path(settings: Settings) -> Path:
    """Where the served model lives."""
    return settings.model_dir / f"{MODEL_NAME}.tar.gz"


def training_fingerprint(root: Path = PROJECT_ROOT, inputs: Iterable[str] = TRAINING_INPUTS) -> str:
    """A hash of every file training reads, so a changed file means a stale model."""
    digest = hashlib.sha256()
    for name in inputs:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".pyc" or not file.exists():
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _fingerprint_file(settings: Settings) -> Path:
    return settings.model_dir / f"{MODEL_NAME}.fingerprint"


def model_is_stale(settings: Settings) -> bool:
    """True when there is no model or its training inputs changed since it was trained."""
    stamp = _fingerprint_file(settings)
    if not model_path(settings).exists() or not stamp.exists():
        return True
    return stamp.read_text().strip() != training_fingerprint()


def process_environment(settings: Settings, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment every child process gets: quiet, private, single-threaded maths."""
    env = dict(os.environ)
    env.update(
        {
            # A health practice sends nothing to third parties.
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            # One request at a time per process: extra maths threads only contend.
            "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1"),
            "OPENBLAS_NUM_THREADS": env.get("OPENBLAS_NUM_THREADS", "1"),
            "MKL_NUM_THREADS": env.get("MKL_NUM_THREADS", "1"),
            "ACTION_SERVER_URL": settings.action_server_url,
        }
    )
    env.update(extra or {})
    return env


def train_command(out_dir: Path | str, model_name: str, data: Path | str = "data") -> List[str]:
    """The one `rasa train` command line: every training (make train, retrain, tests, bench).

    It runs through practice.runtime, which imports skops before TensorFlow: a quarter less
    CPU for the same model (practice/performance.py). Run it in the project folder.
    """
    return [
        sys.executable, "-m", "practice.runtime", "train",
        "--config", "config.yml", "--domain", "domain.yml", "--data", str(data),
        "--out", str(out_dir), "--fixed-model-name", model_name,
    ]


def train(settings: Settings, force: bool = False) -> bool:
    """Train when the model is missing or stale; returns True if it trained."""
    if not force and not model_is_stale(settings):
        print(f"Model is up to date: {model_path(settings)}")
        return False
    print("Training the assistant (the model is missing or its data changed) ...", flush=True)
    fingerprint = training_fingerprint()
    started = time.monotonic()
    subprocess.run(
        train_command(settings.model_dir, MODEL_NAME),
        cwd=PROJECT_ROOT,
        env=process_environment(settings),
        check=True,
    )
    _fingerprint_file(settings).write_text(fingerprint + "\n")
    print(f"Trained in {time.monotonic() - started:.0f} s: {model_path(settings)}")
    return True


@dataclass
class Service:
    """One child process and the URL that answers once it is ready."""

    name: str
    argv: Sequence[str]
    ready_url: str
    env: Dict[str, str] = field(default_factory=dict)
    process: Optional[subprocess.Popen] = None

    def start(self, log_dir: Optional[Path]) -> None:
        """Start the process, its output to the terminal or to `log_dir/<name>.log`."""
        output = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            output = open(log_dir / f"{self.name}.log", "ab")  # noqa: SIM115 - kept with the process
        self.process = subprocess.Popen(
            list(self.argv),
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )

    def is_ready(self) -> bool:
        """True once the ready URL answers."""
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def services(settings: Settings, env: Mapping[str, str], only: Optional[Iterable[str]] = None) -> List[Service]:
    """Every process of the assistant, in start order."""
    python = sys.executable
    loopback = "127.0.0.1"
    rasa_host = loopback if settings.rasa_host in ("0.0.0.0", "") else settings.rasa_host
    all_services = [
        Service(
            "actions",
            [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_server_port)],
            f"http://{settings.action_server_host}:{settings.action_server_port}/health",
            {**env, "SANIC_HOST": settings.action_server_host},
        ),
        Service(
            "rasa",
            [
                # `rasa run` with the action timeout capped and no silent in-memory
                # fallback for the tracker store (practice/runtime.py).
                python, "-m", "practice.runtime", "run",
                "--model", str(model_path(settings)),
                "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                "--interface", settings.rasa_host, "--port", str(settings.rasa_port),
                "--cors", *settings.allowed_origins,
            ],
            f"http://{rasa_host}:{settings.rasa_port}/",
            dict(env),
        ),
    ]
    for module, name, host, port in (
        ("practice.website", "website", settings.website_host, settings.website_port),
        ("practice.console", "console", settings.console_host, settings.console_port),
    ):
        if (PROJECT_ROOT / module.replace(".", "/")).exists() or (
            PROJECT_ROOT / (module.replace(".", "/") + ".py")
        ).exists():
            all_services.append(Service(name, [python, "-m", module], f"http://{host}:{port}/", dict(env)))
    wanted = set(only) if only else None
    return [s for s in all_services if wanted is None or s.name in wanted]


class Stack:
    """The running processes, started together and stopped together."""

    def __init__(self, settings: Settings, extra_env: Optional[Mapping[str, str]] = None,
                 only: Optional[Iterable[str]] = None, log_dir: Optional[Path] = None) -> None:
        """Describe the stack; nothing starts until `start()`."""
        self.settings = settings
        self.log_dir = log_dir
        self.services = services(settings, process_environment(settings, extra_env), only)

    def start(self, timeout: float = 180.0) -> None:
        """Start every service and wait until each answers, or raise."""
        for service in self.services:
            service.start(self.log_dir)
        deadline = time.monotonic() + timeout
        for service in self.services:
            while not service.is_ready():
                if service.process is not None and service.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{service.name} exited with code {service.process.returncode}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{service.name} did not answer at {service.ready_url}")
                time.sleep(0.25)

    def stop(self) -> None:
        """Stop every service, last started first."""
        for service in reversed(self.services):
            service.stop()

    def wait(self) -> int:
        """Block until a service exits; return its exit code."""
        while True:
            for service in self.services:
                if service.process is not None and service.process.poll() is not None:
                    print(f"{service.name} exited with code {service.process.returncode}")
                    return service.process.returncode or 1
            time.sleep(0.5)


def _announce_first_account(settings: Settings, stack: "Stack") -> None:
    """Create the console's first account on a fresh database and say how to sign in."""
    if not any(s.name == "console" for s in stack.services):
        return
    from practice.console.accounts import ensure_first_account

    created = ensure_first_account(settings)
    if created is not None:
        username, password = created
        print(f"  First console account (staff): {username} / {password}")
        print("  Change it: python -m practice.console.accounts set-password --username admin")


def run(settings: Settings) -> int:
    """Train if needed, start everything, print where to talk to it, stop on Ctrl-C."""
    train(settings)
    stack = Stack(settings)
    print("Starting: " + ", ".join(s.name for s in stack.services) + " ...", flush=True)
    started = time.monotonic()
    try:
        stack.start()
        public = "localhost" if settings.rasa_host in ("0.0.0.0", "") else settings.rasa_host
        print(f"\nReady in {time.monotonic() - started:.0f} s.")
        print(f"  REST channel:   http://{public}:{settings.rasa_port}/webhooks/rest/webhook")
        for service in stack.services:
            if service.name in ("website", "console"):
                label = "Demo website:" if service.name == "website" else "Coach console:"
                print(f"  {label:<15} {service.ready_url}")
        _announce_first_account(settings, stack)
        print("Press Ctrl-C to stop.", flush=True)
        return stack.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C or SIGTERM (a supervisor and `timeout` both signalling) must not
        # cut the shutdown short and leave servers running without their launcher.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nStopping ...", flush=True)
        stack.stop()


def serve(settings: Settings, name: str) -> int:
    """Replace this process with one service, same command and environment as in `run`.

    deploy/docker-compose.yml runs each service this way, so production starts exactly
    what `make run` and the loopback topology (practice/topology.py) start.
    """
    chosen = services(settings, process_environment(settings), only=[name])
    if not chosen:
        print(f"{name} is not part of this checkout", file=sys.stderr)
        return 2
    service = chosen[0]
    os.chdir(PROJECT_ROOT)
    os.execvpe(service.argv[0], list(service.argv), service.env)
    return 0  # not reached


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m practice.launcher", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="train if needed, then start every process")
    train_parser = sub.add_parser("train", help="train if the model is missing or stale")
    train_parser.add_argument("--force", action="store_true", help="train even if up to date")
    serve_parser = sub.add_parser(
        "serve", help="run one service in the foreground, as `run` would (one per container)"
    )
    serve_parser.add_argument("service", choices=["actions", "rasa", "website", "console"])
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "train":
        train(settings, force=args.force)
        return 0
    if args.command == "serve":
        return serve(settings, args.service)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
