"""Whether this Rasa still has the internals the patches were written for.

Checked at start (`python -m practice.rasa_runtime`, before anything is patched) and by
tests/unit/test_rasa_contract.py: a Rasa upgrade that renames, removes or reorders a
patched target stops the runtime with the reason instead of serving a patch that no
longer fits.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Iterable, List

from practice.rasa_runtime import Patch


def resolve(target: str) -> Any:
    """The object a `module:attribute.path` target names, as it is now in this process."""
    module, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module)
    for name in attribute.split("."):
        found = getattr(found, name)
    return found


def parameters_of(found: Any) -> List[str] | None:
    """A function's parameters (a class: its `__init__`'s); None for a plain value."""
    if inspect.isclass(found):
        found = found.__init__
    if not callable(found):
        return None
    return list(inspect.signature(found).parameters)


def mismatch(patch: Patch) -> str | None:
    """Why `patch` no longer fits this Rasa, or None when its target looks as assumed."""
    try:
        found = resolve(patch.target)
    except (ImportError, AttributeError) as error:
        return f"{patch.target} is gone ({error})"
    actual = parameters_of(found)
    if patch.parameters is None:
        return None if actual is None else f"{patch.target} is now a function, not a value"
    expected = list(patch.parameters)
    compared = actual
    if expected[-1:] == ["*"]:
        expected = expected[:-1]
        compared = None if actual is None else actual[: len(expected)]
    if compared != expected:
        return f"{patch.target} takes {actual}; its patch ({patch.module}) assumes {list(patch.parameters)}"
    return None


def broken(patches: Iterable[Patch]) -> List[str]:
    """The reasons, one per patch, why these patches do not fit the installed Rasa."""
    return [reason for reason in map(mismatch, patches) if reason is not None]
