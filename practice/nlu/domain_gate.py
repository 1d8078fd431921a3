"""Out of scope when a message carries no evidence of the practice's domain.

The intent classifier only knows the practice's intents, so an everyday request ("what's
the routing number for my bank", "how many vacation days do I get") still lands on the
nearest gut or dialogue intent, often with confidence. This gate scores every message
with a small binary model, *domain* (the NLU training examples) against *everything else*
(a deterministic, filtered sample of the open-domain chitchat-dataset plus the
`out_of_scope` examples), and turns the intent into `out_of_scope` when the score is low
and the message has at least one word that is not everyday English (so "why?", "thanks"
or "ok bye" never count as off topic). Safety intents are never touched.

Training reads chitchat-dataset and wordfreq from the installed packages; the model is
saved as JSON (weights, the everyday-English word list, the threshold), and a message
costs a few dictionary look-ups at run time. The choices and their numbers:
docs/PIPELINES.md, "Out-of-scope gate".
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from typing import AbstractSet, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from practice.nlu.safety_guard import PART_OF_KEY, SENTENCE_OF_KEY, keep_classifier_intent
from practice.nlu.vocabulary_guard import spellings

MODEL_FILE = "domain_gate.json"
OUT_OF_SCOPE = "out_of_scope"
DOMAIN_SCORE = "domain_score"
# Set on a follow-up the gate would have called out of scope ("how to jump start a car").
OFF_DOMAIN_KEY = "off_domain"
# Never overridden here; the SafetyGuard after the fallback forces them from patterns too.
# The article's core words: a message naming one of them is never off topic.
_CORE_DOMAIN = re.compile(
    r"\b(leaky|gut|guts|intestin\w*|digest\w*|bowel\w*|stomach|tummy|belly|fib(?:er|re)s?|"
    r"probiotic\w*|prebiotic\w*|bloat\w*|constipat\w*|diarrh\w*|inflammat\w*|dietitian\w*|"
    r"nutrition\w*|coaching|gretchen|microbe\w*|microbiome|permeab\w*|celiac|coeliac|gluten|ibs)\b",
    re.IGNORECASE,
)
# The domain's words in their everyday senses ("fiber optic internet", "a full kitchen gut
# renovation", "my gut feeling", "a bullet journal", "a memory leak"): not evidence of the
# domain, so they are read out of a message before it is scored and before its core words
# are looked for.
_EVERYDAY_SENSES = re.compile(
    r"\b(?:fib(?:er|re)[- ]?(?:optics?|internet|broadband|wifi|network|connection|provider|arts?|artists?|glass|"
    r"board|cement|channels?)|fiberglass|fibreglass|carbon fib(?:er|re)s?|"
    r"gut(?:ted|ting)? (?:renovation|reno|job|remodel|rehab)|"
    r"gut(?:ted|ting)? (?:a|the|my|our|this|his|her) (?:kitchen|house|home|bathroom|basement|fish|deer|room|place|car)|"
    r"(?:kitchen|bathroom|basement|house) gut|gut (?:feeling|instinct|check|reaction|punch)s?|"
    r"gut[- ]wrenching|(?:can'?t|cannot|couldn'?t) stomach (?:it|that|him|her|them|the)|"
    r"belly (?:danc\w*|flops?|laughs?)|"
    r"(?:bullet|gratitude|dream|travel|prayer|reading) journals?|journal (?:entry|entries|prompts?|layouts?)|"
    r"memory leaks?|(?:oil|roof|pipe|tire|tyre|faucet|gas|radiator|coolant|water heater|sink|toilet|data) leak\w*|"
    r"leak\w* (?:oil|roof|pipe|tire|tyre|faucet|coolant|to the press))\b",
    re.IGNORECASE,
)


def without_everyday_senses(text: str) -> Tuple[str, bool]:
    """The text with the domain's words in everyday senses read out, and whether it had any."""
    plain, found = _EVERYDAY_SENSES.subn(" ", text)
    return plain, found > 0


def plain_score(model: "GateModel", plain: str, had_sense: bool) -> Optional[float]:
    """The score of a message with the everyday senses read out (`plain`); a message whose
    only content was such a phrase ("fiber optic plans in my area") is evidence of nothing
    in the domain: 0."""
    score = model.score(plain)
    return 0.0 if score is None and had_sense else score


SAFETY_INTENTS = frozenset({"report_red_flag_symptoms", "express_self_harm", "mention_disordered_eating"})
# Intents that are not domain evidence: their examples are neither positives nor negatives.
NOT_DOMAIN_INTENTS = frozenset({OUT_OF_SCOPE, "nlu_fallback"})

_WORD = re.compile(r"[a-z0-9]+")
_DOUBLED = re.compile(r"([a-z])\1")
# Follow-up intents: a question about what was just said, its topic in the conversation.
# Intents whose words are about the conversation or the service, not a topic ("thanks",
# "awesome", "schedule a call", "are you human"): their words that are not domain words
# are everyday words too, so they are never evidence either way.
FOLLOW_UP_INTENTS = frozenset(
    {
        "ask_followup_amount",
        "ask_followup_source",
        "ask_followup_children",
        "ask_followup_concern",
        "ask_followup_how",
        "ask_followup_why",
        "ask_followup_more",
        "express_frustration",
    }
)
CONVERSATION_INTENTS = (
    frozenset(
        {
            "greet",
            "goodbye",
            "thank",
            "affirm",
            "deny",
            "bot_challenge",
            "ask_topics",
            "request_coach",
            "ask_coaching",
            "ask_apply",
            "ask_after_applying",
        }
    )
    | FOLLOW_UP_INTENTS
)
# Chitchat lines that touch the practice's domain are dropped from the negatives: the gut,
# food and drink, diet, health and the body, doctors and symptoms, coaching and the article.
DOMAIN_STEMS = re.compile(
    r"\b(gut|gutt|leak|intestin|bowel|stomach|tumm|belly|digest|bloat|diarr|constipat|"
    r"nause|vomit|cramp|ibs|celiac|coeliac|crohn|colitis|gluten|wheat|dairy|lactose|"
    r"food|eat|ate|meal|diet|nutri|vitamin|supplement|probiotic|prebiotic|fib(er|re)|"
    r"ferment|yogh?urt|kefir|kimchi|sauerkraut|kombucha|vegetable|veggie|fruit|berr|bean|"
    r"grain|bread|sugar|alcohol|wine|beer|drink|coffee|tea|caffeine|snack|breakfast|lunch|"
    r"dinner|cook|recipe|hungry|starv|weight|calori|health|ill|sick|disease|symptom|pain|"
    r"ache|headache|fatigue|tired|sleep|stress|anxi|depress|skin|eczema|acne|rash|allerg|"
    r"inflam|immun|autoimmun|arthrit|joint|diabet|liver|thyroid|infect|medic|doctor|"
    r"physician|nurse|hospital|clinic|gp|diagnos|test|therap|treat|cure|heal|pill|drug|"
    r"antibiotic|exercis|workout|gym|fitness|yoga|smok|pregnan|age|aging|ageing|"
    r"coach|dietitian|nutritionist|article|author|apply|application|consult|appointment)",
    re.IGNORECASE,
)


# Contractions typed without their apostrophe are everyday words, whatever their frequency.
CONTRACTIONS = frozenset(
    {
        "whats",
        "hows",
        "whos",
        "wheres",
        "thats",
        "theres",
        "heres",
        "im",
        "ive",
        "id",
        "dont",
        "doesnt",
        "didnt",
        "cant",
        "wont",
        "isnt",
        "arent",
        "wasnt",
        "shouldnt",
        "couldnt",
        "wouldnt",
        "youre",
        "youve",
        "hes",
        "shes",
        "theyre",
        "lets",
        "u",
        "ur",
        "r",
        "pls",
        "plz",
        "thx",
        "ya",
        "wat",
    }
)


def words(text: str) -> List[str]:
    """Lower-case words and numbers of a text; apostrophes split words ("what's": "what", "s")."""
    return _WORD.findall(text.lower())


def is_everyday(word: str, everyday: Set[str]) -> bool:
    """A number, or an everyday word as typed or with stretched letters cut ("byeee", "sooo")."""
    if word in everyday or word.isdigit():
        return True
    # Only a word with a doubled letter has shorter spellings to try (the common case is fast).
    return _DOUBLED.search(word) is not None and any(s in everyday for s in spellings(word))


def features(text: str, everyday: Set[str], char_ngrams: bool = True) -> Set[str]:
    """Evidence a message can carry: its content words (not everyday English), their pairs
    (content words next to each other) and their character 3-5-grams (typos, inflections).

    Everyday words ("how", "do", "my", "what") are left out on purpose: they say how a
    question is asked, not what it is about, and would make every question look like the
    domain's questions.
    """
    ws = [w for w in words(text) if not is_everyday(w, everyday)]
    found = {"w:" + w for w in ws}
    found.update("b:" + a + " " + b for a, b in zip(ws, ws[1:], strict=False))
    if char_ngrams:
        for w in ws:
            padded = f" {w} "
            for n in (3, 4, 5):
                found.update("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return found


def stable_bucket(text: str, buckets: int = 1000) -> int:
    """A bucket of a text that is the same on every machine and every run."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) % buckets


def chitchat_utterances() -> Iterator[str]:
    """Every utterance of the installed chitchat-dataset, in the package's file order."""
    from chitchat_dataset import Dataset  # training time only: a 39 MB JSON file

    for conversation in Dataset().values():
        for turn in conversation["messages"]:
            for utterance in turn:
                text = (utterance.get("text") or "").strip()
                if text:
                    yield text


def chitchat_negatives(buckets: Iterable[int], lexicon: Set[str], max_words: int = 30) -> List[str]:
    """Distinct chitchat utterances in the given hash buckets (of 1000) that do not touch the domain.

    Dropped: lines matching DOMAIN_STEMS, lines with a word of the domain lexicon learned
    from the training examples, lines without a word, and lines longer than `max_words`.
    """
    wanted = set(buckets)
    seen: Set[str] = set()
    kept: List[str] = []
    for text in chitchat_utterances():
        key = text.lower()
        if key in seen or stable_bucket(key) not in wanted:
            continue
        seen.add(key)
        ws = words(text)
        if not ws or len(ws) > max_words or DOMAIN_STEMS.search(text) or lexicon.intersection(ws):
            continue
        kept.append(text)
    return kept


def domain_lexicon(texts: Sequence[str], min_count: int = 3, min_ratio: float = 10.0) -> Set[str]:
    """Words of the domain: at least `min_ratio` times as frequent in `texts` as in general English."""
    from wordfreq import word_frequency  # training time only

    counts = Counter(w for t in texts for w in words(t))
    total = sum(counts.values()) or 1
    lexicon = set()
    for word, count in counts.items():
        if count < min_count or not word.isalpha():
            continue
        english = word_frequency(word, "en") or 1e-8
        if count / total >= min_ratio * english:
            lexicon.add(word)
    return lexicon


def everyday_words(
    top_n: int, lexicon: AbstractSet[str] = frozenset(), conversation: Iterable[str] = (), max_zipf: float = 5.5
) -> Set[str]:
    """The `top_n` most frequent words of general English (wordfreq) and the conversation's
    words (`conversation`: texts of CONVERSATION_INTENTS), less the domain's own words.

    A word of the domain lexicon ("eat", "food", "doctor", "apply") stays a content word
    unless it is as common as function words are (zipf >= `max_zipf`: "does", "should").
    """
    from wordfreq import top_n_list, zipf_frequency  # training time only

    common = set()
    for w in top_n_list("en", top_n):
        common.update(words(w))  # "don't": "don", "t", as `words` splits a message
    common.update(w for text in conversation for w in words(text))
    common.update(CONTRACTIONS)
    return {w for w in common if w not in lexicon or zipf_frequency(w, "en") >= max_zipf}


def content_words(text: str, everyday: Set[str]) -> List[str]:
    """The words of a text that are not everyday English: what could carry a topic."""
    return [w for w in words(text) if not is_everyday(w, everyday)]


def sigmoid(x: float) -> float:
    """The logistic function, safe for large arguments."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


class GateModel:
    """The binary domain-vs-other logistic regression over `features`, and its everyday words."""

    def __init__(
        self, weights: Dict[str, float], bias: float, char_ngrams: bool, everyday: Set[str], kind: str = "logistic"
    ) -> None:
        """Keep the weights (features absent here weigh nothing) and the everyday words."""
        self.weights = weights
        self.bias = bias
        self.char_ngrams = char_ngrams
        self.everyday = everyday
        self.kind = kind

    def score(self, text: str) -> Optional[float]:
        """How much a message looks like the domain, in [0, 1]; None without a content word.

        `evidence`: the strongest domain evidence of any content word (sigmoid of its log
        ratio), 0 when no content word was seen in training;
        `naive_bayes`: the sum of the content words' log ratios instead of the strongest;
        `logistic`: P(domain) over binary unit-length features.
        """
        if self.kind in ("evidence", "naive_bayes"):
            content = content_words(text, self.everyday)
            if not content:
                return None
            known = [self.weights[w] for w in content if w in self.weights]
            if not known:
                return 0.0
            return sigmoid(max(known) if self.kind == "evidence" else sum(known))
        found = features(text, self.everyday, self.char_ngrams)
        if not found:
            return None
        get = self.weights.get
        total = sum(get(f, 0.0) for f in found)
        return sigmoid(self.bias + total / math.sqrt(len(found)))

    def to_json(self) -> Dict[str, Any]:
        """What `from_json` reads back: plain numbers and strings."""
        return {
            "weights": self.weights,
            "bias": self.bias,
            "char_ngrams": self.char_ngrams,
            "everyday": sorted(self.everyday),
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, saved: Dict[str, Any]) -> "GateModel":
        """A model saved by `to_json`."""
        return cls(
            {str(k): float(v) for k, v in saved["weights"].items()},
            float(saved["bias"]),
            bool(saved["char_ngrams"]),
            set(saved["everyday"]),
            str(saved.get("kind", "logistic")),
        )

    @classmethod
    def fit_evidence(
        cls, positives: Sequence[str], negatives: Sequence[str], everyday: Set[str], alpha: float = 0.5
    ) -> "GateModel":
        """Per content word, the log ratio of its document rate in the domain and elsewhere.

        Smoothing is proportional to each side's size, so a word seen on neither side would
        weigh 0: a word seen only in the domain weighs more than 0, one seen only elsewhere
        less. Words never seen are not in the model.
        """
        pos = Counter(w for t in positives for w in set(content_words(t, everyday)))
        neg = Counter(w for t in negatives for w in set(content_words(t, everyday)))
        n_pos, n_neg = max(len(positives), 1), max(len(negatives), 1)
        a_pos, a_neg = alpha, alpha * n_neg / n_pos
        weights = {
            w: round(math.log((pos.get(w, 0) + a_pos) / n_pos) - math.log((neg.get(w, 0) + a_neg) / n_neg), 4)
            for w in set(pos) | set(neg)
        }
        return cls(weights, 0.0, False, everyday, "evidence")

    def mostly_seen(self, text: str) -> bool:
        """At least half the content words were seen in training (real words, not gibberish)."""
        content = content_words(text, self.everyday)
        return bool(content) and 2 * sum(w in self.weights for w in content) >= len(content)

    @classmethod
    def fit(
        cls,
        positives: Sequence[str],
        negatives: Sequence[str],
        c: float,
        char_ngrams: bool,
        everyday: Set[str],
        min_df: int = 2,
    ) -> "GateModel":
        """A class-balanced logistic regression (liblinear) on the texts with a content word."""
        import numpy as np
        import scipy.sparse
        from sklearn.linear_model import LogisticRegression

        rows, cols, vals, labels = [], [], [], []
        sets = [(features(t, everyday, char_ngrams), 1) for t in positives]
        sets += [(features(t, everyday, char_ngrams), 0) for t in negatives]
        sets = [(fs, label) for fs, label in sets if fs]
        df = Counter(f for fs, _ in sets for f in fs)
        index = {f: i for i, f in enumerate(sorted(f for f, n in df.items() if n >= min_df))}
        for r, (fs, label) in enumerate(sets):
            kept = [index[f] for f in fs if f in index]
            # Scaled by all the message's features, as `score` does: unseen ones dilute alike.
            rows.extend([r] * len(kept))
            cols.extend(kept)
            vals.extend([1.0 / math.sqrt(len(fs))] * len(kept))
            labels.append(label)
        matrix = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(len(sets), len(index)))
        clf = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=1000)
        clf.fit(matrix, np.array(labels))
        names = sorted(index, key=lambda feature: index[feature])
        weights = {f: round(float(w), 5) for f, w in zip(names, clf.coef_[0], strict=False) if abs(w) >= 1e-4}
        return cls(weights, float(clf.intercept_[0]), char_ngrams, everyday)


def split_examples(pairs: Iterable[Tuple[str, str]]) -> Tuple[List[str], List[str], List[str]]:
    """(domain examples, the conversation intents' examples, out_of_scope examples)."""
    positives, conversation, negatives = [], [], []
    for text, intent in pairs:
        if intent == OUT_OF_SCOPE:
            negatives.append(text)
        elif intent not in NOT_DOMAIN_INTENTS:
            positives.append(text)
            if intent in CONVERSATION_INTENTS:
                conversation.append(text)
    return positives, conversation, negatives


def fit_gate(
    pairs: Iterable[Tuple[str, str]],
    chitchat_buckets: int,
    top_n: int,
    c: float,
    char_ngrams: bool,
    chitchat: Optional[List[str]] = None,
    kind: str = "evidence",
) -> Optional[GateModel]:
    """The gate for (text, intent) training examples; None without a domain example.

    `chitchat` (already filtered negatives) skips reading the package, for cross-validation.
    """
    positives, conversation, negatives = split_examples(pairs)
    if not positives:
        return None
    lexicon = domain_lexicon(positives)
    if chitchat is None:
        chitchat = chitchat_negatives(range(chitchat_buckets), lexicon) if chitchat_buckets else []
    everyday = everyday_words(top_n, lexicon, conversation)
    if kind in ("evidence", "naive_bayes"):
        model = GateModel.fit_evidence(positives, negatives + chitchat, everyday)
        model.kind = kind
        return model
    return GateModel.fit(positives, negatives + chitchat, c, char_ngrams, everyday)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class DomainGate(GraphComponent):
    """Turns the intent into `out_of_scope` when a message carries no evidence of the domain.

    Runs after the intent classifier (and VocabularyGuard), before FallbackClassifier.
    Every message gets `domain_score` (P(domain), add_to_output); the classifier's ranking
    is kept below `out_of_scope` for the logs. Safety intents are never overridden.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Settings chosen by cross-validation (docs/PIPELINES.md, "Out-of-scope gate")."""
        return {
            # Below this P(domain), a message with a non-everyday word is out of scope.
            "threshold": 0.5,
            # "evidence" (per-word domain log ratios) or "logistic" (a binary logistic regression).
            "model": "evidence",
            # Inverse regularisation of the logistic regression.
            "C": 10.0,
            # Character 3-5-grams within words besides word 1-2-grams.
            "char_ngrams": True,
            # Chitchat hash buckets (of 1000) used as negatives; the rest is never trained on.
            "chitchat_buckets": 100,
            # Words among the `everyday_words` most frequent of English carry no topic.
            "everyday_words": 1000,
            # Dialogue acts the classifier found are kept: "thanks a lot for explaining it so
            # clearly" has content words but is a thank-you. Safety intents are always kept.
            # Follow-ups ("where can I buy some", "same for my baby?") take their topic from
            # the conversation, which the turn policy holds: kept too.
            "keep_intents": [
                "greet",
                "goodbye",
                "thank",
                "affirm",
                "deny",
                "bot_challenge",
                *sorted(FOLLOW_UP_INTENTS),
            ],
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[GateModel] = None,
    ) -> None:
        """Keep the configuration and, once trained or loaded, the model."""
        self.validate_config(config)
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """A threshold in [0, 1], a positive C, bucket and word counts that make sense."""
        try:
            ok = (
                0.0 <= float(config["threshold"]) <= 1.0
                and float(config["C"]) > 0
                and 0 <= int(config["chitchat_buckets"]) <= 900
                and int(config["everyday_words"]) >= 0
                and config["model"] in ("evidence", "naive_bayes", "logistic")
            )
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidConfigException(
                "DomainGate needs 0 <= threshold <= 1, C > 0, 0 <= chitchat_buckets <= 900, everyday_words >= 0, "
                "model evidence, naive_bayes or logistic"
            )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DomainGate":
        """An untrained gate: it passes every message through."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "DomainGate":
        """The weights and everyday words saved at training (JSON, no pickle)."""
        try:
            with model_storage.read_from(resource) as directory:
                saved = json.loads((directory / MODEL_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, GateModel.from_json(saved))

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the gate on the training examples against filtered chitchat and `out_of_scope`."""
        pairs = [(m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples if m.get(TEXT)]
        self._model = fit_gate(
            pairs,
            chitchat_buckets=int(self._config["chitchat_buckets"]),
            top_n=int(self._config["everyday_words"]),
            c=float(self._config["C"]),
            char_ngrams=bool(self._config["char_ngrams"]),
            kind=str(self._config["model"]),
        )
        if self._model is None:
            return self._resource
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_text(json.dumps(self._model.to_json()), "utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Record `domain_score`; turn the intent into out_of_scope when it is below the threshold.

        A message without a content word ("why?", "thanks, bye") has no score (None) and is
        never gated: it carries evidence of nothing, and follow-ups and dialogue acts look so.
        """
        if self._model is None:
            return messages
        threshold = float(self._config["threshold"])
        acts = set(self._config["keep_intents"])
        plain_texts = [without_everyday_senses(message.get(TEXT) or "") for message in messages]
        scores = [plain_score(self._model, plain, had_sense) for plain, had_sense in plain_texts]
        # The visitor's messages, in order: a question's PART_OF_KEY is its message's index here.
        originals = [
            score
            for message, score in zip(messages, scores, strict=True)
            if message.get(PART_OF_KEY) is None and message.get(SENTENCE_OF_KEY) is None
        ]
        for message, score, (plain, _) in zip(messages, scores, plain_texts, strict=True):
            message.set(DOMAIN_SCORE, None if score is None else round(score, 4), add_to_output=True)
            intent = message.get(INTENT)
            if score is None or score >= threshold or not intent or intent.get(INTENT_NAME_KEY) in SAFETY_INTENTS:
                continue
            # One question of a message that is about the domain ("which foods should I eat
            # more of, and which should I keep out of the trolley?") leans on the rest of the
            # message for its domain words: the message's evidence counts for it.
            owner = message.get(PART_OF_KEY)
            if owner is not None and owner < len(originals) and (originals[owner] or 0.0) >= threshold:
                continue
            # A message that names the domain's core ("leaky gut", "digestion", "fiber") is
            # about it, however everyday the rest of its words are.
            if _CORE_DOMAIN.search(plain):
                continue
            # A dialogue act is kept unless VocabularyGuard zeroed it (then it was no finding).
            if intent.get(INTENT_NAME_KEY) in acts and intent.get("confidence"):
                if intent.get(INTENT_NAME_KEY) in FOLLOW_UP_INTENTS:
                    # "best way to clean an oven": a follow-up only when something was
                    # said before it; the turn policy knows (practice/dialogue/plan.py).
                    message.set(OFF_DOMAIN_KEY, True, add_to_output=True)
                continue
            # A message VocabularyGuard zeroed goes to the fallback ("blorp zzkq", other
            # languages) unless most of its content words are real words seen in training.
            if not intent.get("confidence") and not self._model.mostly_seen(plain):
                continue
            # Sure enough to pass FallbackClassifier: the gate decided (an out_of_scope the
            # classifier was unsure of is confirmed), not the classifier.
            confidence = round(max(1.0 - score, 0.5), 4)
            if intent.get(INTENT_NAME_KEY) == OUT_OF_SCOPE:
                confidence = max(confidence, float(intent.get("confidence") or 0.0))
            # The classifier's guesses stay below, in their order, scaled into what is left,
            # so FallbackClassifier's ambiguity check sees out_of_scope ahead; its own pick
            # is kept as it was for the logs.
            ranking = message.get(INTENT_RANKING_KEY) or []
            keep_classifier_intent(message)
            message.set(INTENT, {INTENT_NAME_KEY: OUT_OF_SCOPE, "confidence": confidence}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: OUT_OF_SCOPE, "confidence": confidence}]
                + [
                    {**r, "confidence": float(r.get("confidence") or 0.0) * (1.0 - confidence)}
                    for r in ranking
                    if r.get(INTENT_NAME_KEY) != OUT_OF_SCOPE
                ],
                add_to_output=True,
            )
        return messages
