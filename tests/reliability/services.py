"""Throwaway Redis and PostgreSQL servers from the Debian packages, for the reliability tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict

from practice.settings import PROJECT_ROOT

POSTGRES_SCRIPT = PROJECT_ROOT / "scripts" / "postgres.sh"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Block until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class RedisServer:
    """A redis-server on a free loopback port, nothing saved to disk."""

    def __init__(self, directory: Path) -> None:
        """Describe the server; `start()` runs it."""
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of its database 1."""
        return f"redis://127.0.0.1:{self.port}/1"

    def start(self) -> RedisServer:
        """Start it and wait until it accepts connections."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: scripts/apt-install.sh redis-server")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stop it."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


class PostgresServer:
    """Its own cluster through scripts/postgres.sh (own directory and port), so stopping
    it for a fault test never disturbs anyone else's database."""

    def __init__(self, directory: Path | None = None) -> None:
        """Describe the cluster; `start()` initialises and runs it."""
        # Under var/: the `postgres` user must traverse every parent (pytest's tmp is 0700).
        default = PROJECT_ROOT / "var" / f"pg-reliability-{uuid.uuid4().hex[:8]}"
        self.directory = directory or default
        self.port = free_port()
        self.url = ""

    def _run(self, *args: str) -> str:
        env: Dict[str, str] = {**os.environ, "POSTGRES_DIR": str(self.directory), "POSTGRES_PORT": str(self.port)}
        done = subprocess.run(
            [str(POSTGRES_SCRIPT), *args], env=env, check=True, capture_output=True, text=True, timeout=120
        )
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def start(self, database: str = "practice") -> PostgresServer:
        """Start the cluster (initialising it the first time); remember the database URL."""
        self.url = self._run("start", database)
        return self

    def database_url(self, database: str) -> str:
        """Create `database` if missing (the server must run) and return its URL."""
        return self._run("url", database)

    def stop(self) -> None:
        """Stop the server, keeping its data (a database outage)."""
        self._run("stop")

    def destroy(self) -> None:
        """Stop the server and delete its data."""
        self._run("destroy")
