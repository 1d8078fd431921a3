"""The Rasa internals the runtime patches still look the way the patches assume.

Each patched target (practice/rasa_runtime/: `__init__.py`, action_failure.py,
story_tests.py, performance.py, workers.py, hot_reload.py) with the parameters the
replacement was written for on Rasa 3.6.21. A Rasa upgrade that renames or reorders any
of them fails here, before a server starts with a patch that no longer fits; the runtime
also refuses any Rasa but 3.6.x at start.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version
from typing import List

import pytest

from practice.rasa_runtime.version import check_rasa_version

PATCHED = [
    # practice/rasa_runtime/__init__.py, action_failure.py, story_tests.py
    ("rasa.core.actions.action", "RemoteAction.run", ["self", "output_channel", "nlg", "tracker", "domain"]),
    ("rasa.core.agent", "Agent._create_tracker_store", ["store", "domain"]),
    (
        "rasa.core.test",
        "_collect_user_uttered_predictions",
        ["event", "predicted", "partial_tracker", "fail_on_prediction_errors"],
    ),
    # practice/rasa_runtime/performance.py
    ("rasa.core.actions.action", "RemoteAction._validate_action_result", ["self", "result"]),
    ("rasa.shared.core.events", "Event.resolve_by_type", ["type_name", "default"]),
    (
        "rasa.nlu.classifiers.logistic_regression_classifier",
        "LogisticRegressionClassifier._create_X",
        ["self", "messages"],
    ),
    (
        "rasa.core.processor",
        "DaskGraphRunner.__init__",
        ["self", "graph_schema", "model_storage", "execution_context", "hooks"],
    ),
    ("rasa.core.run", "load_agent_on_start", ["model_path", "endpoints", "remote_storage", "app", "loop"]),
    # practice/rasa_runtime/workers.py
    ("rasa.core.processor", "MessageProcessor._load_model", ["model_path"]),
    ("sanic.app", "serve_multiple", ["server_settings", "workers"]),
    # practice/rasa_runtime/hot_reload.py
    ("rasa.core.agent", "load_agent", ["model_path", "model_server", "remote_storage", "endpoints", "loop"]),
]


def original(module: str, attribute: str) -> object:
    """The target as Rasa defines it (under a patch, the function the patch wrapped)."""
    target: object = importlib.import_module(module)
    for name in attribute.split("."):
        target = getattr(target, name)
    # Each patch keeps what it replaced: `__wrapped_original__`, `freezes_after`
    # (practice/rasa_runtime/performance.py) or functools.wraps' `__wrapped__`.
    for attribute_name in ("__wrapped_original__", "freezes_after", "__wrapped__"):
        while hasattr(target, attribute_name):
            target = getattr(target, attribute_name)
    return target


@pytest.mark.parametrize("module, attribute, parameters", PATCHED, ids=[f"{m}.{a}" for m, a, _ in PATCHED])
def test_each_patched_target_has_the_parameters_its_patch_assumes(
    module: str, attribute: str, parameters: List[str]
) -> None:
    signature = inspect.signature(original(module, attribute))  # type: ignore[arg-type]
    assert list(signature.parameters) == parameters


def test_serve_application_still_takes_the_arguments_the_workers_pass() -> None:
    parameters = inspect.signature(original("rasa.core.run", "serve_application")).parameters  # type: ignore[arg-type]
    assert {"model_path", "interface", "port", "endpoints", "server_listeners"} <= set(parameters)


def test_the_runtime_refuses_any_rasa_but_3_6() -> None:
    assert check_rasa_version(version("rasa")) is None  # the pinned one
    assert check_rasa_version("3.6.0") is None
    assert "Rasa 3.7.0 is installed" in (check_rasa_version("3.7.0") or "")
    assert check_rasa_version("2.8.1") is not None
