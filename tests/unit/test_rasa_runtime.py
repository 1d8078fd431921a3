"""The patched Rasa runtime: every listed patch is applied and has a test."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Dict

import pytest

from practice.rasa_runtime import OVERRIDES, PATCHES, Patch
from practice.rasa_runtime.story_tests import install_test_parse_data

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
