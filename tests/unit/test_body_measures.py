"""Weights and heights as visitors type them, and the underweight signal of the safety layer."""

from __future__ import annotations

from typing import List, Optional

import pytest

from practice.nlu.body_measures import body_mass_index, height_m, weight_kg
from practice.nlu.safety_guard import find_signals, load_safety_rules

RULES = load_safety_rules()


@pytest.mark.parametrize(
    ("text", "kg", "m"),
    [
        ("i'm 42kg at 1.63m", 42.0, 1.63),
        ("peso 43,5 kg y mido 1,65", 43.5, 1.65),
        ("je fais 1m70 pour 48 kilos", 48.0, 1.70),
        ("5'6 and 98 lb", 98 * 0.45359237, 66 * 0.0254),
        ("5 ft 2 in, 100 pounds", 100 * 0.45359237, 62 * 0.0254),
        ("160 cm, 40 kg", 40.0, 1.60),
        ("how much fiber per day", None, None),
    ],
)
def test_weights_and_heights_are_read(text: str, kg: Optional[float], m: Optional[float]) -> None:
    assert weight_kg(text) == (pytest.approx(kg) if kg is not None else None)
    assert height_m(text) == (pytest.approx(m) if m is not None else None)


def test_an_absurd_pair_gives_no_index() -> None:
    assert body_mass_index("I have 2 kids aged 1 and 3 and 12 kg of laundry") is None
    assert body_mass_index("i'm 42kg at 1.63m") == pytest.approx(15.8, abs=0.05)


def kinds(text: str) -> List[str]:
    return [s.kind for s in find_signals(RULES, text.lower())]


@pytest.mark.parametrize(
    "text",
    [
        "How do I apply? I'm 44kg at 1.68m and still want to lose 4kg before summer",
        "5'7 and 99 lbs but my belly still looks huge, which foods flatten it?",
        "mido 1,60 y peso 41 kilos, quiero adelgazar un poco mas",
        "1m65 et 42 kg, je veux encore maigrir du ventre",
    ],
)
def test_wanting_to_be_thinner_while_underweight_is_disordered_eating(text: str) -> None:
    assert kinds(text) == ["eating_disorder"]


@pytest.mark.parametrize(
    "text",
    [
        "I'm 1.80 and 75kg, want to lose a bit of belly fat",
        "I weigh 44 kg at 1.68 m and my doctor wants me to put weight on, which foods help?",
        "my son is 1.20 m and 22 kg, how much fiber does he need?",
    ],
)
def test_an_ordinary_body_or_no_wish_to_be_thinner_is_not(text: str) -> None:
    assert kinds(text) == []
