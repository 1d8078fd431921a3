"""The Rasa internals the runtime patches still look the way the patches assume.

Every entry of `PATCHES` and `OVERRIDES` (practice/rasa_runtime/__init__.py) names the
parameters its replacement was written for on Rasa 3.6.21; each is compared here with the
target as Rasa defines it, in a fresh process before anything is patched. A Rasa upgrade
that renames or reorders any of them fails here, before a server starts with a patch that
no longer fits; the runtime makes the same check at start and refuses any Rasa but 3.6.x.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version
from typing import Any, Dict

import pytest

from practice.rasa_runtime import OVERRIDES, PATCHES, Patch
from practice.rasa_runtime.contract import broken, mismatch
from practice.rasa_runtime.version import check_rasa_version

EVERY = PATCHES + OVERRIDES


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


@pytest.mark.parametrize("patch", EVERY, ids=[p.target for p in EVERY])
def test_each_patched_target_has_the_parameters_its_patch_assumes(
    patch: Patch, fresh_rasa_runtime: Dict[str, Any]
) -> None:
    assert fresh_rasa_runtime["misfits"][patch.target] is None


def test_a_target_that_changed_or_went_away_is_reported() -> None:
    changed = Patch("rasa.core.agent:load_agent", ("model_path", "loop"), "hot_reload.py", "r", "t")
    gone = Patch("rasa.core.agent:no_such_function", ("x",), "hot_reload.py", "r", "t")
    became_a_function = Patch("rasa.core.agent:load_agent", None, "hot_reload.py", "r", "t")
    leading = Patch("rasa.core.agent:load_agent", ("model_path", "*"), "hot_reload.py", "r", "t")
    assert broken([changed, gone, became_a_function, leading]) == [
        "rasa.core.agent:load_agent takes ['model_path', 'model_server', 'remote_storage', 'endpoints', 'loop'];"
        " its patch (hot_reload.py) assumes ['model_path', 'loop']",
        "rasa.core.agent:no_such_function is gone (module 'rasa.core.agent' has no attribute 'no_such_function')",
        "rasa.core.agent:load_agent is now a function, not a value",
    ]
    assert mismatch(leading) is None


def test_serve_application_still_takes_the_arguments_the_workers_pass() -> None:
    parameters = inspect.signature(original("rasa.core.run", "serve_application")).parameters  # type: ignore[arg-type]
    assert {"model_path", "interface", "port", "endpoints", "server_listeners"} <= set(parameters)


def test_the_runtime_refuses_any_rasa_but_3_6() -> None:
    assert check_rasa_version(version("rasa")) is None  # the pinned one
    assert check_rasa_version("3.6.0") is None
    assert "Rasa 3.7.0 is installed" in (check_rasa_version("3.7.0") or "")
    assert check_rasa_version("2.8.1") is not None
