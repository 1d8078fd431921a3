"""The production topology on this machine's loopback, from Debian packages.

nginx (TLS, rate limits, body size, origin allow-list) in front of two or more Rasa
servers, Redis for the conversation locks, PostgreSQL for the conversations, the action
server, the console and the website: the shape of deploy/docker-compose.yml, with the
nginx configuration rendered from the same template as deploy/nginx.conf.

    python -m practice.topology up [--rasa N]   start it all, print the addresses, return
    python -m practice.topology status          what runs, and where
    python -m practice.topology down            stop everything `up` started
    python -m practice.topology render-deploy   write deploy/nginx.conf from deploy/edge.yml

Needs the Debian packages nginx, redis-server, postgresql and openssl, and a trained
model (`make train`). Everything listens on 127.0.0.1; state and logs live in
var/topology/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence

import yaml

from practice.launcher import Service, Stack, model_path
from practice.settings import PROJECT_ROOT, load_settings

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.template"
EDGE_FILE = PROJECT_ROOT / "deploy" / "edge.yml"
DEPLOY_NGINX = PROJECT_ROOT / "deploy" / "nginx.conf"
DEFAULT_DIR = PROJECT_ROOT / "var" / "topology"
POSTGRES_SCRIPT = PROJECT_ROOT / "scripts" / "postgres.sh"
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")


@dataclass(frozen=True)
class Edge:
    """Everything that differs between the production edge and the loopback one."""

    server_name: str
    http_listen: str
    https_listen: str
    https_redirect_port: str
    tls_certificate: str
    tls_certificate_key: str
    rasa_servers: Sequence[str]
    website_server: str
    allowed_origins: Sequence[str]
    worker_processes: str = "auto"
    pid_file: str = "/tmp/nginx.pid"
    error_log: str = "/dev/stderr"
    access_log: str = "/dev/stdout"
    temp_dir: str = "/tmp/nginx"

    @classmethod
    def from_file(cls, path: Path = EDGE_FILE) -> Edge:
        """The production edge described in deploy/edge.yml."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        fields: Dict[str, Any] = {key: tuple(v) if isinstance(v, list) else str(v) for key, v in data.items()}
        return cls(**fields)


def render_nginx(edge: Edge, template: Path = TEMPLATE) -> str:
    """The nginx configuration for `edge`: the template with every ${name} filled."""
    values = {key: str(value) for key, value in asdict(edge).items()}
    values["rasa_servers"] = "\n".join(
        f"        server {server} max_fails=1 fail_timeout=5s;" for server in edge.rasa_servers
    )
    values["allowed_origins"] = "\n".join(f'        "{origin}" 1;' for origin in edge.allowed_origins)

    def fill(match: re.Match) -> str:
        return values[match.group(1)]  # a KeyError names a placeholder without a value

    return _PLACEHOLDER.sub(fill, template.read_text(encoding="utf-8"))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Ports:
    """Where each part listens (all on 127.0.0.1)."""

    https: int = 8443
    http: int = 8080
    rasa: List[int] = field(default_factory=lambda: [5105, 5106])
    actions: int = 5155
    website: int = 8100
    console: int = 8101
    redis: int = 6390
    postgres: int = 54339

    @classmethod
    def free(cls, rasa_processes: int = 2) -> Ports:
        """Free ports for everything (tests)."""
        return cls(
            free_port(),
            free_port(),
            [free_port() for _ in range(rasa_processes)],
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        )


class Topology:
    """Start and stop the whole topology; remembers what it started in `state.json`."""

    def __init__(
        self,
        directory: Path = DEFAULT_DIR,
        ports: Ports | None = None,
        application_url: str | None = None,
        extra_env: Dict[str, str] | None = None,
    ) -> None:
        """Describe the topology; nothing starts until `up()`. `extra_env` adds settings
        for every process (tests turn the per-sender limit off for their bursts)."""
        self.directory = directory
        self.ports = ports or Ports()
        self.application_url = application_url
        self.extra_env = dict(extra_env or {})
        self.state_file = directory / "state.json"
        self.log_dir = directory / "logs"
        self.services: Dict[str, Service] = {}
        self.database_url = ""

    # -- addresses -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The public entry: nginx with TLS."""
        return f"https://localhost:{self.ports.https}"

    @property
    def certificate(self) -> Path:
        """The self-signed certificate nginx presents (trust it as a CA in clients)."""
        return self.directory / "tls" / "cert.pem"

    @property
    def redis_url(self) -> str:
        """The lock store."""
        return f"redis://127.0.0.1:{self.ports.redis}/1"

    def website_origins(self) -> List[str]:
        """Origins the widget may be embedded from here."""
        return [
            f"http://localhost:{self.ports.website}",
            f"http://127.0.0.1:{self.ports.website}",
            f"https://localhost:{self.ports.https}",
            f"https://127.0.0.1:{self.ports.https}",
        ]

    def edge(self) -> Edge:
        """The loopback edge: same template as production, local addresses and files."""
        nginx_dir = self.directory / "nginx"
        return Edge(
            server_name="localhost",
            http_listen=f"127.0.0.1:{self.ports.http}",
            https_listen=f"127.0.0.1:{self.ports.https}",
            https_redirect_port=f":{self.ports.https}",
            tls_certificate=str(self.certificate),
            tls_certificate_key=str(self.directory / "tls" / "key.pem"),
            rasa_servers=tuple(f"127.0.0.1:{port}" for port in self.ports.rasa),
            website_server=f"127.0.0.1:{self.ports.website}",
            allowed_origins=tuple(self.website_origins()),
            worker_processes="1",
            pid_file=str(nginx_dir / "nginx.pid"),
            error_log=str(self.log_dir / "nginx-error.log"),
            access_log=str(self.log_dir / "nginx-access.log"),
            temp_dir=str(nginx_dir / "temp"),
        )

    def environment(self) -> Dict[str, str]:
        """Settings every process of the topology shares."""
        env = {
            "DATABASE_URL": self.database_url,
            "LOCK_STORE_URL": self.redis_url,
            # nginx spreads visitors over separate Rasa processes, one worker each.
            "RASA_WORKERS": "1",
            "RASA_HOST": "127.0.0.1",
            "ACTION_SERVER_HOST": "127.0.0.1",
            "ACTION_SERVER_PORT": str(self.ports.actions),
            "WEBSITE_HOST": "127.0.0.1",
            "WEBSITE_PORT": str(self.ports.website),
            "CONSOLE_HOST": "127.0.0.1",
            "CONSOLE_PORT": str(self.ports.console),
            "ALLOWED_ORIGINS": ",".join(self.website_origins()),
            "CHAT_SERVER_URL": self.base_url,
        }
        if self.application_url:
            env["COACHING_APPLICATION_URL"] = self.application_url
        env.update(self.extra_env)
        return env

    # -- starting ----------------------------------------------------------------------
    def up(self, timeout: float = 240.0) -> None:
        """Start PostgreSQL, Redis, the action server, the Rasa servers, the console, the
        website and nginx, each once it can be reached; on failure stop what started."""
        for tool in ("nginx", "redis-server", "openssl"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed: make system-deps")
        if not model_path(load_settings(self.environment())).exists():
            raise RuntimeError("No trained model: run `make train` first")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.database_url = self._postgres("start")
            self._save()
            self._start_redis()
            self._start_services(timeout)
            self._start_nginx()
        except BaseException:
            self.down()
            raise
        self._save()

    def _postgres(self, command: str) -> str:
        env = {
            **os.environ,
            "POSTGRES_DIR": str(self.directory / "postgres"),
            "POSTGRES_PORT": str(self.ports.postgres),
        }
        done = subprocess.run(
            [str(POSTGRES_SCRIPT), command, "practice"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def stop_postgres(self) -> None:
        """Stop the database, keeping its data (for outage tests)."""
        self._postgres("stop")

    def start_postgres(self) -> None:
        """Start the database again."""
        self._postgres("start")

    def _start_redis(self) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        self._spawn(
            "redis",
            [
                binary,
                "--port",
                str(self.ports.redis),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            self.ports.redis,
        )

    def stop_redis(self) -> None:
        """Stop the lock store (for outage tests)."""
        self.services["redis"].stop()

    def start_redis(self) -> None:
        """Start the lock store again."""
        self._start_redis()

    def _spawn(self, name: str, argv: List[str], port: int) -> None:
        service = Service(
            name, argv, f"tcp://127.0.0.1:{port}", dict(os.environ), die_with_parent=False
        )  # `up` returns, they stay (`down` stops them)
        service.start(self.log_dir)
        self.services[name] = service
        _wait_for_port(port, service, timeout=30)

    def _start_services(self, timeout: float) -> None:
        names = ["actions", "rasa", "console", "website"]
        settings = load_settings(self.environment())
        # The launcher's own command for each (the same as `make run` and the containers).
        # They outlive `topology up`, which returns; `topology down` stops them.
        base = Stack(
            settings,
            extra_env=self.environment(),
            only=[n for n in names if n != "rasa"],
            log_dir=self.log_dir,
            die_with_parent=False,
        )
        rasa = []
        for index, port in enumerate(self.ports.rasa, start=1):
            env = {**self.environment(), "RASA_PORT": str(port)}
            stack = Stack(load_settings(env), extra_env=env, only=["rasa"], log_dir=self.log_dir, die_with_parent=False)
            stack.services[0].name = f"rasa-{index}"
            rasa.extend(stack.services)
        order = (
            [s for s in base.services if s.name == "actions"] + rasa + [s for s in base.services if s.name != "actions"]
        )
        for service in order:
            service.start(self.log_dir)
            self.services[service.name] = service
        deadline = time.monotonic() + timeout
        for service in order:
            while not service.is_ready():
                if service.process is not None and service.process.poll() is not None:
                    raise RuntimeError(f"{service.name} exited; see {self.log_dir}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service.name} did not answer at {service.ready_url}")
                time.sleep(0.5)

    def _certificate(self) -> None:
        tls = self.certificate.parent
        if self.certificate.exists():
            return
        tls.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                str(tls / "key.pem"),
                "-out",
                str(self.certificate),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def nginx_config(self) -> Path:
        """Render the loopback nginx configuration (and its certificate) to disk."""
        self._certificate()
        config = self.directory / "nginx" / "nginx.conf"
        (self.directory / "nginx" / "temp").mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        config.write_text(render_nginx(self.edge()), encoding="utf-8")
        return config

    def _start_nginx(self) -> None:
        config = self.nginx_config()
        binary = shutil.which("nginx") or "nginx"
        subprocess.run([binary, "-t", "-q", "-c", str(config)], check=True, capture_output=True, timeout=30)
        self._spawn("nginx", [binary, "-c", str(config), "-g", "daemon off;"], self.ports.https)

    # -- restarting one part ------------------------------------------------------------
    def stop_service(self, name: str) -> None:
        """Stop one process (e.g. `rasa-1`, `actions`)."""
        self.services[name].stop()

    def start_service(self, name: str, timeout: float = 180.0) -> None:
        """Start one stopped process again and wait until it answers."""
        service = self.services[name]
        service.start(self.log_dir)
        deadline = time.monotonic() + timeout
        while not service.is_ready():
            if service.process is not None and service.process.poll() is not None:
                raise RuntimeError(f"{name} exited; see {self.log_dir}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not come back")
            time.sleep(0.5)

    # -- stopping ----------------------------------------------------------------------
    def down(self) -> None:
        """Stop every process `up` started (also from a state file of an earlier run)."""
        pids = {name: s.process.pid for name, s in self.services.items() if s.process}
        if not pids and self.state_file.exists():
            state = json.loads(self.state_file.read_text())
            pids = state.get("pids", {})
            self.ports = Ports(**state.get("ports", {}))
        for name in reversed(list(pids)):
            _stop_group(pids[name], name)
        if (self.directory / "postgres").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._postgres("stop")
        self.services.clear()
        if self.state_file.exists():
            self.state_file.unlink()

    def _save(self) -> None:
        state = {
            "pids": {n: s.process.pid for n, s in self.services.items() if s.process},
            "ports": asdict(self.ports),
            "database_url": self.database_url,
            "base_url": self.base_url,
        }
        self.state_file.write_text(json.dumps(state, indent=2))

    def describe(self) -> str:
        """Where everything is, for the operator."""
        return "\n".join(
            [
                f"  Chat (nginx, TLS):  {self.base_url}/webhooks/rest/webhook  (certificate: {self.certificate})",
                "  Rasa servers:       " + ", ".join(f"127.0.0.1:{p}" for p in self.ports.rasa),
                f"  Action server:      127.0.0.1:{self.ports.actions}",
                f"  Console:            http://127.0.0.1:{self.ports.console}/",
                f"  Website:            http://127.0.0.1:{self.ports.website}/",
                f"  Lock store:         {self.redis_url}",
                f"  Conversations:      PostgreSQL on 127.0.0.1:{self.ports.postgres}",
                f"  Logs:               {self.log_dir}",
            ]
        )


def _wait_for_port(port: int, service: Service, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process is not None and service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with {service.process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} does not listen on {port}")


def _stop_group(pid: int, name: str, timeout: float = 15.0) -> None:
    """SIGTERM the process group `pid` leads, SIGKILL it if it lingers."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def render_deploy(edge_file: Path = EDGE_FILE, target: Path = DEPLOY_NGINX) -> None:
    """Write deploy/nginx.conf for the production edge in deploy/edge.yml."""
    target.write_text(render_nginx(Edge.from_file(edge_file)), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m practice.topology", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the topology on loopback and return")
    up.add_argument("--rasa", type=int, default=2, help="Rasa server processes (default 2)")
    sub.add_parser("down", help="stop everything `up` started")
    sub.add_parser("status", help="say what runs")
    sub.add_parser("render-deploy", help="write deploy/nginx.conf from deploy/edge.yml")
    args = parser.parse_args(argv)

    topology = Topology()
    if args.command == "render-deploy":
        render_deploy()
        print(f"Wrote {DEPLOY_NGINX.relative_to(PROJECT_ROOT)}")
        return 0
    if args.command == "down":
        topology.down()
        print("Stopped.")
        return 0
    if args.command == "status":
        if not topology.state_file.exists():
            print("Not running.")
            return 1
        print(topology.state_file.read_text())
        return 0
    if topology.state_file.exists():
        print("Already up (python -m practice.topology down first).", file=sys.stderr)
        return 1
    ports = Ports()
    ports.rasa = [ports.rasa[0] + i for i in range(max(2, args.rasa))]
    topology.ports = ports
    topology.up()
    print("Up:\n" + topology.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
