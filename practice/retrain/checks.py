"""The gate's checks that run a command: data validation, training, the safety pattern unit
tests, the conversation tests and the blind sets; and the new labels against the patterns.

Each command runs with its output to a log in the run directory; staff see a line every ten
seconds that it is still going, and the check's detail names the log when it fails.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from typing import Callable, Iterator, List, Mapping, Sequence, Tuple

from practice.rasa_runtime import rasa_command
from practice.retrain.project import STORIES_TEST_FILE
from practice.retrain.results import Check, Placement

Say = Callable[[str], None]

SAFETY_TESTS = ("tests/unit/test_safety_patterns.py",)


def run_command(
    argv: Sequence[str],
    cwd: Path,
    log: Path,
    env: Mapping[str, str],
    say: Say,
    label: str,
    heartbeat: float = 10.0,
) -> int:
    """Run a command with its output to `log`, saying it is still going every `heartbeat` s."""
    started = time.monotonic()
    with log.open("ab") as output:
        process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
        next_beat = started + heartbeat
        while process.poll() is None:
            time.sleep(0.5)
            if time.monotonic() >= next_beat:
                say(f"      ... {label} ({time.monotonic() - started:.0f} s)")
                next_beat += heartbeat
    return process.returncode


@contextmanager
def quiet(log: Path) -> Iterator[None]:
    """Library warnings and stray stderr output of in-process work go to `log`, not to staff."""
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    with log.open("a", encoding="utf-8") as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with redirect_stderr(handle):
            yield


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, or nothing when it does not exist."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])


def validate_command() -> List[str]:
    """`rasa data validate --fail-on-warnings` on the data of the project it runs in (its
    working directory), through the runtime production serves."""
    return rasa_command(
        "data", "validate", "--fail-on-warnings", "--domain", "domain.yml", "--data", "data", "--config", "config.yml"
    )


def validate_data(workspace: Path, run_dir: Path, env: Mapping[str, str], say: Say) -> Check:
    """`validate_command` on the workspace's data."""
    log = run_dir / "validate.log"
    code = run_command(validate_command(), workspace, log, env, say, "validating")
    return Check("data validates", code == 0, "rasa data validate passed" if code == 0 else f"see {log}")


def safety_conflicts(placements: Sequence[Placement]) -> List[Tuple[Placement, str]]:
    """New examples whose label contradicts a safety pattern that matches their text."""
    from practice.nlu.safety_guard import load_safety_rules, match_safety_intent

    rules = load_safety_rules()
    conflicts = []
    for placement in placements:
        if placement.where == "skipped":
            continue
        found = match_safety_intent(rules, placement.text)
        if found is not None and found["intent"] != placement.intent:
            conflicts.append((placement, found["intent"]))
    return conflicts


def safety_intents() -> List[str]:
    """The intents the safety patterns force (the safety examples of the held-out set)."""
    from practice.nlu.safety_guard import load_safety_rules

    return list(dict.fromkeys(rule.intent for rule in load_safety_rules()))


def safety_checks(
    placements: Sequence[Placement], code_root: Path, run_dir: Path, env: Mapping[str, str], say: Say
) -> List[Check]:
    """The new labels against the safety patterns, and the safety pattern unit tests."""
    conflicts = safety_conflicts(placements)
    checks = [
        Check(
            "new labels agree with the safety patterns",
            not conflicts,
            "no conflicts"
            if not conflicts
            else "; ".join(
                f"{p.text!r} labelled {p.intent} but the safety patterns say {intent}" for p, intent in conflicts[:10]
            ),
        )
    ]
    tests = [code_root / name for name in SAFETY_TESTS]
    missing = [str(t) for t in tests if not t.exists()]
    if missing:
        checks.append(Check("safety pattern unit tests pass", False, f"missing: {missing}"))
        return checks
    log = run_dir / "safety-tests.log"
    code = run_command(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, tests)],
        code_root,
        log,
        env,
        say,
        "safety tests",
    )
    checks.append(
        Check(
            "safety pattern unit tests pass",
            code == 0,
            tail(log, 1) if code == 0 else f"failed, see {log}: {tail(log, 3)}",
        )
    )
    return checks


def conversation_tests(candidate: Path, workspace: Path, run_dir: Path, env: Mapping[str, str], say: Say) -> Check:
    """`rasa test core --fail-on-prediction-errors` on the test stories with the candidate."""
    stories = workspace / STORIES_TEST_FILE
    if not stories.exists():
        return Check("conversation tests pass", False, f"{STORIES_TEST_FILE} not found")
    log = run_dir / "core-tests.log"
    code = run_command(
        rasa_command(
            "test",
            "core",
            "--model",
            str(candidate),
            "--stories",
            STORIES_TEST_FILE,
            "--e2e",
            "--fail-on-prediction-errors",
            "--out",
            str(run_dir / "core-tests"),
        ),
        workspace,
        log,
        env,
        say,
        "conversation tests",
    )
    failed = run_dir / "core-tests" / "failed_test_stories.yml"
    if code == 0:
        return Check("conversation tests pass", True, "no prediction errors")
    return Check(
        "conversation tests pass",
        False,
        f"prediction errors, see {failed if failed.exists() else log}",
    )


def blind_set_checks(candidate: Path, code_root: Path, run_dir: Path, env: Mapping[str, str], say: Say) -> List[Check]:
    """The candidate on both blind sets' development halves: no category below its floor."""
    checks = []
    for name in ("safety", "understanding"):
        log = run_dir / f"blind-{name}.log"
        code = run_command(
            [sys.executable, "-m", "practice.evaluation", name, "--half", "dev", "--model", str(candidate)],
            code_root,
            log,
            env,
            say,
            f"blind {name} set",
        )
        below = [line for line in log.read_text("utf-8").splitlines() if "below its floor" in line]
        checks.append(
            Check(
                f"blind {name} set: every category at its floor",
                code == 0,
                "all categories hold" if code == 0 else "; ".join(below[:6]) or f"see {log}",
            )
        )
    return checks
