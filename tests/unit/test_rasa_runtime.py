"""The patched Rasa runtime: every listed patch is applied and tested; every `rasa` goes through it."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from practice.launcher import services, train_command
from practice.rasa_runtime import OVERRIDES, PATCHES, Patch, rasa_command
from practice.rasa_runtime.story_tests import install_test_parse_data
from practice.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
EVERY = PATCHES + OVERRIDES


def test_install_applies_every_patch_in_the_table(fresh_rasa_runtime: Dict[str, Any]) -> None:
    not_replaced = [p.target for p in PATCHES if p.target not in fresh_rasa_runtime["replaced"]]
    assert not_replaced == []


def test_each_target_is_listed_once() -> None:
    targets = [p.target for p in EVERY]
    assert len(targets) == len(set(targets))


def defined_tests(path: Path) -> set:
    """The names of the test functions `path` defines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


@pytest.mark.parametrize("patch", EVERY, ids=[p.target for p in EVERY])
def test_each_patch_names_its_module_and_a_test_that_exists(patch: Patch) -> None:
    module = ROOT / patch.module if "/" in patch.module else ROOT / "practice" / "rasa_runtime" / patch.module
    assert module.is_file()
    assert patch.reason
    path, _, name = patch.test.partition("::")
    assert (ROOT / path).is_file()
    if name:
        assert name in defined_tests(ROOT / path)


def test_conversation_tests_keep_the_whole_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.core.test as core_test
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    monkeypatch.setattr(core_test, "_collect_user_uttered_predictions", core_test._collect_user_uttered_predictions)
    install_test_parse_data()
    story_turn = UserUttered("I can't stop throwing up", intent={"name": "report_symptom"}, entities=[])
    predicted = {
        "text": story_turn.text,
        "intent": {"name": "report_symptom", "confidence": 0.93},
        "entities": [],
        "safety": {"kinds": ["red_flag"]},
    }
    tracker = DialogueStateTracker.from_events("visitor", [])
    core_test._collect_user_uttered_predictions(story_turn, predicted, tracker, True)
    latest = tracker.events[-1]
    assert latest.text == story_turn.text
    assert latest.parse_data["safety"] == {"kinds": ["red_flag"]}  # what NLU found
    assert latest.parse_data["intent"] == {"name": "report_symptom"}  # the story's own intent


def test_every_rasa_command_runs_through_the_patched_runtime() -> None:
    entry = [sys.executable, "-m", "practice.rasa_runtime"]
    assert rasa_command("run")[:3] == entry
    assert train_command("models", "current")[:4] == [*entry, "train"]
    (served,) = services(load_settings({}), {}, only=["rasa"])
    assert list(served.argv[:4]) == [*entry, "run"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for command in ("data validate", "test core"):
        lines = [line for line in makefile.splitlines() if command in line and "$(PY)" in line]
        assert lines and all("-m practice.rasa_runtime " + command in line for line in lines)


# The load benchmark's baseline is stock Rasa on purpose (bench/stock.py).
STOCK_BASELINE = {"bench/stock.py"}


def test_nothing_runs_stock_rasa_but_the_benchmark_baseline() -> None:
    stock = re.compile(r'"-m",\s*"rasa"|rasa\.__main__')
    found = {
        str(path.relative_to(ROOT))
        for folder in ("practice", "bench", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if "node_modules" not in path.parts and stock.search(path.read_text(encoding="utf-8"))
    }
    assert found == {"practice/rasa_runtime/__main__.py", *STOCK_BASELINE}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert not re.search(r"-m rasa\b|bin/rasa\b", makefile)
