"""The console's retraining job survives a console restart (practice/console/views/retrain.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from practice.console.views.retrain import Job, load_job, save_job
from practice.retrain.project import Project
from practice.retrain.promotion import exclusive


def project_in(tmp_path: Path) -> Project:
    """An empty project: no model, no runs yet."""
    return Project(tmp_path, tmp_path / "models", tmp_path / "runs")


def test_a_running_job_is_shown_again_after_a_restart(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    project.runs_dir.mkdir(parents=True)
    log = project.runs_dir / "console-1-retrain.log"
    log.write_text("[1/6] Reading the approved annotations\n", "utf-8")
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        save_job(Job("retrain", "staff1", time.time(), log, None, pid=worker.pid), project)
        with exclusive(project):  # the run holds the project's lock, as `make retrain` does
            job = load_job(project)
        assert job is not None and job.running
        assert (job.kind, job.started_by) == ("retrain", "staff1")
        assert "Reading the approved annotations" in job.tail()
    finally:
        worker.kill()
        worker.wait()


def test_a_job_that_ended_unwatched_gets_its_outcome_from_its_log(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    project.runs_dir.mkdir(parents=True)
    log = project.runs_dir / "console-2-retrain.log"
    log.write_text("Nothing to retrain: no approved annotations.\n", "utf-8")
    # A pid no process has any more (the run ended while the console was down).
    save_job(Job("retrain", "staff1", time.time() - 600, log, None, pid=2**22 + 12345), project)
    job = load_job(project)
    assert job is not None and not job.running
    assert job.outcome.startswith("nothing to retrain")
    assert load_job(project).outcome == job.outcome  # recorded once, read back the same


def test_no_record_is_no_job(tmp_path: Path) -> None:
    assert load_job(project_in(tmp_path)) is None


def test_a_job_is_never_finished_without_its_outcome(tmp_path: Path) -> None:
    """The page shows "finished" only once the verdict is there to show with it."""
    import asyncio

    from practice.console.views import retrain

    project = project_in(tmp_path)
    project.runs_dir.mkdir(parents=True)
    log = project.runs_dir / "console-3-retrain.log"
    log.write_text("Nothing to retrain: no approved annotations.\n", "utf-8")
    job = Job("retrain", "staff1", time.time(), log, None)
    seen_while_deciding = []
    original = retrain.job_outcome

    def outcome_seen(job_now: Job, project_now: Project) -> tuple:
        seen_while_deciding.append(job_now.running)
        return original(job_now, project_now)

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    retrain.job_outcome = outcome_seen
    try:
        asyncio.run(retrain._watch(None, job, process, project, None))
    finally:
        retrain.job_outcome = original
    assert seen_while_deciding == [True]
    assert not job.running and job.outcome.startswith("nothing to retrain")
    assert load_job(project).outcome == job.outcome
