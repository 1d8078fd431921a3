"""The blind understanding set through the served model, one line per category.

Targets (issue: understanding what visitors actually write), on the sealed half: article
topics >= 95%, both parts of two-part questions >= 90%, follow-ups >= 90%, near-domain
answered as not covered >= 95%, own situation acknowledged >= 90%, off-topic handled as out
of scope >= 97%. `make test` runs the development half; `make test-sealed` the sealed one.
"""

from __future__ import annotations

from typing import Dict

import pytest

from practice.evaluation.scoring import Tally, understanding_report
from practice.evaluation.targets import UNDERSTANDING_TARGETS, floors_for
from tests.blind_sets import HALF, failures, play_half


@pytest.fixture(scope="module")
def tallies() -> Dict[str, Tally]:
    """Every case of the half played once."""
    cases, played = play_half("understanding")
    return understanding_report(cases, played)


@pytest.mark.parametrize("check", sorted(UNDERSTANDING_TARGETS))
def test_understanding_target(tallies: Dict[str, Tally], check: str) -> None:
    tally = tallies[check]
    floor = floors_for("understanding", HALF).get(check, 0.0)
    print(f"{HALF} {check}: {tally.passed}/{tally.total} = {tally.rate:.1%} (floor {floor:.0%})")
    assert tally.rate >= floor, f"{check} {tally.rate:.1%} < {floor:.0%}: {failures(tally.failures)}"
