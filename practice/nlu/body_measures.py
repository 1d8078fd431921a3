"""A weight and a height in one message: the body mass index they give, for the safety layer.

"I'm 42kg at 1.63m and want to lose another 5kg", "5'6 and 98 lb but my belly is huge":
wanting to be thinner at a body mass index below the threshold (17.5, the usual line for
anorexia nervosa) is disordered eating whatever words carry it. Weights in kilograms or
pounds, heights in metres, centimetres or feet and inches, in English, Spanish and French,
as visitors type them; the cue words (wanting to lose, a flatter belly, feeling fat) are in
safety_frames.yml (`underweight`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Pattern, Sequence

_NUMBER = r"(\d{2,3}(?:[.,]\d{1,2})?)"
_KILOGRAMS = re.compile(_NUMBER + r"\s?(?:kg|kgs|kilos?|kilogram\w*|kilogramo\w*)\b")
_POUNDS = re.compile(_NUMBER + r"\s?(?:lb|lbs|pounds?|libras?|livres?)\b")
_METRES = re.compile(r"(?<![\d.,])([12][.,]\d{1,2})\s?(?:m|mts?|metros?|metres?|meters?)?(?![\d.,%])")
_CENTIMETRES = re.compile(r"(?<![\d.,])(1\d{2}|2[0-2]\d)\s?cm\b")
_METRES_AND_CM = re.compile(r"(?<![\d.,])([12])\s?m\s?(\d{2})\b")  # "1m70", French style
_FEET = re.compile(
    r"(?<![\d.,])([4-6])\s?(?:'|’|ft|feet|foot)\s?(?:(\d{1,2})\s?(?:\"|''|”|in|inch|inches)?)?(?![\d.,])"
)

KG_PER_POUND = 0.45359237
METRES_PER_INCH = 0.0254


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def weight_kg(text: str) -> Optional[float]:
    """The first weight the text states, in kilograms."""
    found = _KILOGRAMS.search(text)
    if found:
        return _number(found.group(1))
    found = _POUNDS.search(text)
    return _number(found.group(1)) * KG_PER_POUND if found else None


def height_m(text: str) -> Optional[float]:
    """The first height the text states, in metres."""
    found = _FEET.search(text)
    if found:
        inches = int(found.group(1)) * 12 + int(found.group(2) or 0)
        return inches * METRES_PER_INCH
    found = _CENTIMETRES.search(text)
    if found:
        return int(found.group(1)) / 100
    found = _METRES_AND_CM.search(text)
    if found:
        return int(found.group(1)) + int(found.group(2)) / 100
    found = _METRES.search(text)
    return _number(found.group(1)) if found else None


def body_mass_index(text: str) -> Optional[float]:
    """kg / m² from the weight and height the text states, or None (one missing, or absurd)."""
    weight, height = weight_kg(text), height_m(text)
    if weight is None or height is None or not 1.2 <= height <= 2.3 or not 25 <= weight <= 250:
        return None
    return weight / (height * height)


@dataclass(frozen=True)
class Underweight:
    """Wanting to be thinner at a body mass index below `max_bmi`."""

    max_bmi: float
    cues: Sequence[Pattern[str]]

    def evidence(self, text: str) -> Optional[str]:
        """`bmi:<value>` when the text (lower case, no accents) states such a body and a cue."""
        bmi = body_mass_index(text)
        if bmi is None or bmi >= self.max_bmi or not any(cue.search(text) for cue in self.cues):
            return None
        return f"bmi:{bmi:.1f}"
