"""Fixtures shared by the test levels: a running stack on free ports, with its own database."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Sequence

import pytest

from practice.launcher import Stack, model_path
from practice.settings import Settings, load_settings

TEST_APPLICATION_URL = "https://apply.test-practice.example/coaching?ref=tests"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CHROMIUM = Path("/usr/bin/chromium")
# The flags these machines need: without the background-networking ones Chromium keeps
# trying hosts the closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def debian_chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (a `Browser`); Playwright never downloads one."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("No /usr/bin/chromium: run `make system-deps` (scripts/apt-install.sh chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def stack_environment(tmp: Path, **overrides: str) -> Dict[str, str]:
    """Environment for a test stack: free ports, a fresh SQLite file, a custom application URL."""
    env = {
        "COACHING_APPLICATION_URL": TEST_APPLICATION_URL,
        "DATABASE_URL": f"sqlite:///{tmp / 'conversations.db'}",
        # The Rasa workers' shared locks and rate limits, private to this stack.
        "LOCK_STORE_URL": f"sqlite:///{tmp / 'locks.db'}",
        "RASA_HOST": "127.0.0.1",
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "WEBSITE_PORT": str(free_port()),
        "CONSOLE_PORT": str(free_port()),
    }
    env.update(overrides)
    return env


StartStack = Callable[..., Stack]
# The log folders of the stacks started in this session, for the report of a failure.
_STACK_LOGS: list = []
LOG_LINES_ON_FAILURE = 40


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """A failed test that used a stack gets the errors and warnings its servers logged."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or not _STACK_LOGS:
        return
    for log_dir in _STACK_LOGS[-3:]:
        for log in sorted(Path(log_dir).glob("*.log")):
            lines = [
                line
                for line in log.read_text(errors="replace").splitlines()
                if " ERROR " in line or " WARNING " in line or "Traceback" in line
            ]
            if lines:
                report.sections.append((f"server log {log}", "\n".join(lines[-LOG_LINES_ON_FAILURE:])))


@pytest.fixture(scope="session")
def start_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartStack]:
    """Start a stack of the named services; every stack started is stopped at the end."""
    started = []

    def start(only: Optional[Sequence[str]] = None, **overrides: str) -> Stack:
        tmp = tmp_path_factory.mktemp("stack")
        env = stack_environment(tmp, **overrides)
        settings: Settings = load_settings(env)
        if not model_path(settings).exists():
            pytest.fail(f"No trained model at {model_path(settings)}: run `make train` first")
        stack = Stack(settings, extra_env=env, only=only, log_dir=tmp / "logs")
        _STACK_LOGS.append(tmp / "logs")
        stack.start()
        stack.env = env  # type: ignore[attr-defined]
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.stop()
