"""Response generation: the practice's placeholders, the visitor's language and situation.

On top of Rasa's templated generator:
- `{application_url}`, `{crisis_line}`, `{emergency_number}`, `{eating_disorder_line}` come
  from the settings (no retraining, no custom action per turn);
- `{subject}` names what the article does not cover, `{foods}` what an allergic visitor
  named; the food list leaves those foods out;
- a response's variants are used in turn (the first, then the second ...), so a long
  conversation does not repeat itself word for word;
- a variant with `condition: language` (es, fr) answers a message in that language: the
  current message's language is passed as the `language` slot's value.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from practice.answers import annotate
from practice.dialogue.policy import care_kinds_of
from practice.nlu.safety_guard import KIND_ORDER
from practice.settings import Settings, get_settings

LANGUAGE_SLOT = "language"
CARE_SLOT = "care"
# What kind of message each non-answer response is, for the widget (it hides the apply
# control after a safety message) and the console.
_KINDS = {
    "utter_report_red_flag_symptoms": "safety",
    "utter_express_self_harm": "safety",
    "utter_mention_disordered_eating": "safety",
    "utter_closing_care": "safety",
    "utter_request_coach_care": "safety",
    "utter_offer_coaching": "offer",
    "utter_closing": "offer",
    "utter_request_coach": "offer",
    "utter_please_rephrase": "fallback",
    "utter_fallback_to_application": "fallback",
    "utter_language_notice": "notice",
    "utter_language_notice_care": "notice",
    "utter_language_answer_notice": "notice",
}
# Responses whose food list an allergy or sensitivity shortens.
FOOD_LIST_RESPONSES = frozenset({"utter_ask_foods_to_eat"})
_EXAMPLES = re.compile(r"\s*\(e\.g\.,\s*(?P<items>[^)]*)\)")
_ITEMS = re.compile(r",\s*(?:and\s+)?|\s+and\s+|\s+or\s+")


def placeholders(settings: Settings, parse_data: Dict[str, Any]) -> Dict[str, str]:
    """The values of the practice's placeholders for a turn."""
    subjects = [p.get("not_covered") for p in parse_data.get("parts") or [] if p.get("not_covered")]
    if parse_data.get("not_covered"):
        subjects.append(parse_data["not_covered"])
    allergy = next((s for s in parse_data.get("situation") or [] if s.get("kind") == "allergy"), None)
    foods = (allergy or {}).get("foods") or []
    return {
        "application_url": settings.coaching_application_url,
        "crisis_line": settings.crisis_line,
        "emergency_number": settings.emergency_number,
        "eating_disorder_line": settings.eating_disorder_line,
        "subject": " and ".join(dict.fromkeys(subjects)) or "that",
        "foods": _joined(foods) or "those foods",
    }


def _joined(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def without_foods(text: str, foods: Sequence[str], named: Sequence[str] = ()) -> str:
    """A "- item (e.g., a, b and c)" list with `foods` taken out; emptied lines go."""
    gone = {f.lower() for f in foods}
    heads = {n.lower() for n in named} | {n.lower().rstrip("s") for n in named}
    lines: List[str] = []
    for line in text.split("\n"):
        if not line.startswith("- "):
            lines.append(line)
            continue
        match = _EXAMPLES.search(line)
        head = line[2 : match.start()] if match else line[2:]
        head_items = [h for h in _ITEMS.split(head) if h.strip()]
        kept_head = [
            h
            for h in head_items
            if h.lower() not in gone and h.lower() not in heads and h.lower().rstrip("s") not in heads
        ]
        if not kept_head:
            continue
        if len(kept_head) < len(head_items):
            head = " and ".join(kept_head)
        if match:
            items = [i for i in _ITEMS.split(match.group("items")) if i.strip()]
            kept = [i for i in items if i.lower() not in gone]
            if not kept:
                continue
            lines.append(f"- {head} (e.g., {_joined(kept)})")
        else:
            lines.append(f"- {head}")
    return "\n".join(lines)


def care_kind(tracker: DialogueStateTracker) -> Optional[str]:
    """The most urgent safety kind of the session so far (the planner's care mode), or None.

    Passed as the `care` slot's value: the care-mode responses (`utter_request_coach_care`,
    `utter_closing_care`) have a variant per kind, so a visitor who reported bleeding is sent
    to a doctor, not to a crisis line.
    """
    kinds = care_kinds_of(tracker)
    return next((kind for kind in KIND_ORDER if kind in kinds), None)


def times_said(tracker: DialogueStateTracker, utter_action: str) -> int:
    """How often this response was already used in the conversation."""
    return sum(1 for e in tracker.events if isinstance(e, ActionExecuted) and e.action_name == utter_action)


class PracticeNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """Domain responses with the practice's placeholders, languages and variants."""

    def __init__(self, endpoint_config: Any, domain: Any) -> None:
        """Keep the domain's responses, as the stock generator does."""
        super().__init__(domain.responses)

    def _variants(
        self, utter_action: str, output_channel: Text, filled_slots: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if utter_action not in self.responses:
            return []
        response_filter = ResponseVariationFilter(self.responses)
        return response_filter.responses_for_utter_action(utter_action, output_channel, filled_slots)

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        """The response's next variant, in the visitor's language where one exists, filled."""
        parse_data = tracker.latest_message.parse_data if tracker.latest_message else {}
        parse_data = parse_data or {}
        filled_slots = dict(tracker.current_slot_values())
        filled_slots[LANGUAGE_SLOT] = parse_data.get("language") or "en"
        filled_slots[CARE_SLOT] = care_kind(tracker)
        variants = self._variants(utter_action, output_channel, filled_slots)
        if not variants:
            return None
        response = copy.deepcopy(variants[times_said(tracker, utter_action) % len(variants)])
        for key, value in placeholders(get_settings(), parse_data).items():
            kwargs.setdefault(key, value)
        response = self._fill_response(response, filled_slots, **kwargs)
        allergy = next((s for s in parse_data.get("situation") or [] if s.get("kind") == "allergy"), None)
        if allergy and utter_action in FOOD_LIST_RESPONSES and response.get("text"):
            response["text"] = without_foods(
                response["text"], allergy.get("leave_out") or [], allergy.get("foods") or []
            )
        if utter_action in _KINDS:
            response["kind"] = _KINDS[utter_action]
        # Answers from the article carry their section's link (content/answers.yml).
        return annotate(utter_action, response)
