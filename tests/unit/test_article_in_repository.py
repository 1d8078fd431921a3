"""The article ships with the repository, so a clone in any folder serves it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from practice.answers import load_answers
from practice.settings import DEFAULT_ARTICLE, PROJECT_ROOT, load_settings
from tests.conftest import free_port


def test_the_default_article_is_a_file_of_the_repository() -> None:
    assert DEFAULT_ARTICLE.is_relative_to(PROJECT_ROOT)
    assert DEFAULT_ARTICLE.read_text(encoding="utf-8").lstrip().startswith("<!--")
    assert "# What the heck is leaky gut?" in DEFAULT_ARTICLE.read_text(encoding="utf-8")


def test_article_path_defaults_to_the_repository_copy() -> None:
    assert load_settings({}).article_path == DEFAULT_ARTICLE


def test_a_clone_without_shared_serves_the_article_with_its_anchors(tmp_path: Path) -> None:
    """The demo site started from a copy of the repository, in a folder with no ../shared."""
    clone = tmp_path / "clone"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("practice", "content", "widget"):
        shutil.copytree(PROJECT_ROOT / name, clone / name, ignore=ignore)
    shutil.copy(PROJECT_ROOT / "practice.yml", clone / "practice.yml")
    assert not (clone.parent / "shared").exists()

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("ARTICLE_PATH", "PYTHONPATH")}
    env.update(WEBSITE_HOST="127.0.0.1", WEBSITE_PORT=str(port), PYTHONPATH=str(clone))
    process = subprocess.Popen(
        [sys.executable, "-m", "practice.website"],
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    page = response.read().decode("utf-8")
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = process.stderr.read().decode() if process.stderr else ""
                    raise AssertionError(f"the demo site did not answer: {log}") from None
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert '<h1 id="what-the-heck-is-leaky-gut">What the heck is leaky gut?</h1>' in page
    for answer in load_answers().values():
        if answer.anchor:
            assert f' id="{answer.anchor}"' in page
