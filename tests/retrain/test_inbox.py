"""The inbox and annotation queries, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from practice.retrain import store
from practice.retrain.checks import safety_conflicts
from practice.retrain.project import plan_placements
from practice.retrain.text import normalise, text_key

from .conftest import seed_user_messages

INTENTS = {"greet", "ask_probiotics", "ask_gluten", "out_of_scope", "report_red_flag_symptoms"}
LOGS = [
    ("hi", "greet", 0.99),
    ("is kefir worth drinking", "nlu_fallback", 0.30),
    ("Is kefir worth drinking?", "nlu_fallback", 0.25),
    ("is kefir worth drinkin", "ask_probiotics", 0.41),
    ("can sourdough bread be ok for me", "ask_sources", 0.32),
    ("/greet", "greet", 1.0),
    ("what's the weather", "out_of_scope", 0.91),
    ("my stools are black and tarry", "report_red_flag_symptoms", 1.0),
]


def page_texts(engine: sa.engine.Engine, known: set = frozenset()) -> list:
    """(lead text, count, member texts) of the whole inbox."""
    page = store.inbox_page(engine, set(known), limit=100)
    return [(g.lead.text, g.count, [m.text for m in g.members]) for g in page.groups]


def test_inbox_is_least_certain_first_grouped_and_excludes_training_data(engine) -> None:
    seed_user_messages(engine, LOGS)
    result = store.sync_inbox(engine)
    assert result.events_read == len(LOGS)
    groups = page_texts(engine, known={normalise("hi")})
    # "is kefir worth drinking" twice (case and "?" folded) at 0.25 leads; the typo joins it.
    assert groups[0] == (
        "Is kefir worth drinking?",
        3,
        ["Is kefir worth drinking?", "is kefir worth drinkin"],
    )
    assert [g[0] for g in groups[1:]] == [
        "can sourdough bread be ok for me",
        "what's the weather",
        "my stools are black and tarry",
    ]
    assert all(not text.startswith("/") for text, _, _ in groups)


def test_sync_is_incremental_and_waits_for_settled_events(engine) -> None:
    seed_user_messages(engine, LOGS[:2])
    store.sync_inbox(engine)
    seed_user_messages(engine, [("is kefir worth drinking", "nlu_fallback", 0.3)])
    seed_user_messages(engine, [("a message from a second ago", "greet", 0.5)], age_seconds=0)
    result = store.sync_inbox(engine, settle_seconds=30)
    assert result.events_read == 1
    counts = {text: count for text, count, _ in page_texts(engine)}
    assert counts["is kefir worth drinking"] == 2
    assert "a message from a second ago" not in counts
    store.sync_inbox(engine, settle_seconds=0)
    assert "a message from a second ago" in {text for text, _, _ in page_texts(engine)}


def test_annotations_record_who_when_and_leave_the_inbox(engine) -> None:
    seed_user_messages(engine, LOGS)
    store.sync_inbox(engine)
    kefir = [text_key("is kefir worth drinking"), text_key("is kefir worth drinkin")]
    now = time.time()
    assert store.annotate(engine, kefir, "relabel", "sam", INTENTS, "ask_probiotics", now) == 2
    assert store.annotate(engine, [text_key("what's the weather")], "confirm", "kim", INTENTS) == 1
    assert store.annotate(engine, [text_key("hi")], "discard", "kim", INTENTS) == 1
    with pytest.raises(store.AnnotationError):
        store.annotate(engine, [text_key("hi")], "relabel", "kim", INTENTS, "not_an_intent")
    with pytest.raises(store.AnnotationError):  # nothing to confirm: the prediction was a fallback
        store.annotate(engine, [text_key("is kefir worth drinking")], "confirm", "kim", INTENTS)

    pending = store.pending_annotations(engine)
    assert [(a.text, a.action, a.intent, a.annotated_by) for a in pending] == [
        ("Is kefir worth drinking?", "relabel", "ask_probiotics", "sam"),
        ("is kefir worth drinkin", "relabel", "ask_probiotics", "sam"),
        ("what's the weather", "confirm", "out_of_scope", "kim"),
    ]
    assert pending[0].annotated_at == pytest.approx(now)
    assert pending[0].predicted_intent == "nlu_fallback"
    remaining = {text for text, _, _ in page_texts(engine)}
    assert remaining == {"can sourdough bread be ok for me", "my stools are black and tarry"}

    # Changing one's mind before retraining: the newest decision wins; undo returns it.
    store.annotate(engine, [text_key("what's the weather")], "out_of_scope", "sam", INTENTS)
    assert store.undo(engine, [text_key("Is kefir worth drinking?")]) == 1
    assert "Is kefir worth drinking?" in {text for text, _, _ in page_texts(engine)}
    weather = next(a for a in store.pending_annotations(engine) if a.text == "what's the weather")
    assert (weather.action, weather.intent, weather.annotated_by) == (
        "out_of_scope",
        "out_of_scope",
        "sam",
    )


def test_applied_annotations_count_towards_the_held_out_share(engine) -> None:
    texts = [f"kefir question number {n}" for n in range(9)]
    seed_user_messages(engine, [(t, "nlu_fallback", 0.2) for t in texts])
    store.sync_inbox(engine)
    store.annotate(engine, [text_key(t) for t in texts[:5]], "relabel", "sam", INTENTS, "ask_probiotics")
    first = plan_placements(store.pending_annotations(engine), set(), store.applied_counts(engine), 4)
    assert [p.where for p in first] == ["training"] * 3 + ["holdout", "training"]
    store.mark_applied(engine, "run-1", {p.annotation_id: p.where for p in first})
    assert store.applied_counts(engine) == {"ask_probiotics": 5}
    store.annotate(engine, [text_key(t) for t in texts[5:]], "relabel", "sam", INTENTS, "ask_probiotics")
    second = plan_placements(store.pending_annotations(engine), set(), store.applied_counts(engine), 4)
    assert [p.where for p in second] == ["training", "training", "holdout", "training"]
    # A rollback puts a run's annotations back to pending.
    assert store.unmark_run(engine, "run-1") == 5
    assert len(store.pending_annotations(engine)) == 9


def test_texts_already_in_the_data_are_skipped_and_safety_conflicts_found(engine) -> None:
    seed_user_messages(engine, LOGS)
    store.sync_inbox(engine)
    store.annotate(engine, [text_key("my stools are black and tarry")], "relabel", "sam", INTENTS, "greet")
    store.annotate(
        engine,
        [text_key("can sourdough bread be ok for me")],
        "relabel",
        "sam",
        INTENTS,
        "ask_gluten",
    )
    placements = plan_placements(
        store.pending_annotations(engine), {normalise("can sourdough bread be ok for me")}, {}, 4
    )
    assert [(p.text, p.where) for p in placements] == [
        ("my stools are black and tarry", "training"),
        ("can sourdough bread be ok for me", "skipped"),
    ]
    conflicts = safety_conflicts(placements)
    assert [(p.text, intent) for p, intent in conflicts] == [
        ("my stools are black and tarry", "report_red_flag_symptoms")
    ]


def test_each_message_keeps_the_model_s_real_top_three(engine) -> None:
    # The fallback classifier puts nlu_fallback first at its threshold (0.35): not the model's.
    fallback = [
        ("nlu_fallback", 0.35),
        ("ask_probiotics", 0.31),
        ("ask_gluten", 0.22),
        ("greet", 0.05),
        ("out_of_scope", 0.01),
    ]
    seed_user_messages(
        engine,
        [
            ("is kvass a probiotic", "nlu_fallback", 0.35, fallback),
            ("is gluten bad", "ask_gluten", 0.8, [("ask_gluten", 0.8), ("ask_probiotics", 0.1)]),
            ("old log without a ranking", "greet", 0.6, []),
        ],
    )
    store.sync_inbox(engine)
    found = {m.text: m for g in store.inbox_page(engine, set(), limit=100).groups for m in g.members}
    kvass = found["is kvass a probiotic"]
    assert (kvass.intent, kvass.confidence) == ("nlu_fallback", 0.35)
    assert kvass.ranking == [("ask_probiotics", 0.31), ("ask_gluten", 0.22), ("greet", 0.05)]
    assert found["is gluten bad"].ranking == [("ask_gluten", 0.8), ("ask_probiotics", 0.1)]
    assert found["old log without a ranking"].ranking == [("greet", 0.6)]


def test_the_inbox_searches_the_message_text(engine) -> None:
    seed_user_messages(engine, LOGS)
    store.sync_inbox(engine)

    def leads(search: str) -> list:
        page = store.inbox_page(engine, set(), limit=100, search=search)
        return sorted(m.text for g in page.groups for m in g.members)

    assert leads("KEFIR") == ["Is kefir worth drinking?", "is kefir worth drinkin"]
    assert leads("sourdough bread") == ["can sourdough bread be ok for me"]
    assert leads("what's") == ["what's the weather"]
    assert leads("%") == leads("")  # punctuation alone searches nothing
    assert leads("zebra") == []


def test_audit_detail_of_a_decision_names_the_message_and_both_intents() -> None:
    from practice.console.views.retrain import annotation_detail

    lead = store.InboxMessage("k" * 40, "is kvass ok", "is kvass ok", "nlu_fallback", 0.35, 2, None, None)
    assert annotation_detail("relabel", lead, 3, "ask_probiotics") == (
        'relabelled "is kvass ok" and 2 similar: nlu_fallback -> ask_probiotics'
    )
    assert annotation_detail("discard", lead, 1, None) == (
        'discarded "is kvass ok": nlu_fallback -> discarded (not in the data)'
    )
    assert annotation_detail("out_of_scope", lead, 1, None).endswith("-> out_of_scope")
