"""Where a retrain run reads and writes: the project, its data files and the run's copy of them.

A run never writes to the project's data while it works: `make_workspace` copies what
training and the gate read into `var/retrain/<run>/workspace/`, `plan_placements` decides
which approved texts train and which are held out, and `apply_placements` writes them into
the copy. Promotion (practice/retrain/promotion.py) puts the copy's files back in place.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Set

from practice.retrain import store
from practice.retrain.nlu_yaml import add_examples_to_file, read_example_files
from practice.retrain.results import Placement
from practice.retrain.text import clean_example, normalise
from practice.settings import PROJECT_ROOT, Settings

COPIED = ("config.yml", "domain.yml", "data", "tests/nlu/holdout.yml", "tests/test_stories.yml")
# Read by training but not changed by a run: linked, so the fingerprint sees the same files.
LINKED = ("build", "practice")
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
