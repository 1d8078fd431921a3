"""Retraining from the console's Retrain page, in headless Chromium: started in the
background by staff, one at a time, its progress and outcome shown and audited.

Runs a real console on a copy of the project (the `workspace` fixture), so the commands it
starts never touch the repository's data or models. The full gate-passing promotion and the
rollback through these buttons are in test_browser.py (they train models).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Iterator, Tuple

import pytest
from playwright.sync_api import Browser, Page, expect

from practice.console import audit
from practice.retrain.project import Project, sha256_of
from practice.retrain.promotion import exclusive
from practice.settings import PROJECT_ROOT
from tests.conftest import debian_chromium, free_port

from .conftest import Workspace

PASSWORD = "retrain page password"
expect.set_options(timeout=60_000)


@pytest.fixture
def console(workspace: Workspace) -> Iterator[Tuple[str, Workspace]]:
    """A console process on the workspace, with a staff account `pat`."""
    port = free_port()
    env = {**os.environ, **workspace.env, "CONSOLE_PORT": str(port), "CONSOLE_HOST": "127.0.0.1"}
    subprocess.run(
        [sys.executable, "-m", "practice.console.accounts", "create", "--username", "pat", "--role", "staff"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    log = (workspace.root / "console.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "practice.console"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/login", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((workspace.root / "console.log").read_text())
                time.sleep(0.2)
        yield base, workspace
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with debian_chromium() as chromium:
        yield chromium


def staff_page(browser: Browser, base: str) -> Page:
    """Pat, signed in, on the Retraining page."""
    page = browser.new_context().new_page()
    page.goto(base + "/login?next=%2Fretrain")
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + "/retrain")
    return page


def test_staff_start_retraining_in_the_background_one_at_a_time(
    browser: Browser, console: Tuple[str, Workspace]
) -> None:
    base, workspace = console
    model = sha256_of(workspace.model_dir / "current.tar.gz")
    page = staff_page(browser, base)
    # Nothing to roll back yet.
    expect(page.get_by_role("button", name="Roll back the last promotion")).to_be_disabled()

    # A run someone started in a terminal holds the lock: the page refuses, and says why.
    project = Project(workspace.project, workspace.model_dir, workspace.runs_dir)
    with exclusive(project):
        page.get_by_role("button", name="Retrain now").click()
        expect(page.get_by_role("alert")).to_contain_text("Another retraining or rollback is running")

    page.get_by_role("button", name="Retrain now").click()
    expect(page.get_by_role("heading", name="Retraining running")).to_be_visible()
    expect(page.get_by_role("button", name="Retrain now")).to_be_disabled()
    # A second start while it runs (another tab, or a double click) is refused.
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    second = page.request.post(base + "/retrain/start", form={"csrf_token": csrf, "kind": "retrain"})
    assert "still running" in second.text() or "Retraining finished" in second.text()
    # The page refreshes itself until the run ends; nothing was approved, so nothing to do.
    expect(page.get_by_role("heading", name="Retraining finished")).to_be_visible()
    expect(page.locator("#job-outcome")).to_have_text(f"nothing to retrain; model {model[:12]} unchanged")
    expect(page.locator("pre.log")).to_contain_text("Nothing to retrain")
    assert sha256_of(workspace.model_dir / "current.tar.gz") == model

    entries = [(e.username, e.action, e.detail) for e in audit.entries(workspace.engine(), username="pat")]
    actions = [action for _, action, _ in entries]
    assert actions.count("retrain_started") == 1
    assert actions.count("retrain_refused") >= 1
    assert ("pat", "retrain_finished", f"nothing to retrain; model {model[:12]} unchanged") in entries
    started = next(d for _, a, d in entries if a == "retrain_started")
    assert started.startswith(f"model {model[:12]}")

    # A rollback with nothing to roll back says so (posted directly: the button is off).
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    page.request.post(base + "/retrain/start", form={"csrf_token": csrf, "kind": "rollback"})
    page.goto(base + "/retrain")
    expect(page.get_by_role("heading", name="Rollback finished")).to_be_visible()
    expect(page.locator("#job-outcome")).to_contain_text("not rolled back (Nothing to roll back")
    # The command wrote each verdict itself, under the name of who clicked.
    assert ("pat", "rollback_finished", f"not rolled back; model {model[:12]}") in [
        (e.username, e.action, e.detail) for e in audit.entries(workspace.engine())
    ]
    page.context.close()
