"""Safety does not rest on one classifier guess: patterns that override the intent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Sequence, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

PATTERNS_FILE = Path(__file__).with_name("safety_patterns.yml")


@dataclass(frozen=True)
class SafetyRule:
    """One safety intent and the patterns that force it, checked in file order."""

    intent: str
    patterns: Sequence[Pattern[str]]

    def matches(self, text: str) -> Optional[str]:
        """The first pattern found in `text`, or None."""
        for pattern in self.patterns:
            if pattern.search(text):
                return pattern.pattern
        return None


def load_safety_rules(path: Path = PATTERNS_FILE) -> List[SafetyRule]:
    """Read the safety rules, highest priority first."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return [
        SafetyRule(
            intent=entry["intent"],
            patterns=[re.compile(p, re.IGNORECASE) for p in entry["patterns"]],
        )
        for entry in raw["rules"]
    ]


def normalise(text: str) -> str:
    """Lower-case, straight quotes, single spaces: what the patterns are written against."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text)


def match_safety_intent(rules: Sequence[SafetyRule], text: str) -> Optional[Dict[str, str]]:
    """The safety intent a text must get, with the pattern that decided it, or None."""
    normalised = normalise(text)
    for rule in rules:
        pattern = rule.matches(normalised)
        if pattern is not None:
            return {"intent": rule.intent, "pattern": pattern}
    return None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class SafetyGuard(GraphComponent):
    """Forces a safety intent when a red-flag, crisis or eating-disorder pattern matches.

    Runs last in the NLU pipeline, after the fallback classifier, so a message that is
    both unusual and urgent is still treated as urgent; the classifier's own ranking is
    kept for the logs.
    """

    def __init__(self, rules: Sequence[SafetyRule]) -> None:
        """Keep the compiled rules."""
        self._rules = list(rules)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyGuard":
        """Compile the patterns once per loaded model."""
        return cls(load_safety_rules())

    def process(self, messages: List[Message]) -> List[Message]:
        """Override the intent of every message that matches a safety rule."""
        for message in messages:
            found = match_safety_intent(self._rules, message.get(TEXT) or "")
            if found is None:
                continue
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(
                INTENT,
                {"name": found["intent"], "confidence": 1.0},
                add_to_output=True,
            )
            message.set(
                INTENT_RANKING_KEY,
                [{"name": found["intent"], "confidence": 1.0}]
                + [r for r in ranking if r.get("name") != found["intent"]],
                add_to_output=True,
            )
        return messages
