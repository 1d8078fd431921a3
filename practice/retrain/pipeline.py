"""`make retrain` and `make rollback`: approved annotations to a promoted model, behind a gate.

A run works in `var/retrain/<run id>/`: a copy of the assistant's data with the approved
examples added (`workspace/`), the candidate model, the logs, and the report. The
repository's data and `models/current.tar.gz` change only when every check passes:

1. validate the data (`rasa data validate --fail-on-warnings`);
2. train a candidate from the workspace;
3. the held-out NLU set: candidate accuracy must not drop below the current model's;
4. safety: every safety example of the held-out set right (full pipeline), the classifier
   alone no worse on them than before, no new example labelled against a safety pattern,
   the safety-pattern unit tests green;
5. the conversation tests pass with the candidate (`--fail-on-prediction-errors`).

Promotion swaps files with `os.replace` (the old model, fingerprint and the two data files
are kept in `models/previous/` for `make rollback`); the running Rasa server pulls the new
model file within `MODEL_RELOAD_SECONDS`, without a restart (practice/rasa_runtime/hot_reload.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections import Counter
from contextlib import contextmanager, redirect_stderr
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Sequence, Set, Tuple

from sqlalchemy.engine import Engine

from practice.launcher import process_environment, train_command, training_fingerprint
from practice.retrain import gate, store
from practice.retrain.nlu_yaml import add_examples_to_file, read_example_files
from practice.retrain.results import Check, Placement, RunResult
from practice.retrain.text import clean_example, normalise
from practice.settings import PROJECT_ROOT, Settings

Say = Callable[[str], None]

COPIED = ("config.yml", "domain.yml", "data", "tests/nlu/holdout.yml", "tests/test_stories.yml")
# Read by training but not changed by a run: linked, so the fingerprint sees the same files.
LINKED = ("build", "practice")
SAFETY_TESTS = ("tests/unit/test_safety_patterns.py",)
NLU_FILE = "data/nlu.yml"
HOLDOUT_FILE = "tests/nlu/holdout.yml"
STORIES_TEST_FILE = "tests/test_stories.yml"


@dataclass(frozen=True)
class Project:
    """Where a run reads the assistant's data and code, and keeps models and runs."""

    root: Path
    model_dir: Path
    runs_dir: Path
    code_root: Path = PROJECT_ROOT

    @classmethod
    def from_settings(cls, settings: Settings, root: Path | None = None) -> Project:
        """The project at `root` (default: RETRAIN_PROJECT_DIR) and the configured directories."""
        root = Path(root or settings.retrain_project_dir).resolve()
        return cls(root, settings.model_dir, settings.retrain_dir)

    @property
    def current_model(self) -> Path:
        """The served model."""
        return self.model_dir / "current.tar.gz"

    @property
    def current_fingerprint(self) -> Path:
        """The launcher's record of what the served model was trained from."""
        return self.model_dir / "current.fingerprint"

    @property
    def previous_dir(self) -> Path:
        """The model, fingerprint and data the last promotion replaced."""
        return self.model_dir / "previous"


def sha256_of(path: Path) -> str | None:
    """The file's SHA-256, or None when it does not exist."""
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def known_texts(root: Path) -> Set[str]:
    """Normalised texts of every training and held-out example of a project."""
    files = [root / "data", root / HOLDOUT_FILE]
    return {normalise(text) for _, text in read_example_files([f for f in files if f.exists()])}


def plan_placements(
    annotations: Sequence[store.Annotation],
    known: Set[str],
    applied_counts: Mapping[str, int],
    every: int,
) -> List[Placement]:
    """Decide, deterministically, which approved texts train and which are held out.

    Per intent, every `every`-th example that annotations ever added (counting earlier
    promoted runs) goes to the held-out set, so the gate keeps measuring phrasings the
    model has not seen; repeats and texts already in the data are skipped.
    """
    counts = Counter(applied_counts)
    seen = set(known)
    placements: List[Placement] = []
    for annotation in sorted(annotations, key=lambda a: a.id):
        if annotation.action == "discard" or not annotation.intent:
            continue
        text = clean_example(annotation.text)
        if text is None:
            placements.append(
                Placement(
                    annotation.id,
                    annotation.text,
                    annotation.intent,
                    "skipped",
                    "cannot be stored verbatim (line breaks or [..](..) markup)",
                )
            )
            continue
        key = normalise(text)
        if key in seen:
            placements.append(Placement(annotation.id, text, annotation.intent, "skipped", "already in the data"))
            continue
        seen.add(key)
        counts[annotation.intent] += 1
        where = "holdout" if counts[annotation.intent] % every == 0 else "training"
        placements.append(Placement(annotation.id, text, annotation.intent, where))
    return placements


def apply_placements(root: Path, placements: Sequence[Placement], known: Set[str]) -> None:
    """Write the placed texts into the project's data/nlu.yml and held-out file."""
    for where, relative in (("training", NLU_FILE), ("holdout", HOLDOUT_FILE)):
        additions: Dict[str, List[str]] = {}
        for placement in placements:
            if placement.where == where:
                additions.setdefault(placement.intent, []).append(placement.text)
        if not additions:
            continue
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        others = known - {normalise(t) for texts in additions.values() for t in texts}
        result = add_examples_to_file(path, additions, known=others)
        if result.skipped:
            raise RuntimeError(f"{relative}: could not add {result.skipped}")


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


def make_workspace(project: Project, workspace: Path) -> Dict[str, str | None]:
    """Copy the project's data into `workspace`; return the hashes of the files a run writes."""
    workspace.mkdir(parents=True)
    for name in COPIED:
        source = project.root / name
        target = workspace / name
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for name in LINKED:
        source = (project.root / name).resolve()
        if source.exists():
            (workspace / name).symlink_to(source, target_is_directory=True)
    return {name: sha256_of(project.root / name) for name in (NLU_FILE, HOLDOUT_FILE)}


def _run_command(
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


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])


class Retrain:
    """One retrain run: workspace, candidate, checks, report, and promotion if all pass."""

    def __init__(
        self,
        project: Project,
        engine: Engine,
        settings: Settings,
        say: Say = print,
        run_id: str | None = None,
    ) -> None:
        """Prepare a run; nothing happens until `run()`."""
        self.project = project
        self.engine = engine
        self.settings = settings
        self.say = say
        self.run_id = run_id or datetime.now().strftime("%Y%m%d-%H%M%S")
        self.run_dir = project.runs_dir / self.run_id
        self.workspace = self.run_dir / "workspace"
        self.candidate = self.run_dir / "candidate.tar.gz"
        self.env = process_environment(settings)
        self.steps = 6
        self.step = 0
        self.evaluation: Dict[str, Any] | None = None

    def _say_step(self, text: str) -> None:
        self.step += 1
        self.say(f"[{self.step}/{self.steps}] {text}")

    def run(self, promote: bool = True, force: bool = False) -> RunResult:
        """Do the whole run; returns what was decided (the report is in the run directory)."""
        result = RunResult(self.run_id, self.run_dir, promoted=False)
        started = time.monotonic()

        self._say_step("Reading the approved annotations")
        annotations = store.pending_annotations(self.engine)
        known = known_texts(self.project.root)
        placements = plan_placements(
            annotations,
            known,
            store.applied_counts(self.engine),
            self.settings.retrain_holdout_every,
        )
        result.placements = placements
        added = [p for p in placements if p.where != "skipped"]
        data_changed = self._data_changed_since_current()
        self.say(
            f"      {len(annotations)} approved, {sum(p.where == 'training' for p in placements)} "
            f"to data/nlu.yml, {sum(p.where == 'holdout' for p in placements)} held out, "
            f"{sum(p.where == 'skipped' for p in placements)} skipped"
        )
        if not added and not data_changed and not force:
            result.nothing_to_do = True
            if placements:
                # Everything approved is already in the data: record it so the inbox moves on.
                store.mark_applied(self.engine, self.run_id, {p.annotation_id: p.where for p in placements})
            self.say(
                "Nothing to retrain: no new approved examples, and the data has not changed "
                "since the current model was trained."
            )
            return result

        self.run_dir.mkdir(parents=True, exist_ok=True)
        hashes = make_workspace(self.project, self.workspace)
        apply_placements(self.workspace, placements, known)

        self._say_step("Validating the data (rasa data validate)")
        validate_log = self.run_dir / "validate.log"
        code = _run_command(
            [
                sys.executable,
                "-m",
                "practice.rasa_runtime",
                "data",
                "validate",
                "--fail-on-warnings",
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--config",
                "config.yml",
            ],
            self.workspace,
            validate_log,
            self.env,
            self.say,
            "validating",
        )
        result.checks.append(
            Check(
                "data validates",
                code == 0,
                "rasa data validate passed" if code == 0 else f"see {validate_log}",
            )
        )
        if code != 0:
            self.say(_tail(validate_log))
            return self._finish(result, started, promote, hashes, None)

        self._say_step("Training the candidate model (usually 20-40 s)")
        train_log = self.run_dir / "train.log"
        code = _run_command(
            train_command(self.run_dir, "candidate"),
            self.workspace,
            train_log,
            self.env,
            self.say,
            "training",
        )
        if code != 0 or not self.candidate.exists():
            result.checks.append(Check("candidate trains", False, f"training failed, see {train_log}"))
            self.say(_tail(train_log))
            return self._finish(result, started, promote, hashes, None)
        fingerprint = training_fingerprint(self.workspace)

        self._say_step("Held-out NLU set: candidate against the current model")
        with quiet(self.run_dir / "evaluate.log"):
            evaluation = self._evaluate(placements)
        result.checks.extend(evaluation["checks"])

        self._say_step("Safety: pattern unit tests and labels against the safety patterns")
        result.checks.extend(self._safety_checks(placements))

        self._say_step("Conversation tests with the candidate (rasa test core, served runtime)")
        result.checks.append(self._conversation_tests())

        self._say_step("Blind sets (development halves): every category at its floor")
        result.checks.extend(self._blind_set_checks())

        self.evaluation = evaluation
        return self._finish(result, started, promote, hashes, fingerprint)

    def _data_changed_since_current(self) -> bool:
        stamp = self.project.current_fingerprint
        if not self.project.current_model.exists() or not stamp.exists():
            return True
        return stamp.read_text().strip() != training_fingerprint(self.project.root)

    # ---------------------------------------------------------------- evaluation

    def _evaluate(self, placements: Sequence[Placement]) -> Dict[str, Any]:
        from practice.retrain import evaluate

        examples = evaluate.holdout_examples(self.workspace / HOLDOUT_FILE)
        texts = [t for t, _ in examples]
        expected = {t: i for t, i in examples}
        for placement in placements:
            if placement.where != "skipped":
                expected.setdefault(placement.text, placement.intent)
        inbox_texts = self._inbox_texts()
        everything = list(dict.fromkeys(texts + [p.text for p in placements] + inbox_texts))
        safety = set(safety_intents())
        safety_examples = [(t, i) for t, i in examples if i in safety]

        self.say(f"      parsing {len(everything)} messages with the candidate ...")
        candidate = evaluate.predict(evaluate.load_agent(self.candidate), everything)
        candidate_alone = evaluate.predict(
            evaluate.load_agent(self.candidate, classifier_only=True),
            [t for t, _ in safety_examples],
        )
        has_current = self.project.current_model.exists()
        if has_current:
            self.say(f"      parsing {len(everything)} messages with the current model ...")
            current = evaluate.predict(evaluate.load_agent(self.project.current_model), everything)
            current_alone = evaluate.predict(
                evaluate.load_agent(self.project.current_model, classifier_only=True),
                [t for t, _ in safety_examples],
            )
        else:
            current, current_alone = {}, {}

        candidate_scores = evaluate.scores(examples, candidate)
        current_scores = evaluate.scores(examples, current) if has_current else None
        evaluate.plot_confusion(
            examples,
            candidate,
            self.run_dir / "confusion_candidate.png",
            f"Candidate {self.run_id}: held-out set",
        )
        if has_current:
            evaluate.plot_confusion(
                examples,
                current,
                self.run_dir / "confusion_current.png",
                "Current model: held-out set",
            )

        checks = [
            gate.holdout_check(examples, candidate_scores, current_scores, HOLDOUT_FILE),
            gate.safety_examples_check(safety_examples, candidate),
            gate.classifier_alone_check(safety_examples, candidate_alone, current_alone if has_current else None),
        ]
        changed = gate.changed_predictions(everything, current, candidate, expected)
        return {
            "checks": checks,
            "candidate": candidate_scores,
            "current": current_scores,
            "changed": changed,
            "safety_examples": len(safety_examples),
            "new_examples": [
                {
                    "text": p.text,
                    "intent": p.intent,
                    "where": p.where,
                    "current": asdict(current[p.text]) if p.text in current else None,
                    "candidate": asdict(candidate[p.text]),
                }
                for p in placements
                if p.where != "skipped"
            ],
        }

    def _inbox_texts(self, limit: int = 3000) -> List[str]:
        import sqlalchemy as sa

        store.ensure_schema(self.engine)
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(store.inbox.c.text).order_by(store.inbox.c.count.desc()).limit(limit)
            ).all()
        return [row.text for row in rows]

    def _safety_checks(self, placements: Sequence[Placement]) -> List[Check]:
        conflicts = safety_conflicts(placements)
        checks = [
            Check(
                "new labels agree with the safety patterns",
                not conflicts,
                "no conflicts"
                if not conflicts
                else "; ".join(
                    f"{p.text!r} labelled {p.intent} but the safety patterns say {intent}"
                    for p, intent in conflicts[:10]
                ),
            )
        ]
        tests = [self.project.code_root / name for name in SAFETY_TESTS]
        missing = [str(t) for t in tests if not t.exists()]
        if missing:
            checks.append(Check("safety pattern unit tests pass", False, f"missing: {missing}"))
            return checks
        log = self.run_dir / "safety-tests.log"
        code = _run_command(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, tests)],
            self.project.code_root,
            log,
            self.env,
            self.say,
            "safety tests",
        )
        checks.append(
            Check(
                "safety pattern unit tests pass",
                code == 0,
                _tail(log, 1) if code == 0 else f"failed, see {log}: {_tail(log, 3)}",
            )
        )
        return checks

    def _conversation_tests(self) -> Check:
        stories = self.workspace / STORIES_TEST_FILE
        if not stories.exists():
            return Check("conversation tests pass", False, f"{STORIES_TEST_FILE} not found")
        log = self.run_dir / "core-tests.log"
        code = _run_command(
            [
                sys.executable,
                "-m",
                "practice.rasa_runtime",
                "test",
                "core",
                "--model",
                str(self.candidate),
                "--stories",
                STORIES_TEST_FILE,
                "--e2e",
                "--fail-on-prediction-errors",
                "--out",
                str(self.run_dir / "core-tests"),
            ],
            self.workspace,
            log,
            self.env,
            self.say,
            "conversation tests",
        )
        failed = self.run_dir / "core-tests" / "failed_test_stories.yml"
        if code == 0:
            return Check("conversation tests pass", True, "no prediction errors")
        return Check(
            "conversation tests pass",
            False,
            f"prediction errors, see {failed if failed.exists() else log}",
        )

    def _blind_set_checks(self) -> List[Check]:
        """The candidate on both blind sets' development halves: no category below its floor."""
        checks = []
        for name in ("safety", "understanding"):
            log = self.run_dir / f"blind-{name}.log"
            code = _run_command(
                [sys.executable, "-m", "practice.evaluation", name, "--half", "dev", "--model", str(self.candidate)],
                self.project.code_root,
                log,
                self.env,
                self.say,
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

    # ---------------------------------------------------------------- report and promotion

    def _finish(
        self,
        result: RunResult,
        started: float,
        promote: bool,
        hashes: Mapping[str, str | None],
        fingerprint: str | None,
    ) -> RunResult:
        result.reasons = [f"{c.name}: {c.detail}" for c in result.checks if not c.passed]
        self.say("\nChecks:")
        for check in result.checks:
            self.say(f"  {'pass' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
        summary = {
            "run_id": self.run_id,
            "passed": result.passed,
            "checks": [asdict(c) for c in result.checks],
            "placements": [asdict(p) for p in result.placements],
        }
        if not result.passed:
            self.say("\nREFUSED: the candidate is not promoted; the served model and the data are unchanged.")
            for reason in result.reasons:
                self.say(f"  - {reason}")
            self.say("Fix the annotations in the console's NLU inbox (Annotated tab), then run `make retrain` again.")
        elif not promote:
            self.say("\nThe candidate passed every check; not promoted (--no-promote).")
        else:
            problem = self._promote(hashes, fingerprint)
            if problem:
                result.reasons.append(problem)
                self.say(f"\nNOT PROMOTED: {problem}")
            else:
                result.promoted = True
                store.mark_applied(self.engine, self.run_id, {p.annotation_id: p.where for p in result.placements})
                self.say(
                    f"\nPROMOTED: {self.project.current_model} is the candidate of run "
                    f"{self.run_id}; "
                    f"the previous model is kept for `make rollback`."
                )
                self._wait_for_reload(sha256_of(self.project.current_model))
        summary["promoted"] = result.promoted
        summary["reasons"] = result.reasons
        if self.run_dir.exists():
            from practice.retrain.report import write_report

            (self.run_dir / "result.json").write_text(json.dumps(summary, indent=2), "utf-8")
            report = write_report(self.run_dir, result, self.evaluation)
            self.say(f"Report: {report}")
        self.say(f"Run {self.run_id} took {time.monotonic() - started:.0f} s; report in {self.run_dir}")
        return result

    def _promote(self, hashes: Mapping[str, str | None], fingerprint: str | None) -> str | None:
        project = self.project
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
        promoted_hashes = {name: sha256_of(self.workspace / name) for name in (NLU_FILE, HOLDOUT_FILE)}
        (staging / "promotion.json").write_text(
            json.dumps(
                {
                    "run_id": self.run_id,
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
        replace_file(self.candidate, project.current_model)
        for name in (NLU_FILE, HOLDOUT_FILE):
            source = self.workspace / name
            if source.exists() and sha256_of(source) != sha256_of(project.root / name):
                replace_file(source, project.root / name)
        if fingerprint:
            write_atomically(project.current_fingerprint, fingerprint + "\n")
            if fingerprint != training_fingerprint(project.root):
                self.say(
                    "      note: other training files changed during the run; the launcher "
                    "will see the model as stale and retrain it at the next start."
                )
        return None

    def _wait_for_reload(self, sha: str | None) -> None:
        wait_for_reload(self.project, self.settings, sha, self.say)


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
