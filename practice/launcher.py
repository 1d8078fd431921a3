"""Starts every process of the assistant, trains first when the model is missing or stale.

`python -m practice.launcher run`     train if needed, start all, keep them running
                                      (practice/supervisor.py), stop all on Ctrl-C/SIGTERM
`python -m practice.launcher train`   train if needed (`--force` to train anyway)
`python -m practice.launcher status`  each process's state and restarts (`make status`)
`python -m practice.launcher health SERVICE`  exit 0 if it answers (container health checks)
`python -m practice.launcher serve SERVICE`   become one service (one per container)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from practice.processes import command_line, is_alive, pdeathsig_preexec, port_is_free, port_owner
from practice.rasa_runtime import rasa_command
from practice.settings import PROJECT_ROOT, Settings, SettingsError, get_settings
from practice.supervisor import Supervisor

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

    It runs through practice.rasa_runtime, which imports skops before TensorFlow: a quarter less
    CPU for the same model (practice/rasa_runtime/performance.py). Run it in the project folder.
    """
    return rasa_command(
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        str(data),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        model_name,
    )


def train(
    settings: Settings,
    force: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    log_file: Optional[Path] = None,
) -> bool:
    """Train when the model is missing or stale; returns True if it trained.

    `should_stop` is polled while training runs: when it turns true the training process
    is stopped and False returned (the launcher's SIGINT/SIGTERM). With `log_file`, the
    training's own output goes there (`make run` keeps its terminal to one screen) and
    its last lines are printed only if it fails.
    """
    if not force and not model_is_stale(settings):
        print(f"Model is up to date: {model_path(settings)}")
        return False
    where = f" (its output: {log_file})" if log_file else ""
    print(f"Training the assistant (the model is missing or its data changed){where} ...", flush=True)
    fingerprint = training_fingerprint()
    started = time.monotonic()
    output = None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        output = log_file.open("wb")
    try:
        process = subprocess.Popen(
            train_command(settings.model_dir, MODEL_NAME),
            cwd=PROJECT_ROOT,
            env=process_environment(settings),
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            preexec_fn=pdeathsig_preexec(),  # only prctl runs in the child
            start_new_session=True,
        )
    finally:
        if output is not None:
            output.close()
    while process.poll() is None:
        if should_stop():
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            return False
        time.sleep(0.2)
    if process.returncode != 0:
        if log_file is not None:
            tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            print("\n".join(tail))
        raise subprocess.CalledProcessError(process.returncode, process.args)
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
    # Killed by the kernel when the process that started it dies (PR_SET_PDEATHSIG).
    # `make topology-up` starts processes meant to outlive it: False there.
    die_with_parent: bool = True

    def start(self, log_dir: Optional[Path]) -> None:
        """Start the process, its output to the terminal or to `log_dir/<name>.log`."""
        output = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            output = open(log_dir / f"{self.name}.log", "ab")  # noqa: SIM115 - kept with the process
        try:
            self.process = subprocess.Popen(
                list(self.argv),
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                # Its own process group (Ctrl-C reaches the launcher only, which stops
                # them in order), and killed by the kernel if the launcher dies.
                start_new_session=True,
                preexec_fn=pdeathsig_preexec() if self.die_with_parent else None,
            )
        finally:
            if output is not None:
                output.close()  # the child holds its own copy

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
            # practice.quiet: `python -m rasa_sdk ...` without library deprecation warnings.
            [
                python,
                "-m",
                "practice.quiet",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(settings.action_server_port),
            ],
            f"http://{settings.action_server_host}:{settings.action_server_port}/health",
            {**env, "SANIC_HOST": settings.action_server_host},
        ),
        Service(
            "rasa",
            # `rasa run` with the action timeout capped and no silent in-memory
            # fallback for the tracker store (practice/rasa_runtime/).
            rasa_command(
                "run",
                "--model",
                str(model_path(settings)),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--interface",
                settings.rasa_host,
                "--port",
                str(settings.rasa_port),
                "--cors",
                *settings.allowed_origins,
            ),
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
            all_services.append(
                Service(name, [python, "-m", "practice.quiet", module], f"http://{host}:{port}/", dict(env))
            )
    wanted = set(only) if only else None
    return [s for s in all_services if wanted is None or s.name in wanted]


class Stack:
    """The running processes, started together and stopped together."""

    def __init__(
        self,
        settings: Settings,
        extra_env: Optional[Mapping[str, str]] = None,
        only: Optional[Iterable[str]] = None,
        log_dir: Optional[Path] = None,
        die_with_parent: bool = True,
    ) -> None:
        """Describe the stack; nothing starts until `start()`."""
        self.settings = settings
        self.log_dir = log_dir
        self.services = services(settings, process_environment(settings, extra_env), only)
        for service in self.services:
            service.die_with_parent = die_with_parent

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


def _announce_first_account(settings: Settings, service_names: Iterable[str]) -> None:
    """Create the console's first account on a fresh database and say how to sign in."""
    if "console" not in service_names:
        return
    from practice.console.accounts import ensure_first_account

    try:
        created = ensure_first_account(settings)
    except Exception as error:  # noqa: BLE001 - said plainly; the assistant keeps serving
        print(f"  Could not create the first console account: {error}")
        return
    if created is not None:
        username, password = created
        print(f"  First console account (staff): {username} / {password}")
        print("  Change it: python -m practice.console.accounts set-password --username admin")


# Which setting moves each service's port, for the "port taken" message.
PORT_SETTINGS = {
    "actions": "ACTION_SERVER_PORT",
    "rasa": "RASA_PORT",
    "website": "WEBSITE_PORT",
    "console": "CONSOLE_PORT",
}


def service_address(settings: Settings, name: str) -> tuple:
    """(host, port) a service listens on."""
    return {
        "actions": (settings.action_server_host, settings.action_server_port),
        "rasa": (settings.rasa_host or "0.0.0.0", settings.rasa_port),
        "website": (settings.website_host, settings.website_port),
        "console": (settings.console_host, settings.console_port),
    }[name]


def taken_ports(settings: Settings, names: Iterable[str]) -> List[str]:
    """One line per port a service needs that something else already listens on."""
    problems = []
    for name in names:
        host, port = service_address(settings, name)
        if port_is_free(host, port):
            continue
        pid = port_owner(port)
        if pid is None:
            who = "a process this user cannot see (try: sudo ss -ltnp)"
        else:
            who = f"pid {pid}: {command_line(pid)[:160] or '?'}"
        problems.append(f"  port {port} ({name}, {PORT_SETTINGS[name]}) is taken by {who}")
    return problems


class _StopRequest:
    """SIGINT and SIGTERM only set a flag; the launcher's loops look at it."""

    def __init__(self) -> None:
        self.signal: Optional[int] = None

    def __call__(self, signum: int, _frame: Any) -> None:
        if self.signal is None:
            self.signal = signum

    def __bool__(self) -> bool:
        return self.signal is not None

    def install(self) -> None:
        signal.signal(signal.SIGINT, self)
        signal.signal(signal.SIGTERM, self)

    @staticmethod
    def ignore_from_now_on() -> None:
        """Everything is stopped: a late SIGINT or SIGTERM can only interrupt Python's exit.

        While the interpreter shuts down it puts back the default handlers it replaced, so a
        second signal from an impatient operator or supervisor in that window killed the
        launcher (exit code -15 after "Stopped."). Ignored signals are left as they are.
        """
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _print_ready(settings: Settings, supervisor: Supervisor, started: float) -> None:
    public = "localhost" if settings.rasa_host in ("0.0.0.0", "") else settings.rasa_host
    print(f"\nReady in {time.monotonic() - started:.0f} s.")
    print(f"  REST channel:   http://{public}:{settings.rasa_port}/webhooks/rest/webhook")
    for entry in supervisor.entries:
        if entry.service.name in ("website", "console"):
            label = "Demo website:" if entry.service.name == "website" else "Coach console:"
            print(f"  {label:<15} {entry.service.ready_url}")
        if entry.state == "failing":
            print(f"  {entry.service.name} is NOT running ({entry.last_exit}); retrying.")
    _announce_first_account(settings, [e.service.name for e in supervisor.entries])
    print(f"  Status: make status ({settings.status_file})")
    print("Press Ctrl-C to stop.", flush=True)


def run(settings: Settings, stop: Optional[_StopRequest] = None) -> int:
    """Train if needed, start everything, keep it running, stop on SIGINT or SIGTERM.

    Exit codes: 0 after a requested stop, 1 when the Rasa server cannot start (or training
    failed), 2 when a port is taken.
    """
    stop = stop if stop is not None else _StopRequest()
    names = [s.name for s in services(settings, {})]
    problems = taken_ports(settings, names)
    if problems:
        print("Cannot start: a port is in use.\n" + "\n".join(problems))
        print(
            "Stop that process (an earlier `make run`? see `make status`) or set the "
            "variable named above, then run again.",
            flush=True,
        )
        return 2
    supervisor: Optional[Supervisor] = None
    code = 0
    try:
        try:
            train(settings, should_stop=lambda: bool(stop), log_file=settings.status_file.with_name("train.log"))
        except subprocess.CalledProcessError as error:
            print(f"Training failed (exit code {error.returncode}); its output is above.")
            code = 1
            return code
        if stop:
            return 0
        supervisor = Supervisor(
            services(settings, process_environment(settings)),
            status_file=settings.status_file,
            say=lambda line: print(line, flush=True),
            watch_workers=settings.rasa_workers > 1,
        )
        print("Starting: " + ", ".join(e.service.name for e in supervisor.entries) + " ...", flush=True)
        started = time.monotonic()
        supervisor.start()
        announced = False
        while not stop:
            supervisor.tick()
            if supervisor.fatal:
                code = 1
                break
            if not announced and supervisor.settled():
                supervisor.state = "running"
                _print_ready(settings, supervisor, started)
                announced = True
            time.sleep(0.25)
        return code
    finally:
        why = " (the Rasa server cannot start)" if supervisor is not None and supervisor.fatal else ""
        print(f"\nStopping{why} ...", flush=True)
        if supervisor is not None:
            supervisor.stop()
        print("Stopped.", flush=True)


def status(settings: Settings) -> int:
    """Print what the status file says; 0 if the launcher is running, 3 if not."""
    path = settings.status_file
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"No status at {path}: `make run` has not run here (or RUN_STATUS_FILE differs).")
        return 3
    launcher = report.get("launcher", {})
    pid = launcher.get("pid")
    alive = bool(pid) and is_alive(pid) and "practice.launcher" in command_line(pid)
    if alive:
        print(f"Launcher: {launcher.get('state')} (pid {pid}, since {launcher.get('since')})")
    else:
        print(f"Launcher: not running (was pid {pid}; last update {launcher.get('updated')})")
    print(f"  {'service':<9} {'state':<9} {'pid':>7} {'restarts':>8}  {'since':<25} last exit")
    for entry in report.get("services", []):
        state = entry.get("state") if alive else "stopped"
        last = entry.get("last_exit") or "-"
        if entry.get("last_exit_at"):
            last += f" at {entry['last_exit_at']}"
        print(
            f"  {entry.get('name', '?'):<9} {state:<9} {entry.get('pid') or '-':>7} "
            f"{entry.get('restarts', 0):>8}  {entry.get('since') or '-':<25} {last}"
        )
        if alive and entry.get("workers"):
            pids = ", ".join(str(w) for w in entry["workers"])
            print(f"  {'':<9} workers: {pids}; {entry.get('worker_restarts', 0)} replaced")
    return 0 if alive else 3


def health(settings: Settings, name: str) -> int:
    """Exit 0 if the named service answers on its ready URL (a container health check)."""
    chosen = services(settings, {}, only=[name])
    if not chosen:
        return 1
    # A service listening on every interface (in a container) is checked on loopback.
    chosen[0].ready_url = chosen[0].ready_url.replace("//0.0.0.0:", "//127.0.0.1:")
    return 0 if chosen[0].is_ready() else 1


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


SERVICE_NAMES = ["actions", "rasa", "website", "console"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point."""
    stop = _StopRequest()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["run"]:
        stop.install()  # first: a signal at any later moment is an orderly stop
    parser = argparse.ArgumentParser(prog="python -m practice.launcher", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="train if needed, then start every process and keep it running")
    train_parser = sub.add_parser("train", help="train if the model is missing or stale")
    train_parser.add_argument("--force", action="store_true", help="train even if up to date")
    sub.add_parser("status", help="each process's state and restarts (from RUN_STATUS_FILE)")
    health_parser = sub.add_parser("health", help="exit 0 if the service answers")
    health_parser.add_argument("service", choices=SERVICE_NAMES)
    serve_parser = sub.add_parser("serve", help="run one service in the foreground, as `run` would (one per container)")
    serve_parser.add_argument("service", choices=SERVICE_NAMES)
    args = parser.parse_args(args_list)
    try:
        settings = get_settings()
    except SettingsError as bad:
        print(f"Settings: {bad}", file=sys.stderr)
        return 2
    if args.command == "train":
        train(settings, force=args.force)
        return 0
    if args.command == "status":
        return status(settings)
    if args.command == "health":
        return health(settings, args.service)
    if args.command == "serve":
        return serve(settings, args.service)
    try:
        return run(settings, stop)
    finally:
        stop.ignore_from_now_on()  # stopped: what is left is Python's exit


if __name__ == "__main__":
    sys.exit(main())
