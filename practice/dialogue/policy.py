"""The dialogue policy: plays the turn `practice.dialogue.plan` plans, one response at a time."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from practice.dialogue.plan import (
    FALLBACK,
    KIND_OF_SAFETY_INTENT,
    LINK_RESPONSES,
    OUT_OF_SCOPE,
    PRICE_READINGS,
    History,
    Part,
    Understanding,
    asked_in_other_words,
    asks_about_someone_else,
    asks_coach_for_help,
    asks_fiber_amount,
    asks_more_of_the_same,
    asks_next,
    asks_price,
    asks_what_it_is,
    follow_up_kind,
    is_elliptic,
    is_leading,
    is_question,
    mentions_ibs,
    names_other_work,
    plan_turn,
    refers_back,
    topic_of_intent,
    word_count,
)


def safety_kinds(parse_data: Dict[str, Any]) -> Tuple[str, ...]:
    """The safety kinds of one parsed message: its signals, else its safety intent's kind."""
    kinds = [s.get("kind") for s in (parse_data or {}).get("safety") or [] if s.get("kind")]
    intent = ((parse_data or {}).get("intent") or {}).get("name")
    if not kinds and intent in KIND_OF_SAFETY_INTENT:
        kinds = [KIND_OF_SAFETY_INTENT[intent]]
    return tuple(kinds)


def priced(intent: str, text: str) -> str:
    """A coaching question that asks the price is the price question ("how much is coaching?")."""
    return "request_coach" if intent in PRICE_READINGS and asks_price(text) else intent


def as_asked(intent: str, text: str) -> str:
    """The classifier's intent, corrected where the words say more: the price of the
    coaching, "who wrote <another work>?" (out of scope, not the article's author), "is
    she a real dietitian?" (the author, not "are you a bot?"), a question asked in other
    words (`asked_in_other_words`: "is it genetic?", "nobody knows what causes it,
    right?", "does it sound like I have it?"), and "could your dietitian help me with
    ...?" (the coaching, not the subject it names)."""
    if intent == "ask_author" and names_other_work(text):
        return OUT_OF_SCOPE
    if intent == "bot_challenge" and asks_about_someone_else(text):
        return "ask_author"
    asked = asked_in_other_words(intent, text)
    if asked is not None:
        return asked
    placed = topic_of_intent(intent) is not None or intent in (FALLBACK, OUT_OF_SCOPE, "request_coach")
    if placed and asks_coach_for_help(text) and not asks_price(text):
        return "ask_coaching"
    return priced(intent, text)


def parts_of(questions: List[Dict[str, Any]]) -> Tuple[Part, ...]:
    """The questions of a message as parts; one that points back at a subject the article
    does not cover is about that subject too ("what is the AIP diet, and should I try it?")."""
    parts: List[Part] = []
    subject: Any = None
    for index, question in enumerate(questions):
        if index == 0 and len(questions) > 1 and asks_what_it_is(question.get("text") or ""):
            parts.append(Part("ask_what_is_leaky_gut", None, float(question.get("confidence") or 0.0)))
            continue
        not_covered = question.get("not_covered")
        if not_covered is None and subject is not None and refers_back(question.get("text") or ""):
            not_covered = subject
        subject = not_covered or subject
        intent = as_asked(question.get("intent") or FALLBACK, question.get("text") or "")
        parts.append(Part(intent, not_covered, float(question.get("confidence") or 0.0)))
    return tuple(parts)


def understanding_of(parse_data: Dict[str, Any]) -> Understanding:
    """The planner's view of one parsed message (the keys the NLU components add)."""
    parse_data = parse_data or {}
    intent_data = parse_data.get("intent") or {}
    intent = as_asked(intent_data.get("name") or FALLBACK, parse_data.get("text") or "")
    confidence = float(intent_data.get("confidence") or 0.0)
    parts = parts_of(parse_data.get("parts") or [])
    if not parts and parse_data.get("not_covered"):
        # One question naming a subject the article lacks: as sure as the message.
        parts = (Part(intent, parse_data["not_covered"], confidence),)
    return Understanding(
        intent=intent,
        parts=parts,
        safety=safety_kinds(parse_data),
        situation=tuple(s.get("kind") for s in parse_data.get("situation") or [] if s.get("kind")),
        language=parse_data.get("language") or "en",
        confidence=confidence,
        elliptic=is_elliptic(parse_data.get("text") or ""),
        more_of_the_same=asks_more_of_the_same(parse_data.get("text") or ""),
        follow_up=follow_up_kind(parse_data.get("text") or ""),
        scores=tuple(
            (r["name"], float(r.get("confidence") or 0.0))
            for r in parse_data.get("intent_ranking") or []
            if r.get("name")
        ),
        words=word_count(parse_data.get("text") or ""),
        question=is_question(parse_data.get("text") or ""),
        leading=is_leading(parse_data.get("text") or ""),
        fiber_amount=asks_fiber_amount(parse_data.get("text") or ""),
        safety_doubt=parse_data.get("safety_doubt") is not None,
        off_domain=bool(parse_data.get("off_domain")),
        next_questions=asks_next(parse_data.get("text") or ""),
    )


def _session_events(tracker: DialogueStateTracker) -> List[Event]:
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], SessionStarted):
            return events[index + 1 :]
    return events


def _turn_start(events: List[Event]) -> int:
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return index
    return len(events)


def _earlier_parses(events: List[Event]) -> List[Dict[str, Any]]:
    """The parses of the session's messages before the turn's own.

    The history reads only their safety kinds, intents and parts, not the whole
    `understanding_of` (which reads each message's text again).
    """
    start = _turn_start(events)
    return [e.parse_data or {} for e in events[:start] if isinstance(e, UserUttered)]


def _care_kinds(earlier: List[Dict[str, Any]]) -> Tuple[str, ...]:
    kinds: List[str] = []
    for parse_data in earlier:
        kinds.extend(k for k in safety_kinds(parse_data) if k not in kinds)
    return tuple(kinds)


def care_kinds_of(tracker: DialogueStateTracker) -> Tuple[str, ...]:
    """Every safety kind the visitor's messages of this session carried, the latest included."""
    return _care_kinds([e.parse_data or {} for e in _session_events(tracker) if isinstance(e, UserUttered)])


def _misses_before(earlier: List[Dict[str, Any]]) -> int:
    misses = 0
    for parse_data in reversed(earlier):
        # `understanding_of`: a fallback with no parts (questions or a not-covered subject).
        intent = (parse_data.get("intent") or {}).get("name") or FALLBACK
        if intent != FALLBACK or parse_data.get("parts") or parse_data.get("not_covered"):
            break
        misses += 1
    return misses


def _offered_before(events: List[Event]) -> bool:
    start = _turn_start(events)
    return any(isinstance(e, ActionExecuted) and e.action_name in LINK_RESPONSES for e in events[:start])


def _topic_before(events: List[Event]) -> Optional[str]:
    start = _turn_start(events)
    for event in reversed(events[:start]):
        if isinstance(event, ActionExecuted) and (event.action_name or "").startswith("utter_ask_"):
            topic = topic_of_intent(event.action_name[len("utter_") :])
            if topic is not None:
                return topic
    return None


def _answers_since_offer(events: List[Event]) -> int:
    start = _turn_start(events)
    count = 0
    for event in reversed(events[:start]):
        if not isinstance(event, ActionExecuted):
            continue
        if event.action_name in LINK_RESPONSES:
            break
        name = event.action_name or ""
        if name.startswith("utter_ask_") and topic_of_intent(name[len("utter_") :]) not in (
            None,
            "coaching",
            "apply",
            "after_applying",
        ):
            count += 1
    return count


def _ibs_named(events: List[Event]) -> bool:
    """IBS named in an earlier message, or in this one when it asks a single question (in a
    message of several, "and is fiber ok with IBS?" is its own question)."""
    start = _turn_start(events)
    if any(mentions_ibs(e.text or "") for e in events[:start] if isinstance(e, UserUttered)):
        return True
    latest = events[start] if start < len(events) else None
    return (
        isinstance(latest, UserUttered)
        and not (latest.parse_data or {}).get("parts")
        and mentions_ibs(latest.text or "")
    )


# Set on a tracker by `turn_actions`: (its turn's key, the planned responses).
_TURN_PLAN = "_practice_turn_plan"


def turn_actions(tracker: DialogueStateTracker) -> Tuple[List[str], List[str]]:
    """(the planned responses of the current turn, the actions already run in it).

    The plan depends only on the events up to the turn's message, so it is made once per
    turn and kept on the tracker: Rasa asks the policy once per action (three or four
    times a turn), and planning reads every earlier message of the session.
    """
    events = _session_events(tracker)
    start = _turn_start(events)
    if start == len(events):
        return [], []
    latest = events[start]
    assert isinstance(latest, UserUttered)
    played = [e.action_name for e in events[start:] if isinstance(e, ActionExecuted) and e.action_name]
    # The turn: its message (the object itself), where it stands in the session and where
    # the session starts. Events are only ever appended to a tracker, so the events before
    # the message are the same while all three are.
    key = (latest, start, len(tracker.events) - len(events))
    kept = tracker.__dict__.get(_TURN_PLAN)
    if kept is not None and kept[0][0] is latest and kept[0][1:] == key[1:]:
        return list(kept[1]), played
    planned = _plan(events, start)
    tracker.__dict__[_TURN_PLAN] = (key, tuple(planned))
    return planned, played


def _plan(events: List[Event], start: int) -> List[str]:
    """The planned responses of the turn whose message is `events[start]`."""
    latest = events[start]
    earlier = _earlier_parses(events)
    history = History(
        care_kinds=_care_kinds(earlier),
        offered=_offered_before(events),
        answers_since_offer=_answers_since_offer(events),
        topic=_topic_before(events),
        misses_before=_misses_before(earlier),
        ibs=_ibs_named(events),
    )
    return plan_turn(understanding_of(latest.parse_data or {}), history)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True)
class TurnPolicy(Policy):
    """Predicts the planned responses of the turn in order, then listens.

    The plan is a pure function of the conversation (practice/dialogue/plan.py): nothing is
    learned, so training only stores the configuration.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Above every other policy: the plan decides."""
        return {"priority": 7}

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Probability 1 for the next planned response (or listening once all are said)."""
        planned, played = turn_actions(tracker)
        remaining = [a for a in planned if a not in played]
        action = remaining[0] if remaining else ACTION_LISTEN_NAME
        probabilities = self._default_predictions(domain)
        if action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        else:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities)
