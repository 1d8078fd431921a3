"""The safety layer: every sentence of every message, whatever the classifier guessed.

Patterns in English, Spanish and French (`safety_patterns*.yml` beside this module) find
red flags, crisis and disordered eating in each sentence and in each pair of adjacent
sentences, so a signal buried in a long message counts as much as a short one. Frames
(`safety_frames.yml`) find the signals the patterns' exact phrasings miss: what a passage
talks about (blood and the toilet, weight lost without trying, pills saved up), in any
order and wording. Every kind found is reported (multi-label); the highest-priority one
becomes the intent.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Pattern, Sequence, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from practice.nlu.body_measures import Underweight
from practice.nlu.pattern_screen import ScreenedPatterns, ScreenText

PATTERNS_FILE = Path(__file__).with_name("safety_patterns.yml")
FRAMES_FILE = Path(__file__).with_name("safety_frames.yml")
# English first; other languages' files are read when present (safety_patterns_es.yml, ...).
PATTERN_FILES = (PATTERNS_FILE, *sorted(Path(__file__).parent.glob("safety_patterns_*.yml")))

# The kind each safety intent stands for, highest priority first: a crisis before a red
# flag before disordered eating when several occur in one message.
SAFETY_KINDS: Dict[str, str] = {
    "express_self_harm": "crisis",
    "report_red_flag_symptoms": "red_flag",
    "mention_disordered_eating": "eating_disorder",
}
KIND_ORDER = tuple(SAFETY_KINDS.values())
SAFETY_KEY = "safety"
# A message the safety model reads as likely but not surely a signal (practice/nlu/safety_model.py).
SAFETY_DOUBT_KEY = "safety_doubt"
# Set by QuestionSplitter on its copies of a message (practice/nlu/question_parts.py).
PART_OF_KEY = "part_of"
SENTENCE_OF_KEY = "sentence_of"
CLASSIFIER_INTENT_KEY = "classifier_intent"
# The channels cap a message at 2,000 characters; the layer reads all of it.
MAX_TEXT_CHARS = 2000
# A clause starts at "but" too, except where "but" means "only" ("nothing but water").
_SENTENCE_END = re.compile(
    r"(?<=[.!?;:])\s+|\s*\n+\s*|(?<!nothing)(?<!anything)(?<!\ball)\s+(?:but|although|though|pero|mais)\s+"
)


@dataclass(frozen=True)
class SafetyFrame:
    """Concepts that together make a signal when they occur close together in a passage.

    Each concept is one compiled alternation of word forms; the frame matches when every
    concept has a hit (the first concept's not right after a negation), the passage is not
    about an animal, all hits within `window` characters of
    each other, and (when `personal`) the passage speaks of the visitor or someone close.
    """

    name: str
    kind: str
    concepts: Sequence[Tuple[str, Pattern[str]]]
    window: int
    personal: bool
    personal_marker: Pattern[str]
    negation: Pattern[str]
    not_about: Pattern[str]

    def _hits(self, concept: Pattern[str], text: str, negatable: bool) -> List[Tuple[int, int]]:
        return [
            found.span()
            for found in concept.finditer(text)
            if not (negatable and self.negation.search(text[max(0, found.start() - 24) : found.start()]))
        ]

    def could_match(self, text: str) -> bool:
        """False when one of the concepts occurs nowhere in `text` (without accents)."""
        return all(concept.search(text) for _, concept in self.concepts)

    def matches(self, text: str) -> bool:
        """True when every concept occurs in `text` (without accents), close enough together."""
        if self.kind != "crisis" and self.not_about.search(text):
            return False
        if self.personal and not (self.personal_marker.search(text) or _is_report(text)):
            return False
        spans = []
        for index, (_, concept) in enumerate(self.concepts):
            hits = self._hits(concept, text, negatable=index == 0)
            if not hits:
                return False
            spans.append(hits)
        if len(spans) == 1 or self.window <= 0:
            return True
        # Any choice of one hit per concept whose hits lie within the window.
        return _within_window(spans, self.window)


_QUESTION_START = re.compile(
    r"^\W*(is|are|can|could|does|do|did|should|would|will|what|why|how|which|when|"
    r"es|son|puede|pueden|que|por que|como|cual|est-ce|est ce|peut|peuvent|pourquoi|comment|quel\w*)\b"
)


def _is_report(text: str) -> bool:
    """A statement rather than a question: "went to the loo and it was red" reports."""
    return "?" not in text and not _QUESTION_START.search(text)


def _within_window(spans: Sequence[Sequence[Tuple[int, int]]], window: int) -> bool:
    """Whether one hit of each concept can be picked so that the farthest two are at most
    `window` characters apart (from the end of one to the start of the other)."""
    return any(
        max(start for start, _ in chosen) - min(end for _, end in chosen) <= window
        for chosen in itertools.product(*spans)
    )


class Reading:
    """One message as the rules read it: its passages, as written and without accents, and
    what is worth searching in them, worked out once for every rule."""

    def __init__(self, text: str) -> None:
        """Normalise `text` (its first MAX_TEXT_CHARS characters) and cut it into passages."""
        normalised = normalise(text[:MAX_TEXT_CHARS])
        found = sentences(normalised)
        candidates = found + pairs(found)
        self.plain = list(dict.fromkeys(strip_accents(p) for p in candidates))
        self.every = list(dict.fromkeys(candidates + self.plain))
        self.whole = strip_accents(normalised)
        # Every passage is a piece of the sentences joined by single spaces, as written or
        # without accents (accents come off character by character); with one sentence the
        # joined text is that sentence, and searching it first would only search it twice.
        joined = " ".join(found)
        self.joined = tuple(dict.fromkeys((joined, strip_accents(joined)))) if len(found) > 1 else ()
        # What the required words are looked for in: every passage and the whole message.
        self.screen_text = ScreenText((joined, strip_accents(joined), self.whole))
        self._mentions: Dict[int, bool] = {}

    def concepts_in_whole(self, concepts: ScreenedPatterns) -> FrozenSet[int]:
        """The indices of the frames' concepts that occur in the whole message without
        accents; each searched once per message however many frames and rules share it."""
        return frozenset(i for i in concepts.possible(self.screen_text) if self._mentions_(concepts.patterns[i]))

    def _mentions_(self, concept: Pattern[str]) -> bool:
        found = self._mentions.get(id(concept))
        if found is None:
            found = self._mentions[id(concept)] = concept.search(self.whole) is not None
        return found


@dataclass(frozen=True)
class SafetyRule:
    """One safety intent, the patterns that force it and the frames that find it.

    Searched one pattern at a time: joined into one alternation they lose the regex engine's
    literal-prefix shortcuts and ran ten times slower (bench/nlu_cost.py). Each message
    first rules out the patterns it cannot match (`screened`, practice/nlu/pattern_screen.py).
    """

    intent: str
    patterns: Sequence[Pattern[str]]
    frames: Sequence[SafetyFrame] = ()
    underweight: Optional[Underweight] = None
    screened: ScreenedPatterns = field(init=False, repr=False, compare=False)
    concepts: ScreenedPatterns = field(init=False, repr=False, compare=False)
    frame_concepts: Sequence[FrozenSet[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Read the screens of the patterns and of the frames' concepts once per loaded rule."""
        concepts = list({id(c): c for frame in self.frames for _, c in frame.concepts}.values())
        index = {id(c): i for i, c in enumerate(concepts)}
        object.__setattr__(self, "screened", ScreenedPatterns(self.patterns))
        object.__setattr__(self, "concepts", ScreenedPatterns(concepts))
        needs = tuple(frozenset(index[id(c)] for _, c in frame.concepts) for frame in self.frames)
        object.__setattr__(self, "frame_concepts", needs)

    def first_evidence(self, reading: Reading) -> Optional[Tuple[str, str]]:
        """(pattern or "frame:a+b", passage) of the first signal in the passages, or None.

        Patterns are tried on every passage as written and without accents (those the
        screens leave, in order); frames only on the passages without accents, and only
        frames whose concepts all occur somewhere in the whole message: most messages rule
        out every frame in one pass over the text.
        """
        patterns = self.screened.candidates(reading.screen_text, reading.joined)
        for passage in reading.every:
            for pattern in patterns:
                if pattern.search(passage):
                    return pattern.pattern, passage
        occurring = reading.concepts_in_whole(self.concepts) if self.frames else frozenset()
        live = [frame for frame, needs in zip(self.frames, self.frame_concepts, strict=True) if needs <= occurring]
        for passage in reading.plain if live else ():
            for frame in live:
                if frame.matches(passage):
                    return f"frame:{frame.name}", passage
        found = self.underweight.evidence(reading.whole) if self.underweight is not None else None
        return (found, reading.whole) if found else None


@dataclass(frozen=True)
class SafetySignal:
    """A safety kind found in a message, with the pattern and the passage that showed it."""

    kind: str
    intent: str
    pattern: str
    passage: str

    def as_dict(self) -> Dict[str, str]:
        """What the parse result and the stored event carry."""
        return {"kind": self.kind, "intent": self.intent, "pattern": self.pattern}


def _frames_config(path: Path) -> Dict[str, Any]:
    """safety_frames.yml, read once for the frames, the underweight cues and the sentence
    support words alike, and again only when the file changes (a model reloaded later)."""
    return _read_yaml(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_yaml(path: Path, _modified_ns: int) -> Dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_safety_frames(path: Path = FRAMES_FILE) -> Dict[str, List[SafetyFrame]]:
    """The frames of `path`, per safety intent, in file order."""
    raw = _frames_config(path)
    marker = re.compile(
        r"(?<!\w)(("
        + "|".join(raw["personal_markers"])
        + r")(?!\w)|("
        + "|".join(raw["personal_prefixes"])
        + r")(?=\w))"
    )
    negation = re.compile(r"(?<!\w)" + raw["negations"] + r"(?!\w)[\w' ]{0,16}\W*$")
    not_about = re.compile(raw["not_about"])
    concepts = {name: re.compile(r"(?<!\w)(" + "|".join(forms) + ")") for name, forms in raw["concepts"].items()}
    intents = {kind: intent for intent, kind in SAFETY_KINDS.items()}
    frames: Dict[str, List[SafetyFrame]] = {intent: [] for intent in SAFETY_KINDS}
    for entry in raw["frames"]:
        names = entry["concepts"]
        frames[intents[entry["kind"]]].append(
            SafetyFrame(
                name="+".join(names),
                kind=entry["kind"],
                concepts=[(n, concepts[n]) for n in names],
                window=int(entry.get("window", 0)),
                personal=bool(entry.get("personal", entry["kind"] == "red_flag")),
                personal_marker=marker,
                negation=negation,
                not_about=not_about,
            )
        )
    return frames


def load_underweight(path: Path = FRAMES_FILE) -> Underweight:
    """The body mass index below which wanting to be thinner is disordered eating, and its cues."""
    raw = _frames_config(path)["underweight"]
    return Underweight(float(raw["max_bmi"]), [re.compile(r"(?<!\w)" + cue) for cue in raw["cues"]])


def load_sentence_support(path: Path = FRAMES_FILE) -> Dict[str, Pattern[str]]:
    """Per safety kind, the words a classifier-only sentence signal must come with."""
    raw = _frames_config(path)
    return {kind: re.compile(r"(?<!\w)(" + "|".join(words) + ")") for kind, words in raw["sentence_support"].items()}


def load_safety_rules(path: Optional[Path] = None, frames: bool = True) -> List[SafetyRule]:
    """The rules of one file, or of every language's file merged per intent (the default),
    each with its frames unless `frames` is False or a single file is asked for."""
    paths: Iterable[Path] = (path,) if path is not None else PATTERN_FILES
    merged: Dict[str, List[Pattern[str]]] = {intent: [] for intent in SAFETY_KINDS}
    for file in paths:
        with file.open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
        for entry in raw["rules"]:
            merged.setdefault(entry["intent"], []).extend(re.compile(p, re.IGNORECASE) for p in entry["patterns"])
    found = load_safety_frames() if frames and path is None else {}
    underweight = load_underweight() if frames and path is None else None
    return [
        SafetyRule(
            intent=i,
            patterns=p,
            frames=tuple(found.get(i, ())),
            underweight=underweight if SAFETY_KINDS[i] == "eating_disorder" else None,
        )
        for i, p in merged.items()
        if p or found.get(i)
    ]


def normalise(text: str) -> str:
    """Lower-case, straight quotes, single spaces: what the patterns are written against."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"[ \t\r\f\v]+", " ", text)


def strip_accents(text: str) -> str:
    """The text without combining accents ("está" -> "esta"), as visitors often type it."""
    if text.isascii():  # nothing to decompose, nothing combining
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def sentences(text: str) -> List[str]:
    """Each sentence or clause of a (normalised) text."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def pairs(found: Sequence[str]) -> List[str]:
    """Each pair of neighbouring sentences, joined by a space (a signal split over two)."""
    return [f"{a} {b}" for a, b in zip(found, found[1:], strict=False)]


def passages(text: str) -> List[str]:
    """Each sentence or clause, then each pair of neighbours."""
    found = sentences(text)
    return found + pairs(found)


def find_signals(rules: Sequence[SafetyRule], text: str) -> List[SafetySignal]:
    """Every safety kind in `text`, highest priority first, each with its first evidence."""
    reading = Reading(text)
    found: List[SafetySignal] = []
    for rule in rules:
        evidence = rule.first_evidence(reading)
        if evidence is not None:
            found.append(SafetySignal(SAFETY_KINDS[rule.intent], rule.intent, *evidence))
    return sorted(found, key=lambda s: KIND_ORDER.index(s.kind))


def match_safety_intent(rules: Sequence[SafetyRule], text: str) -> Optional[Dict[str, str]]:
    """The safety intent a text must get, with the pattern that decided it, or None."""
    signals = find_signals(rules, text)
    if not signals:
        return None
    return {"intent": signals[0].intent, "pattern": signals[0].pattern}


def keep_classifier_intent(message: Message) -> None:
    """Keep the message's intent as the classifier's own guess, unless one is kept already.

    Called by each component just before it replaces the intent (the out-of-scope gate, the
    safety readers, the sentence reading), so `classifier_intent` is always
    `{name, confidence}`; QuestionMerger, last, settles it to what the pipeline would have
    served without the safety readers (practice/nlu/question_parts.py). The logs and the
    retraining gate read the classifier's judgement from the same parse as the final intent.
    """
    if message.get(CLASSIFIER_INTENT_KEY) is None:
        intent = message.get(INTENT) or {}
        kept = {"name": intent.get("name"), "confidence": intent.get("confidence")}
        message.set(CLASSIFIER_INTENT_KEY, kept, add_to_output=True)


def record_signals(message: Message, signals: Sequence[SafetySignal]) -> None:
    """Add `signals` to those the message already reports and force the most urgent intent.

    The classifier's own guess is kept once (`classifier_intent`), from before any safety
    reader overrode it; the ranking keeps the other intents below the safety intent.
    """
    if not signals:
        return
    reported = [dict(s) for s in message.get(SAFETY_KEY) or []]
    known = {s.get("kind") for s in reported}
    reported += [s.as_dict() for s in signals if s.kind not in known]
    reported.sort(key=lambda s: KIND_ORDER.index(s["kind"]))
    top = reported[0]["intent"]
    ranking = message.get(INTENT_RANKING_KEY) or []
    message.set(SAFETY_KEY, reported, add_to_output=True)
    keep_classifier_intent(message)
    message.set(INTENT, {"name": top, "confidence": 1.0}, add_to_output=True)
    message.set(
        INTENT_RANKING_KEY,
        [{"name": top, "confidence": 1.0}] + [r for r in ranking if r.get("name") != top],
        add_to_output=True,
    )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyGuard(GraphComponent):
    """Reports every safety signal of a message and forces the most urgent one's intent.

    Runs after the classifier, the out-of-scope gate and the fallback, so a message that is
    unusual, off-topic or also about something else is still treated as urgent. The
    classifier's own guess is kept (`classifier_intent`) for the logs and for evaluation.
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
        """Record the signals of every message and override the intent when there are any.

        The question and sentence copies (QuestionSplitter) are skipped: the patterns already
        read every sentence and pair of sentences of the message they were copied from.
        """
        for message in messages:
            if message.get(PART_OF_KEY) is not None or message.get(SENTENCE_OF_KEY) is not None:
                continue
            record_signals(message, find_signals(self._rules, message.get(TEXT) or ""))
        return messages
