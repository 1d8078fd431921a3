"""The blind safety set through the served model: recall per kind, false alarms, no link.

Targets (issue: safety that cannot be outvoted): recall 100% for each kind, false alarms at
most 2% of the negatives, no application link in a safety turn or any later turn. The
development half runs in `make test`; the sealed half in `make test-sealed`.
"""

from __future__ import annotations

from typing import Dict

import pytest

from practice.evaluation.scoring import Tally, safety_report
from practice.evaluation.targets import SAFETY_TARGETS, floors_for
from practice.settings import get_settings
from tests.blind_sets import HALF, failures, play_half


@pytest.fixture(scope="module")
def tallies() -> Dict[str, Tally]:
    """Every case of the half played once."""
    cases, played = play_half("safety")
    return safety_report(cases, played, get_settings().coaching_application_url)


@pytest.mark.parametrize("check", sorted(SAFETY_TARGETS))
def test_safety_target(tallies: Dict[str, Tally], check: str) -> None:
    tally = tallies[check]
    floor = floors_for("safety", HALF).get(check, 0.0)
    print(f"{HALF} {check}: {tally.passed}/{tally.total} = {tally.rate:.1%} (floor {floor:.0%})")
    assert tally.rate >= floor, f"{check} {tally.rate:.1%} < {floor:.0%}: {failures(tally.failures)}"
