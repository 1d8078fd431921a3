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

# Run in a fresh interpreter: what each patched target looks like before anything patched
# it (this test process may have installed some patches already), then which targets
# `install` replaced, with every patch switched on (RASA_WORKERS above one).
PROBE = """
import json
from practice.rasa_runtime import OVERRIDES, PATCHES, install
from practice.rasa_runtime.contract import mismatch, resolve
from practice.settings import load_settings

before = {patch.target: resolve(patch.target) for patch in PATCHES}
misfits = {patch.target: mismatch(patch) for patch in PATCHES + OVERRIDES}
install(load_settings({"RASA_WORKERS": "2", "ACTION_TIMEOUT_SECONDS": "2.5"}))
replaced = [patch.target for patch in PATCHES if resolve(patch.target) is not before[patch.target]]
print("PROBE " + json.dumps({"misfits": misfits, "replaced": replaced}))
"""


@pytest.fixture(scope="session")
def fresh_rasa_runtime() -> Dict[str, Any]:
    """`misfits` (target -> why its patch no longer fits, or None) and `replaced` targets."""
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("PROBE ") :])
