"""Promotion and rollback: swap the served model and its data, keep what they replaced.

Promotion replaces `models/current.tar.gz` and the two data files a run writes with one
`os.replace` each, after keeping the old model, fingerprint and data in `models/previous/`
for `make rollback`; the running Rasa server pulls the new model file within
`MODEL_RELOAD_SECONDS`, without a restart (practice/rasa_runtime/hot_reload.py). A rollback
goes back one promotion. `exclusive` keeps retraining and rollback to one at a time.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Mapping

from sqlalchemy.engine import Engine

from practice.launcher import training_fingerprint
from practice.retrain import store
from practice.retrain.project import HOLDOUT_FILE, NLU_FILE, Project, sha256_of
from practice.settings import Settings

Say = Callable[[str], None]


class Busy(Exception):
    """Another retrain or rollback holds the project's lock."""


@contextmanager
def exclusive(project: Project) -> Iterator[None]:
    """Hold the project's retrain lock; raise `Busy` when another run holds it."""
    project.runs_dir.mkdir(parents=True, exist_ok=True)
    with (project.runs_dir / ".lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise Busy("Another `make retrain` or `make rollback` is running; wait for it to finish.") from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def replace_file(source: Path, target: Path) -> None:
    """Copy `source` next to `target`, then swap it in with one `os.replace`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.new")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)
    # Fresh mtime: tools that pick "the newest model" must pick this one.
    os.utime(target)


def write_atomically(target: Path, text: str) -> None:
    """Write text to a file through a temporary file and `os.replace`."""
    temporary = target.with_name(f".{target.name}.new")
    temporary.write_text(text, "utf-8")
    os.replace(temporary, target)


def promote(
    project: Project,
    run_id: str,
    candidate: Path,
    workspace: Path,
    hashes: Mapping[str, str | None],
    fingerprint: str | None,
    say: Say,
) -> str | None:
    """Serve the candidate and the workspace's data; None on success, else why not.

    Refused when the project's data files changed since the run copied them (`hashes`).
    What is replaced goes to `models/previous/` first, with a record for `rollback`.
    """
    for name, before in hashes.items():
        if sha256_of(project.root / name) != before:
            return f"{name} changed while the candidate was trained; run `make retrain` again."
    previous = project.previous_dir
    staging = project.model_dir / ".previous.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if project.current_model.exists():
        shutil.copy2(project.current_model, staging / "model.tar.gz")
    if project.current_fingerprint.exists():
        shutil.copy2(project.current_fingerprint, staging / "fingerprint")
    for name in (NLU_FILE, HOLDOUT_FILE):
        if (project.root / name).exists():
            shutil.copy2(project.root / name, staging / Path(name).name)
    promoted_hashes = {name: sha256_of(workspace / name) for name in (NLU_FILE, HOLDOUT_FILE)}
    (staging / "promotion.json").write_text(
        json.dumps(
            {
                "run_id": run_id,
                "promoted_at": time.time(),
                "had_model": project.current_model.exists(),
                "data": promoted_hashes,
                "data_before": dict(hashes),
            },
            indent=2,
        ),
        "utf-8",
    )
    old = project.model_dir / ".previous.old"
    shutil.rmtree(old, ignore_errors=True)
    if previous.exists():
        os.replace(previous, old)
    os.replace(staging, previous)
    shutil.rmtree(old, ignore_errors=True)

    # The model first (the server may pick it up at once), then the data it was trained on.
    replace_file(candidate, project.current_model)
    for name in (NLU_FILE, HOLDOUT_FILE):
        source = workspace / name
        if source.exists() and sha256_of(source) != sha256_of(project.root / name):
            replace_file(source, project.root / name)
    if fingerprint:
        write_atomically(project.current_fingerprint, fingerprint + "\n")
        if fingerprint != training_fingerprint(project.root):
            say(
                "      note: other training files changed during the run; the launcher "
                "will see the model as stale and retrain it at the next start."
            )
    return None


def wait_for_reload(
    project: Project, settings: Settings, sha: str | None, say: Say, timeout: float | None = None
) -> bool:
    """Wait until every running Rasa server process reports serving the model with `sha`."""
    from practice.rasa_runtime.hot_reload import serving_processes

    if not serving_processes(project.model_dir):
        say("      No running assistant found; the next `make run` serves this model.")
        return False
    timeout = timeout if timeout is not None else settings.model_reload_seconds * 3 + 60
    say(f"      Waiting for the running assistant to load it (it checks every {settings.model_reload_seconds:g} s) ...")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes = serving_processes(project.model_dir)
        if processes and all(p.get("sha256") == sha for p in processes):
            say(f"      {len(processes)} server process(es) now answer with the new model; conversations carry on.")
            return True
        time.sleep(1.0)
    say("      The running assistant has not loaded the new model yet; check the Rasa log.")
    return False


def rollback(project: Project, engine: Engine, settings: Settings, say: Say = print) -> bool:
    """Put back the model, fingerprint and data the last promotion replaced; True on success."""
    previous = project.previous_dir
    record_file = previous / "promotion.json"
    if not record_file.exists():
        say(f"Nothing to roll back: no promotion is recorded in {previous} (a rollback goes back one promotion only).")
        return False
    record = json.loads(record_file.read_text("utf-8"))
    if not record.get("had_model") or not (previous / "model.tar.gz").exists():
        say("Nothing to roll back to: there was no model before the last promotion.")
        return False
    for name, promoted in record["data"].items():
        if promoted is not None and sha256_of(project.root / name) != promoted:
            say(
                f"Refusing to roll back: {name} was edited after run {record['run_id']} "
                "was promoted, "
                "and restoring the old file would lose those edits. Undo the edits (or commit them "
                "and run `make retrain`), then try again."
            )
            return False
    say(f"Rolling back run {record['run_id']} ...")
    replace_file(previous / "model.tar.gz", project.current_model)
    if (previous / "fingerprint").exists():
        write_atomically(project.current_fingerprint, (previous / "fingerprint").read_text("utf-8"))
    for name in (NLU_FILE, HOLDOUT_FILE):
        saved = previous / Path(name).name
        if saved.exists():
            replace_file(saved, project.root / name)
        elif record["data_before"].get(name) is None and (project.root / name).exists():
            (project.root / name).unlink()
    returned = store.unmark_run(engine, record["run_id"])
    shutil.rmtree(previous)
    say(
        f"ROLLED BACK: {project.current_model} is the model from before run {record['run_id']}; "
        f"{NLU_FILE} and {HOLDOUT_FILE} are restored; {returned} annotations are pending again."
    )
    wait_for_reload(project, settings, sha256_of(project.current_model), say)
    return True
