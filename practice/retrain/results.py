"""What a retrain run decides: where each annotation goes, what the models said, each gate
check, the run's result.

Its own module so that the pipeline that produces these and the report that writes them
both depend on it, not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List


@dataclass(frozen=True)
class Prediction:
    """What a model said about one text."""

    intent: str
    confidence: float


@dataclass
class Placement:
    """Where one approved annotation goes: 'training', 'holdout' or 'skipped' (with why)."""

    annotation_id: int
    text: str
    intent: str
    where: str
    reason: str = ""


@dataclass
class Check:
    """One gate check and its outcome."""

    name: str
    passed: bool
    detail: str


@dataclass
class RunResult:
    """What a retrain run decided and where its report is."""

    run_id: str
    run_dir: Path
    promoted: bool
    checks: List[Check] = field(default_factory=list)
    placements: List[Placement] = field(default_factory=list)
    reasons: List[str] = field(default_factory=list)
    nothing_to_do: bool = False

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return bool(self.checks) and all(c.passed for c in self.checks)
