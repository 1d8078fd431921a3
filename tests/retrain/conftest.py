"""Fixtures for the retraining tests: a copy of the assistant's project, a baseline model.

Tests that retrain work on a copy of the project data in a temporary directory (never the
repository's `data/nlu.yml` or `models/`). The baseline model is trained once per session,
or copied from `models/current.tar.gz` when that model is up to date with the copied data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Sequence, Tuple

import pytest
import sqlalchemy as sa

from practice.launcher import process_environment, train_command, training_fingerprint
from practice.retrain import store
from practice.retrain.project import Project, make_workspace
from practice.settings import PROJECT_ROOT, load_settings
from practice.store import migrations

POSTGRES_SCRIPT = PROJECT_ROOT / "scripts" / "postgres.sh"


def copy_project(destination: Path) -> Path:
    """Copy what training and the gate read (data, domain, config, tests' data) to `destination`."""
    make_workspace(Project(PROJECT_ROOT, PROJECT_ROOT / "models", PROJECT_ROOT / "var" / "retrain"), destination)
    return destination


def train_into(project: Path, model_dir: Path, log: Path) -> None:
    """Train `project` into `model_dir/current.tar.gz` with the launcher's fingerprint file."""
    model_dir.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        subprocess.run(
            train_command(model_dir, "current"),
            cwd=project,
            env=process_environment(load_settings({})),
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=600,
        )
    (model_dir / "current.fingerprint").write_text(training_fingerprint(project) + "\n")


@dataclass
class Baseline:
    """A project copy and its trained model, shared (read-only) by the session."""

    project: Path
    model_dir: Path


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """The project's data copied once, with a model trained on exactly that data."""
    root = tmp_path_factory.mktemp("baseline")
    project = copy_project(root / "project")
    model_dir = root / "models"
    repo_model = PROJECT_ROOT / "models" / "current.tar.gz"
    repo_stamp = PROJECT_ROOT / "models" / "current.fingerprint"
    fingerprint = training_fingerprint(project)
    if repo_model.exists() and repo_stamp.exists() and repo_stamp.read_text().strip() == fingerprint:
        model_dir.mkdir()
        shutil.copy2(repo_model, model_dir / "current.tar.gz")
        shutil.copy2(repo_stamp, model_dir / "current.fingerprint")
    else:
        train_into(project, model_dir, root / "train.log")
    return Baseline(project, model_dir)


@dataclass
class Workspace:
    """A private copy of the baseline: project, models, runs, database; the env that says so."""

    root: Path
    project: Path
    model_dir: Path
    runs_dir: Path
    database_url: str

    @property
    def env(self) -> Dict[str, str]:
        """Settings that point every command at this copy."""
        return {
            "DATABASE_URL": self.database_url,
            "MODEL_DIR": str(self.model_dir),
            "RETRAIN_DIR": str(self.runs_dir),
            "RETRAIN_PROJECT_DIR": str(self.project),
        }

    def engine(self) -> sa.engine.Engine:
        """An engine on the workspace's database."""
        return sa.create_engine(self.database_url, future=True)

    def retrain(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run `python -m practice.retrain ARGS` (what `make retrain` runs) on this copy."""
        env = {
            **os.environ,
            **self.env,
            "PYTHONWARNINGS": "ignore",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "RASA_TELEMETRY_ENABLED": "false",
        }
        return subprocess.run(
            [sys.executable, "-m", "practice.retrain", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def workspace(baseline: Baseline, tmp_path: Path) -> Workspace:
    """A fresh copy of the baseline project and model, with its own SQLite database."""
    project = tmp_path / "project"
    shutil.copytree(baseline.project, project, symlinks=True)
    model_dir = tmp_path / "models"
    shutil.copytree(baseline.model_dir, model_dir)
    return Workspace(
        tmp_path,
        project,
        model_dir,
        tmp_path / "runs",
        f"sqlite:///{tmp_path / 'conversations.db'}",
    )


def seed_user_messages(
    engine: sa.engine.Engine, messages: Sequence[Tuple[str, str, float]], age_seconds: float = 60.0
) -> None:
    """Log visitor messages as Rasa's SQL tracker store does: (text, intent, confidence)."""
    store.metadata.create_all(engine, tables=[store.events])
    now = time.time() - age_seconds
    with engine.begin() as connection:
        for number, (text, intent, confidence, *ranking) in enumerate(messages):
            # An optional 4th item: the model's ranking, as [(name, confidence), ...].
            parse = {
                "intent": {"name": intent, "confidence": confidence},
                "entities": [],
                "text": text,
                "intent_ranking": [
                    {"name": n, "confidence": c} for n, c in (ranking[0] if ranking else [(intent, confidence)])
                ],
            }
            connection.execute(
                store.events.insert().values(
                    sender_id=f"{number:032x}",
                    type_name="user",
                    timestamp=now + number,
                    intent_name=intent,
                    data=json.dumps(
                        {
                            "event": "user",
                            "timestamp": now + number,
                            "text": text,
                            "parse_data": parse,
                            "input_channel": "rest",
                        }
                    ),
                )
            )


def postgres_database(name: str) -> str:
    """A database on the project's throwaway PostgreSQL cluster (scripts/postgres.sh)."""
    try:
        done = subprocess.run(
            [str(POSTGRES_SCRIPT), "start", name],
            check=True,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except (subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(
            f"PostgreSQL is needed (scripts/apt-install.sh postgresql): {error} {getattr(error, 'stderr', '')}",
            pytrace=False,
        )
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    """An empty database of each kind with Rasa's `events` table and the retrain tables."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'conversations.db'}"
    else:
        url = postgres_database("practice_retrain_test")
    created = sa.create_engine(url, future=True)
    store.metadata.drop_all(created)
    migrations.forget(created)
    store.events.create(created)  # Rasa's, as its tracker store makes it
    migrations.upgrade(created)
    yield created
    store.metadata.drop_all(created)
    created.dispose()
