"""`rasa test core --e2e` keeps what NLU found, as the served tracker does."""

from __future__ import annotations


def install_test_parse_data() -> None:
    """Conversation tests see each message's full parse, as the production tracker does.

    Rasa's end-to-end test replaces a test story's message by its intent and entities
    only, so a dialogue that reads the safety signals, the questions of a message or the
    visitor's situation (practice/dialogue/plan.py) would be tested on less than it gets
    in production. The story's own intent still decides; the rest of the parse is kept.
    """
    import rasa.core.test as core_test
    from rasa.shared.core.events import UserUttered

    original = core_test._collect_user_uttered_predictions
    if getattr(original, "__wrapped_original__", None) is not None:
        return

    def collect(event: UserUttered, predicted: dict, partial_tracker: object, fail: bool) -> object:
        store = original(event, predicted, partial_tracker, fail)
        latest = partial_tracker.events[-1] if partial_tracker.events else None  # type: ignore[attr-defined]
        if isinstance(latest, UserUttered) and latest.text == event.text:
            latest.parse_data = {**predicted, "intent": event.intent, "entities": event.entities}
        return store

    collect.__wrapped_original__ = original  # type: ignore[attr-defined]
    core_test._collect_user_uttered_predictions = collect
