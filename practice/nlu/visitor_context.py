"""What the visitor says about themselves, and what they ask that the article does not cover.

Adds to each message (add_to_output):
- `situation`: `[{"kind": "allergy", "foods": [...], "leave_out": [...]}, {"kind": "pregnancy"}, ...]`
- `not_covered`: the name of a near-domain subject the article lacks ("coffee", "SIBO").
Patterns and names live in `visitor_context.yml` beside this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Sequence, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from practice.dialogue.plan import topic_of_intent
from practice.nlu.safety_guard import SENTENCE_OF_KEY, keep_classifier_intent

CONTEXT_FILE = Path(__file__).with_name("visitor_context.yml")
SITUATION_KEY = "situation"
NOT_COVERED_KEY = "not_covered"
NOT_COVERED_INTENT = "ask_beyond_article"
# Below this, "the article doesn't cover that" beside a situation yields to the next guess.
SURE_NOT_COVERED = 0.9
ARTICLE_FOODS = (
    "yogurt",
    "kefir",
    "kimchi",
    "sauerkraut",
    "miso",
    "berries",
    "oranges",
    "broccoli",
    "carrots",
    "zucchini",
    "walnuts",
    "cashews",
    "chia seeds",
    "oats",
    "brown rice",
    "quinoa",
)
_SPLIT_FOODS = re.compile(r"\s*(?:,|&|/|\band\b|\bor\b|\bplus\b|\by\b|\bet\b|\bo\b|\bou\b)\s*")


@dataclass(frozen=True)
class ContextRules:
    """The compiled patterns of visitor_context.yml."""

    situations: Sequence[Tuple[str, Sequence[Pattern[str]]]]
    allergy: Sequence[Pattern[str]]
    not_foods: frozenset
    allergens: Dict[str, Sequence[str]]
    not_covered: Sequence[Tuple[str, Pattern[str]]]
    # Not-covered subjects a question about causing leaky gut gets the causes answer for.
    causes_subjects: frozenset = frozenset()
    causes_question: Optional[Pattern[str]] = None


def load_context_rules(path: Path = CONTEXT_FILE) -> ContextRules:
    """Read and compile visitor_context.yml."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))

    def compile_all(patterns: Sequence[str]) -> List[Pattern[str]]:
        return [re.compile(p, re.IGNORECASE) for p in patterns]

    return ContextRules(
        situations=[(kind, compile_all(p)) for kind, p in raw["situation"].items()],
        allergy=compile_all(raw["allergy"]["statement"]),
        not_foods=frozenset(raw["allergy"]["not_foods"]),
        allergens={k.lower(): tuple(v) for k, v in raw["allergens"].items()},
        not_covered=[(name, re.compile(p, re.IGNORECASE)) for name, p in raw["not_covered"].items()],
        causes_subjects=frozenset(raw["answered_as_causes"]["subjects"]),
        causes_question=re.compile(raw["answered_as_causes"]["question"], re.IGNORECASE),
    )


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("\u2019", "'").replace("\u2018", "'")).strip()


def _named_foods(phrase: str, not_foods: frozenset) -> List[str]:
    foods = []
    for piece in _SPLIT_FOODS.split(phrase):
        words = [w for w in piece.strip(" .'-").split() if w not in not_foods]
        if words and len(words) <= 3:
            foods.append(" ".join(words))
    return foods


def leave_out(foods: Sequence[str], rules: ContextRules) -> List[str]:
    """The article's foods an allergy to `foods` takes out of its food list."""
    out: List[str] = []
    for food in foods:
        singular = food[:-1] if food.endswith("s") and not food.endswith("ss") else food
        for key in (food, singular):
            out.extend(rules.allergens.get(key, ()))
        out.extend(f for f in ARTICLE_FOODS if food in (f, f.rstrip("s")) or singular == f.rstrip("s"))
    return list(dict.fromkeys(out))


def read_context(rules: ContextRules, text: str) -> Dict[str, Any]:
    """The situation and not-covered subject of one message (empty dict when neither)."""
    normalised = _normalise(text)
    found: Dict[str, Any] = {}
    situation: List[Dict[str, Any]] = []
    spans: List[Tuple[int, int]] = []
    for kind, patterns in rules.situations:
        for pattern in patterns:
            match = pattern.search(normalised)
            if match:
                situation.append({"kind": kind})
                spans.append(match.span())
                break
    foods: List[str] = []
    allergic = False
    for pattern in rules.allergy:
        for match in pattern.finditer(normalised):
            allergic = True
            if "foods" in pattern.groupindex and match.group("foods"):
                foods.extend(_named_foods(match.group("foods"), rules.not_foods))
    if allergic:
        foods = list(dict.fromkeys(foods))
        situation.append({"kind": "allergy", "foods": foods, "leave_out": leave_out(foods, rules)})
    if situation:
        found[SITUATION_KEY] = situation
    for name, pattern in rules.not_covered:
        match = pattern.search(normalised)
        if match and not any(a <= match.start() < b for a, b in spans):
            if name in rules.causes_subjects and rules.causes_question and rules.causes_question.search(normalised):
                continue
            found[NOT_COVERED_KEY] = name
            break
    return found


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class VisitorContext(GraphComponent):
    """Adds `situation` and `not_covered` to every message (patterns, no training)."""

    def __init__(self, rules: ContextRules) -> None:
        """Keep the compiled rules."""
        self._rules = rules

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VisitorContext":
        """Compile the patterns once per loaded model."""
        return cls(load_context_rules())

    def process(self, messages: List[Message]) -> List[Message]:
        """Set the keys found on each message (sentence copies only feed the safety reading)."""
        for message in messages:
            if message.get(SENTENCE_OF_KEY) is not None:
                continue
            for key, value in read_context(self._rules, message.get(TEXT) or "").items():
                message.set(key, value, add_to_output=True)
            if message.get(SITUATION_KEY):
                answer_beside_situation(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to training examples."""
        return training_data


def question_beside_situation(intent: Dict[str, Any], ranking: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The article question asked beside the visitor's own situation, or None.

    "I'm on omeprazole, which foods should I avoid?": the situation words pull the
    classifier to "the article doesn't cover that" while its next guess is the question
    asked. The situation is acknowledged on its own (the visitor is sent to their doctor,
    OB or pediatrician); the question keeps its general answer. A message the classifier
    is sure the article lacks keeps that intent.
    """
    if intent.get("name") != NOT_COVERED_INTENT or float(intent.get("confidence") or 0.0) >= SURE_NOT_COVERED:
        return None
    runner_up = ranking[1] if len(ranking) > 1 else {}
    name = str(runner_up.get("name") or "")
    if topic_of_intent(name) is None:
        return None
    return {"name": name, "confidence": runner_up.get("confidence")}


def answer_beside_situation(message: Message) -> None:
    """Replace a not-covered guess by the question asked beside the situation (see above)."""
    question = question_beside_situation(message.get(INTENT) or {}, message.get(INTENT_RANKING_KEY) or [])
    if question is not None:
        keep_classifier_intent(message)
        message.set(INTENT, question, add_to_output=True)


def situation_of(parse_data: Dict[str, Any], kind: str) -> Optional[Dict[str, Any]]:
    """The situation entry of one kind in a parse result, if the visitor mentioned it."""
    for entry in parse_data.get(SITUATION_KEY) or []:
        if entry.get("kind") == kind:
            return entry
    return None
