"""The policy plans a turn once, keeps the plan only while the turn lasts, and reads the
earlier messages' parses as `understanding_of` reads them."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from practice.dialogue import policy


def parse(intent: str, text: str, **extra: Any) -> Dict[str, Any]:
    """A parse the planner reads: intent, confidence and text."""
    return {"intent": {"name": intent, "confidence": 0.95}, "text": text, **extra}


def message(intent: str, text: str, **extra: Any) -> UserUttered:
    """A visitor message with its parse."""
    return UserUttered(text, parse_data=parse(intent, text, **extra))


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    """Counts the turns actually planned (not taken from the kept plan)."""
    made: List[int] = []
    original = policy._plan

    def counted(events: List[Any], start: int) -> List[str]:
        made.append(start)
        return original(events, start)

    monkeypatch.setattr(policy, "_plan", counted)
    return made


def fresh(tracker: DialogueStateTracker) -> List[str]:
    """The plan of the tracker's turn made from scratch, on a copy with nothing kept."""
    copy = DialogueStateTracker.from_events(tracker.sender_id, list(tracker.events))
    return policy.turn_actions(copy)[0]


def play_turn(tracker: DialogueStateTracker) -> List[str]:
    """Predict and run every planned response, as Rasa does one at a time; returns them."""
    said: List[str] = []
    while True:
        planned, played = policy.turn_actions(tracker)
        remaining = [a for a in planned if a not in played]
        if not remaining:
            return said
        tracker.update(ActionExecuted(remaining[0]))
        said.append(remaining[0])


def test_a_turn_is_planned_once_whatever_the_number_of_predictions(plans: List[int]) -> None:
    tracker = DialogueStateTracker("visitor-plan-0000000001", [])
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(message("ask_fiber_amount", "how much fiber should I eat?"))
    expected = fresh(tracker)
    plans.clear()
    said = play_turn(tracker)
    assert said == expected and len(said) >= 2
    assert len(plans) == 1


def test_a_new_message_is_planned_again_with_the_previous_turn_in_its_history(plans: List[int]) -> None:
    tracker = DialogueStateTracker("visitor-plan-0000000002", [])
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(message("ask_fiber_amount", "how much fiber should I eat?"))
    first = play_turn(tracker)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(message("ask_symptoms", "what are the symptoms?"))
    plans.clear()
    second = play_turn(tracker)
    assert len(plans) == 1
    assert second == fresh_from_events(tracker)
    assert second != first


def fresh_from_events(tracker: DialogueStateTracker) -> List[str]:
    """The last turn's plan from scratch: the tracker rebuilt up to the turn's message."""
    events = list(tracker.events)
    last = max(i for i, e in enumerate(events) if isinstance(e, UserUttered))
    return fresh(DialogueStateTracker.from_events(tracker.sender_id, events[: last + 1]))


def test_a_safety_message_after_answers_changes_the_plan_at_once(plans: List[int]) -> None:
    tracker = DialogueStateTracker("visitor-plan-0000000003", [])
    tracker.update(message("ask_fiber_amount", "how much fiber should I eat?"))
    answered = play_turn(tracker)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(message("report_red_flag_symptoms", "there is blood in my stool"))
    care = play_turn(tracker)
    assert len(plans) == 2
    assert care != answered
    assert care == fresh_from_events(tracker)


def test_a_new_session_is_planned_again(plans: List[int]) -> None:
    tracker = DialogueStateTracker("visitor-plan-0000000004", [])
    fiber = message("ask_fiber_amount", "how much fiber should I eat?")
    tracker.update(message("report_red_flag_symptoms", "there is blood in my stool"))
    play_turn(tracker)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(fiber)
    in_care = play_turn(tracker)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    # The very same message object again, first in a new session: no care mode any more.
    tracker.update(fiber)
    plans.clear()
    said = play_turn(tracker)
    assert len(plans) == 1
    assert said == fresh_from_events(tracker)
    assert said != in_care


def test_trackers_do_not_share_a_kept_plan(plans: List[int]) -> None:
    one = DialogueStateTracker("visitor-plan-0000000005", [])
    two = DialogueStateTracker("visitor-plan-0000000006", [])
    same = message("ask_fiber_amount", "how much fiber should I eat?")
    one.update(same)
    two.update(message("report_red_flag_symptoms", "there is blood in my stool"))
    two.update(ActionExecuted("action_listen"))
    two.update(same)  # the very same event object, after a safety message
    assert policy.turn_actions(one)[0] != policy.turn_actions(two)[0]
    assert len(plans) == 2


EARLIER = [
    parse("nlu_fallback", "blah"),
    parse("nlu_fallback", "coffee?", not_covered="coffee"),
    parse("nlu_fallback", "fiber? and coffee?", parts=[{"intent": "ask_fiber_amount"}]),
    parse("nlu_fallback", "x", parts=[]),
    {"text": "no intent at all"},
    {},
    parse("ask_symptoms", "symptoms?"),
    parse("report_red_flag_symptoms", "blood"),
    parse("ask_symptoms", "i want to die", safety=[{"kind": "self_harm"}, {"kind": "red_flag"}, {}]),
    parse("ask_symptoms", "blood again", safety=[{"kind": "red_flag"}]),
]


@pytest.mark.parametrize("end", range(len(EARLIER) + 1))
def test_the_history_reads_earlier_parses_as_understanding_of_does(end: int) -> None:
    earlier = EARLIER[:end]
    understood = [policy.understanding_of(p) for p in earlier]
    misses = 0
    for message in reversed(understood):
        if message.intent != policy.FALLBACK or message.parts:
            break
        misses += 1
    kinds: List[str] = []
    for message in understood:
        kinds.extend(k for k in message.safety if k not in kinds)
    assert policy._misses_before(earlier) == misses
    assert policy._care_kinds(earlier) == tuple(kinds)


def test_the_earlier_parses_count_misses_and_kinds() -> None:
    assert [policy._misses_before(EARLIER[:end]) for end in range(len(EARLIER) + 1)] == [
        0,
        1,
        0,
        0,
        1,
        2,
        3,
        0,
        0,
        0,
        0,
    ]
    assert policy._care_kinds(EARLIER) == ("red_flag", "self_harm")
