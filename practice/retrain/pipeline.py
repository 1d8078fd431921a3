"""`make retrain`: approved annotations to a promoted model, behind a gate.

A run works in `var/retrain/<run id>/`: a copy of the assistant's data with the approved
examples added (`workspace/`), the candidate model, the logs, and the report. The
repository's data and `models/current.tar.gz` change only when every check passes:

1. validate the data (`rasa data validate --fail-on-warnings`);
2. train a candidate from the workspace;
3. the held-out NLU set: candidate accuracy must not drop below the current model's;
4. safety: every safety example of the held-out set right (full pipeline), the classifier
   alone no worse on them than before, no new example labelled against a safety pattern,
   the safety-pattern unit tests green;
5. the conversation tests pass with the candidate (`--fail-on-prediction-errors`);
6. the blind sets' development halves: no category below its floor.

`Retrain` only orders the steps; each lives in its own module: the workspace and the
placement of new examples (project.py), the commands the gate runs (checks.py), the
predictions (evaluate.py), the rules over them (gate.py), promotion and rollback
(promotion.py) and the report (report.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping

from sqlalchemy.engine import Engine

from practice.launcher import process_environment, train_command, training_fingerprint
from practice.retrain import checks, evaluate, store
from practice.retrain.project import (
    Project,
    apply_placements,
    known_texts,
    make_workspace,
    plan_placements,
    sha256_of,
)
from practice.retrain.promotion import promote as promote_candidate
from practice.retrain.promotion import wait_for_reload
from practice.retrain.results import Check, RunResult
from practice.settings import Settings

Say = Callable[[str], None]


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
        self.steps = 7
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
        validated = checks.validate_data(self.workspace, self.run_dir, self.env, self.say)
        result.checks.append(validated)
        if not validated.passed:
            self.say(checks.tail(self.run_dir / "validate.log"))
            return self._finish(result, started, promote, hashes, None)

        self._say_step("Training the candidate model (usually 20-40 s)")
        train_log = self.run_dir / "train.log"
        code = checks.run_command(
            train_command(self.run_dir, "candidate"),
            self.workspace,
            train_log,
            self.env,
            self.say,
            "training",
        )
        if code != 0 or not self.candidate.exists():
            result.checks.append(Check("candidate trains", False, f"training failed, see {train_log}"))
            self.say(checks.tail(train_log))
            return self._finish(result, started, promote, hashes, None)
        fingerprint = training_fingerprint(self.workspace)

        self._say_step("Held-out NLU set: candidate against the current model")
        with checks.quiet(self.run_dir / "evaluate.log"):
            evaluation = evaluate.compare_models(
                self.workspace,
                self.candidate,
                self.project.current_model,
                placements,
                self._inbox_texts(),
                self.run_dir,
                self.run_id,
                self.say,
            )
        result.checks.extend(evaluation["checks"])

        self._say_step("Safety: pattern unit tests and labels against the safety patterns")
        result.checks.extend(checks.safety_checks(placements, self.project.code_root, self.run_dir, self.env, self.say))

        self._say_step("Conversation tests with the candidate (rasa test core, served runtime)")
        result.checks.append(
            checks.conversation_tests(self.candidate, self.workspace, self.run_dir, self.env, self.say)
        )

        self._say_step("Blind sets (development halves): every category at its floor")
        result.checks.extend(
            checks.blind_set_checks(self.candidate, self.project.code_root, self.run_dir, self.env, self.say)
        )

        self.evaluation = evaluation
        return self._finish(result, started, promote, hashes, fingerprint)

    def _data_changed_since_current(self) -> bool:
        stamp = self.project.current_fingerprint
        if not self.project.current_model.exists() or not stamp.exists():
            return True
        return stamp.read_text().strip() != training_fingerprint(self.project.root)

    def _inbox_texts(self, limit: int = 3000) -> List[str]:
        import sqlalchemy as sa

        store.ensure_schema(self.engine)
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(store.inbox.c.text).order_by(store.inbox.c.count.desc()).limit(limit)
            ).all()
        return [row.text for row in rows]

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
            problem = promote_candidate(
                self.project, self.run_id, self.candidate, self.workspace, hashes, fingerprint, self.say
            )
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
                wait_for_reload(self.project, self.settings, sha256_of(self.project.current_model), self.say)
        summary["promoted"] = result.promoted
        summary["reasons"] = result.reasons
        if self.run_dir.exists():
            from practice.retrain.report import write_report

            (self.run_dir / "result.json").write_text(json.dumps(summary, indent=2), "utf-8")
            report = write_report(self.run_dir, result, self.evaluation)
            self.say(f"Report: {report}")
        self.say(f"Run {self.run_id} took {time.monotonic() - started:.0f} s; report in {self.run_dir}")
        return result
