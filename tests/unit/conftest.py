"""Fixtures for the unit tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter (this test process may have installed some patches already):
# which targets `install` replaced, with every patch switched on (RASA_WORKERS above one).
PROBE = """
import importlib
import json
from practice.rasa_runtime import PATCHES, install
from practice.settings import load_settings

def resolve(target):
    module, _, attribute = target.partition(":")
    found = importlib.import_module(module)
    for name in attribute.split("."):
        found = getattr(found, name)
    return found

before = {patch.target: resolve(patch.target) for patch in PATCHES}
install(load_settings({"RASA_WORKERS": "2", "ACTION_TIMEOUT_SECONDS": "2.5"}))
replaced = [patch.target for patch in PATCHES if resolve(patch.target) is not before[patch.target]]
print("PROBE " + json.dumps({"replaced": replaced}))
"""


@pytest.fixture(scope="session")
def fresh_rasa_runtime() -> Dict[str, Any]:
    """`replaced`: the targets `install` replaced in a fresh process."""
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("PROBE ") :])
