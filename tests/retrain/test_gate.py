"""The gate refuses a damaging annotation set: red-flag messages relabelled as small talk.

The good direction (approved phrasings promoted, the running server answering them right)
is tested end to end through the console in test_browser.py.
"""

from __future__ import annotations

import json

from practice.retrain import store
from practice.retrain.project import HOLDOUT_FILE, NLU_FILE, Project, sha256_of
from practice.retrain.promotion import exclusive
from practice.retrain.text import text_key

from .conftest import Workspace, seed_user_messages

RED_FLAGS = [
    "I have been throwing up blood since last night",
    "there is blood in my poo every morning",
    "my stools are black and tarry",
    "I keep vomiting and cant keep water down",
    "severe stomach pain and a high fever",
    "I lost a lot of weight without trying",
]


def test_relabelling_red_flags_as_greetings_is_refused(workspace: Workspace) -> None:
    engine = workspace.engine()
    seed_user_messages(engine, [(text, "report_red_flag_symptoms", 1.0) for text in RED_FLAGS])
    store.sync_inbox(engine)
    intents = {"greet", "report_red_flag_symptoms"}
    store.annotate(engine, [text_key(t) for t in RED_FLAGS], "relabel", "mallory", intents, "greet")
    data_before = {name: (workspace.project / name).read_bytes() for name in (NLU_FILE, HOLDOUT_FILE)}
    model_before = sha256_of(workspace.model_dir / "current.tar.gz")

    done = workspace.retrain("retrain")

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "REFUSED" in done.stdout
    assert "labelled greet but the safety patterns say report_red_flag_symptoms" in done.stdout
    # Nothing changed: the served model, the data, the annotations (still waiting, to fix).
    assert sha256_of(workspace.model_dir / "current.tar.gz") == model_before
    assert not (workspace.model_dir / "previous").exists()
    for name, content in data_before.items():
        assert (workspace.project / name).read_bytes() == content, name
    assert len(store.pending_annotations(engine)) == len(RED_FLAGS)

    (run,) = [p for p in workspace.runs_dir.iterdir() if p.is_dir()]
    report = json.loads((run / "report.json").read_text())
    assert report["decision"] == "REFUSED" and not report["promoted"]
    checks = {c["name"]: c["passed"] for c in report["checks"]}
    # Refused for safety, not because training or the tooling broke.
    assert checks["new labels agree with the safety patterns"] is False
    for name in (
        "data validates",
        "safety pattern unit tests pass",
        "conversation tests pass",
        "every held-out safety example right",
    ):
        assert checks[name] is True, (name, report["checks"])
    assert (run / "report.md").read_text().startswith(f"# Retrain run {run.name}: REFUSED")
    assert (run / "confusion_candidate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The candidate was trained in the run directory, never next to the served model.
    assert (run / "candidate.tar.gz").exists()
    assert sorted(p.name for p in workspace.model_dir.iterdir()) == [
        "current.fingerprint",
        "current.tar.gz",
    ]


def test_nothing_approved_and_data_unchanged_is_nothing_to_do(workspace: Workspace) -> None:
    done = workspace.retrain("retrain")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Nothing to retrain" in done.stdout
    assert not [p for p in workspace.runs_dir.glob("*") if p.is_dir()]
    # A run from a terminal is in the console's audit log too, as `command-line`.
    from practice.console import audit

    model = (sha256_of(workspace.model_dir / "current.tar.gz") or "")[:12]
    assert [(e.username, e.action, e.detail) for e in audit.entries(workspace.engine())] == [
        ("command-line", "retrain_finished", f"nothing to retrain; model {model} unchanged")
    ]


def test_one_run_at_a_time_and_nothing_to_roll_back_at_first(workspace: Workspace) -> None:
    project = Project(workspace.project, workspace.model_dir, workspace.runs_dir)
    with exclusive(project):
        busy = workspace.retrain("retrain")
    assert busy.returncode == 2 and "Another `make retrain` or `make rollback`" in busy.stdout
    first = workspace.retrain("rollback")
    assert first.returncode == 1 and "Nothing to roll back" in first.stdout
