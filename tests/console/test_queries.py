"""The console's queries on SQLite and a real PostgreSQL, over conversations Rasa's store saved."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Dict, Set
from zoneinfo import ZoneInfo

import pytest

from practice.console import audit, queries, review
from practice.console.export import csv_chunks, json_chunks
from practice.console.queries import ConversationFilter

from .conftest import Seeded

UTC = ZoneInfo("UTC")
LOW = 0.5
ALL = {
    "c-yesterday-fallback",
    "c-yesterday-clicked",
    "c-2days-safety",
    "c-2days-lowconf",
    "c-8days-xss",
    "c-8days-search",
    "c-8days-evening",
}


def today() -> dt.date:
    """Today in UTC, the zone the scenarios are laid out in."""
    return dt.datetime.now(dt.timezone.utc).date()


def ids(seeded: Seeded, flt: ConversationFilter, tz: ZoneInfo = UTC) -> Set[str]:
    """The sender ids the list shows for a filter (all pages)."""
    page = queries.list_conversations(seeded.engine, flt, tz, LOW, page_size=100)
    return {row.sender_id for row in page.rows}


def row(seeded: Seeded, sender_id: str) -> queries.ConversationRow:
    """The list row of one conversation."""
    found = queries.transcript(seeded.engine, sender_id)
    assert found is not None and found.summary is not None
    return found.summary


FILTERS = {
    "everything": ({}, ALL),
    "had a fallback": ({"fallback": "yes"}, {"c-yesterday-fallback", "c-8days-xss"}),
    "ended in a fallback": ({"fallback": "ended"}, {"c-yesterday-fallback"}),
    "no fallback": (
        {"fallback": "no"},
        {"c-yesterday-clicked", "c-2days-safety", "c-2days-lowconf", "c-8days-search", "c-8days-evening"},
    ),
    "intent": ({"intent": "ask_gluten"}, {"c-2days-lowconf"}),
    "intent shared by two": ({"intent": "ask_what_is_leaky_gut"}, {"c-yesterday-fallback", "c-8days-xss"}),
    "low confidence": ({"low_confidence": "1"}, {"c-yesterday-fallback", "c-2days-lowconf", "c-8days-xss"}),
    "escalated": ({"escalation": "yes"}, {"c-2days-safety"}),
    "not escalated": ({"escalation": "no"}, ALL - {"c-2days-safety"}),
    "offer shown": ({"offer": "yes"}, {"c-yesterday-clicked", "c-2days-lowconf", "c-8days-search"}),
    "offer not shown": ({"offer": "no"}, {"c-yesterday-fallback", "c-2days-safety", "c-8days-xss", "c-8days-evening"}),
    "clicked": ({"clicked": "yes"}, {"c-yesterday-clicked", "c-8days-search"}),
    "not clicked": ({"clicked": "no"}, ALL - {"c-yesterday-clicked", "c-8days-search"}),
    "search, any case": ({"q": "kombucha"}, {"c-8days-search"}),
    "search, percent is literal": ({"q": "%"}, {"c-8days-search"}),
    "search, underscore is literal": ({"q": "e_t"}, {"c-8days-search"}),
    "search, markup is text": ({"q": "<script>"}, {"c-8days-xss"}),
    "search, no match": ({"q": "zebra"}, set()),
    "search plus filter": ({"q": "leaky", "fallback": "ended"}, {"c-yesterday-fallback"}),
    "garbage values mean no filter": ({"fallback": "maybe", "offer": "perhaps", "from": "x"}, ALL),
}


@pytest.mark.parametrize("query, expected", FILTERS.values(), ids=FILTERS.keys())
def test_each_filter_selects_exactly_its_conversations(
    seeded: Seeded, query: Dict[str, str], expected: Set[str]
) -> None:
    assert ids(seeded, ConversationFilter.from_query(query)) == expected


def test_bad_dates_and_long_searches_are_reported_not_silently_dropped() -> None:
    flt = ConversationFilter.from_query({"from": "2026-02-30", "to": "yesterday"})
    assert (flt.date_from, flt.date_to) == (None, None)
    assert [p.split(";")[0] for p in flt.problems] == [
        "“From” must be a date like 2026-01-31",
        "“To” must be a date like 2026-01-31",
    ]
    flt = ConversationFilter.from_query({"from": "2026-03-10", "to": "2026-03-01"})
    assert (flt.date_from, flt.date_to) == (dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    assert "was after" in flt.problems[0]
    flt = ConversationFilter.from_query({"q": "kombucha " * 1000})
    assert len(flt.search) == queries.MAX_SEARCH_CHARS
    assert flt.problems == ("The search has 8,999 characters; only the first 200 were searched for.",)
    assert ConversationFilter.from_query({"from": "2026-03-01"}).problems == ()
    assert ConversationFilter.from_query({}) == ConversationFilter()


def test_date_range_uses_the_practice_time_zone(seeded: Seeded) -> None:
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    flt = ConversationFilter.from_query({"from": yesterday, "to": yesterday})
    assert ids(seeded, flt) == {"c-yesterday-fallback", "c-yesterday-clicked"}
    # 23:30 UTC two days ago is already yesterday in Berlin.
    assert ids(seeded, flt, ZoneInfo("Europe/Berlin")) == {
        "c-yesterday-fallback",
        "c-yesterday-clicked",
        "c-2days-safety",
    }


def test_date_range_spanning_days(seeded: Seeded) -> None:
    flt = ConversationFilter(date_from=today() - dt.timedelta(days=2), date_to=today() - dt.timedelta(days=1))
    assert ids(seeded, flt) == {"c-yesterday-fallback", "c-yesterday-clicked", "c-2days-safety", "c-2days-lowconf"}


def test_summary_row_counts_what_happened(seeded: Seeded) -> None:
    fallback = row(seeded, "c-yesterday-fallback")
    assert fallback.user_messages == 2
    assert fallback.messages == 5  # the greeting the widget triggered is a reply too
    assert fallback.topics == ("ask_what_is_leaky_gut",)
    assert fallback.first_message == "What is leaky gut?"
    assert fallback.fallbacks == 1
    assert fallback.min_confidence == pytest.approx(0.12)
    assert (fallback.offer_shown, fallback.link_clicked, fallback.escalations) == (False, False, 0)
    clicked = row(seeded, "c-yesterday-clicked")
    assert (clicked.offer_shown, clicked.link_clicked) == (True, True)
    assert row(seeded, "c-2days-safety").escalations == 1
    assert row(seeded, "c-2days-lowconf").topics == ("ask_fiber_amount", "ask_gluten")


def test_list_is_newest_first_and_paged(seeded: Seeded) -> None:
    first = queries.list_conversations(seeded.engine, ConversationFilter(), UTC, LOW, page=1, page_size=4)
    second = queries.list_conversations(seeded.engine, ConversationFilter(), UTC, LOW, page=2, page_size=4)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (7, 2, 4, 3)
    started = [r.started_at for r in first.rows + second.rows]
    assert started == sorted(started, reverse=True)
    assert [r.sender_id for r in first.rows][:2] == ["c-yesterday-clicked", "c-yesterday-fallback"]


def test_transcript_shows_every_event_in_order(seeded: Seeded) -> None:
    found = queries.transcript(seeded.engine, "c-yesterday-clicked")
    assert found is not None
    shown = [(i.kind, i.text or i.name) for i in found.items]
    assert shown == [
        ("action", "action_session_start"),
        ("session", "session started"),
        ("action", "action_listen"),
        ("trigger", "greet"),
        ("action", "utter_greet"),
        ("bot", "Hello! Ask me about leaky gut."),
        ("action", "action_listen"),
        ("user", "Which foods help the gut lining?"),
        ("action", "utter_ask_foods_to_eat"),
        ("bot", "An answer about ask_foods_to_eat."),
        ("action", "action_listen"),
        ("action", "utter_offer_coaching"),
        ("bot", "1:1 coaching could help. Apply here."),
        ("slot", "application_link_clicked"),
    ]
    user = found.items[7]
    assert (user.intent, user.confidence) == ("ask_foods_to_eat", pytest.approx(0.88))
    assert found.items[12].buttons == ("Apply for coaching",)
    assert found.items[13].value == "true"
    assert queries.transcript(seeded.engine, "no-such-conversation") is None


def test_dashboard_counts_days_topics_and_rates(seeded: Seeded) -> None:
    stats = queries.dashboard(seeded.engine, today() - dt.timedelta(days=8), today() - dt.timedelta(days=1), UTC)
    per_day = {d.day: d.conversations for d in stats.days}
    assert len(stats.days) == 8
    assert per_day[today() - dt.timedelta(days=8)] == 3
    assert per_day[today() - dt.timedelta(days=2)] == 2
    assert per_day[today() - dt.timedelta(days=1)] == 2
    assert sum(per_day.values()) == 7
    totals = stats.totals
    assert (totals.conversations, totals.with_fallback, totals.escalated, totals.offered, totals.clicked) == (
        7,
        2,
        1,
        3,
        2,
    )
    assert stats.fallback_rate == pytest.approx(2 / 7)
    assert stats.message_fallback_rate == pytest.approx(2 / 11)
    assert stats.offer_reach == pytest.approx(3 / 7)
    assert stats.click_through == pytest.approx(2 / 3)
    assert stats.escalations == 1
    assert stats.topics[0] == ("ask_what_is_leaky_gut", 2)
    assert {name for name, _ in stats.topics} == {
        "ask_what_is_leaky_gut",
        "ask_foods_to_eat",
        "ask_fiber_amount",
        "ask_gluten",
        "ask_probiotics",
        "ask_exercise",
    }


def test_topic_outcomes_say_which_questions_lead_to_applications(seeded: Seeded) -> None:
    outcomes = queries.topic_outcomes(
        seeded.engine, today() - dt.timedelta(days=8), today() - dt.timedelta(days=1), UTC
    )
    found = {o.intent: (o.conversations, o.offered, o.clicked) for o in outcomes}
    assert found == {
        "ask_what_is_leaky_gut": (2, 0, 0),
        "ask_foods_to_eat": (1, 1, 1),
        "ask_fiber_amount": (1, 1, 0),
        "ask_gluten": (1, 1, 0),
        "ask_probiotics": (1, 1, 1),
        "ask_exercise": (1, 0, 0),
    }
    assert [o.intent for o in outcomes][:2] == ["ask_foods_to_eat", "ask_probiotics"]
    # Each number is the size of the list it links to.
    for o in outcomes:
        base = {
            "from": (today() - dt.timedelta(days=8)).isoformat(),
            "to": (today() - dt.timedelta(days=1)).isoformat(),
            "intent": o.intent,
        }
        assert len(ids(seeded, ConversationFilter.from_query(base))) == o.conversations
        assert len(ids(seeded, ConversationFilter.from_query({**base, "offer": "yes"}))) == o.offered
        assert len(ids(seeded, ConversationFilter.from_query({**base, "offer": "yes", "clicked": "yes"}))) == o.clicked
    assert queries.topic_outcomes(seeded.engine, today(), today(), UTC) == []


def test_dashboard_day_follows_time_zone(seeded: Seeded) -> None:
    yesterday = today() - dt.timedelta(days=1)
    stats = queries.dashboard(seeded.engine, yesterday, yesterday, ZoneInfo("Europe/Berlin"))
    assert stats.totals.conversations == 3


def test_known_intents_lists_what_visitors_triggered(seeded: Seeded) -> None:
    intents = queries.known_intents(seeded.engine)
    assert {"ask_gluten", "nlu_fallback", "report_red_flag_symptoms", "thank"} <= set(intents)
    assert intents == sorted(intents)


@pytest.fixture
def marks(seeded: Seeded):
    """Review marks, tags and notes made by a test are removed afterwards."""
    yield seeded
    for sender_id in ALL:
        review.set_reviewed(seeded.engine, sender_id, "t", False)
        review.set_note(seeded.engine, sender_id, "", "t")
        for tag in review.all_tags(seeded.engine):
            review.remove_tag(seeded.engine, sender_id, tag)


def test_reviewed_tag_and_note(marks: Seeded) -> None:
    engine = marks.engine
    review.set_reviewed(engine, "c-2days-safety", "sam", True)
    assert review.add_tag(engine, "c-2days-safety", "  Needs   Answer ", "sam") == "needs answer"
    review.add_tag(engine, "c-2days-safety", "needs answer", "sam")  # twice is once
    review.add_tag(engine, "c-8days-xss", "<b>odd</b>", "kim")
    review.set_note(engine, "c-2days-safety", "Called the GP line.\r\nFollow up.", "sam")
    assert ids(marks, ConversationFilter(reviewed=True)) == {"c-2days-safety"}
    assert ids(marks, ConversationFilter(reviewed=False)) == ALL - {"c-2days-safety"}
    assert ids(marks, ConversationFilter(tag="needs answer")) == {"c-2days-safety"}
    assert ids(marks, ConversationFilter(tag="<b>odd</b>")) == {"c-8days-xss"}
    safety = row(marks, "c-2days-safety")
    assert (safety.reviewed_by, safety.tags, safety.note) == (
        "sam",
        ("needs answer",),
        "Called the GP line.\nFollow up.",
    )
    review.add_tag(engine, "c-2days-lowconf", "needs answer", "kim")
    review.remove_tag(engine, "c-2days-safety", "Needs Answer")
    assert row(marks, "c-2days-safety").tags == ()
    assert review.all_tags(engine) == ["<b>odd</b>", "needs answer"]  # still on lowconf
    review.remove_tag(engine, "c-2days-lowconf", "needs answer")
    assert review.all_tags(engine) == ["<b>odd</b>"]  # unused: gone from the suggestions
    with pytest.raises(review.ReviewError):
        review.add_tag(engine, "c-2days-safety", "   ", "sam")
    with pytest.raises(review.ReviewError):
        review.set_note(engine, "c-2days-safety", "x" * 5001, "sam")


def test_a_tag_can_be_deleted_everywhere(marks: Seeded) -> None:
    engine = marks.engine
    for sender_id in ("c-2days-safety", "c-8days-xss"):
        review.add_tag(engine, sender_id, "Old Label", "sam")
    review.add_tag(engine, "c-8days-xss", "keep", "sam")
    assert review.delete_tag(engine, " old   LABEL ") == 2
    assert review.all_tags(engine) == ["keep"]
    assert ids(marks, ConversationFilter(tag="old label")) == set()
    assert row(marks, "c-8days-xss").tags == ("keep",)
    assert review.delete_tag(engine, "no such tag") == 0


def test_csv_export_has_one_row_per_conversation_and_no_formulas(marks: Seeded) -> None:
    review.set_note(marks.engine, "c-8days-xss", '=HYPERLINK("http://evil")', "sam")
    flt = ConversationFilter(date_from=today() - dt.timedelta(days=8))
    text = "".join(csv_chunks(queries.iter_conversations(marks.engine, flt, UTC, LOW, chunk=2), UTC))
    records = list(csv.DictReader(io.StringIO(text)))
    assert {r["conversation_id"] for r in records} == ALL
    xss = next(r for r in records if r["conversation_id"] == "c-8days-xss")
    assert xss["note"] == '\'=HYPERLINK("http://evil")'
    assert xss["first_visitor_message"] == "<script>window.__xss=1</script>"
    assert (xss["fallbacks"], xss["offer_shown"], xss["lowest_confidence"]) == ("1", "False", "0.200")


def test_json_export_carries_the_messages(seeded: Seeded) -> None:
    flt = ConversationFilter(clicked=True)
    text = "".join(
        json_chunks(
            queries.iter_conversations(seeded.engine, flt, UTC, LOW, chunk=1),
            UTC,
            lambda sender_ids: queries.messages_for(seeded.engine, sender_ids),
        )
    )
    records = json.loads(text)
    assert [r["conversation_id"] for r in records] == ["c-yesterday-clicked", "c-8days-search"]
    messages = records[0]["messages"]
    assert [(m["from"], m["text"]) for m in messages] == [
        ("assistant", "Hello! Ask me about leaky gut."),
        ("visitor", "Which foods help the gut lining?"),
        ("assistant", "An answer about ask_foods_to_eat."),
        ("assistant", "1:1 coaching could help. Apply here."),
    ]
    assert messages[1]["intent"] == "ask_foods_to_eat"
    assert records[0]["application_clicked"] is True


def test_export_audit_names_each_conversation(seeded: Seeded) -> None:
    entry = audit.record_export(
        seeded.engine, "sam", "export_csv", "clicked=yes", ["c-yesterday-clicked", "c-8days-search"]
    )
    assert audit.exported_conversations(seeded.engine, entry) == ["c-8days-search", "c-yesterday-clicked"]
    audit.record(seeded.engine, "kim", "view", "c-8days-search")
    found = audit.entries(seeded.engine, sender_id="c-8days-search")
    assert [(e.username, e.action) for e in found][:2] == [("kim", "view"), ("sam", "export_csv")]
    assert [e.action for e in audit.entries(seeded.engine, username="kim")][0] == "view"


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"])
def test_dashboard_agrees_with_the_list_in_any_time_zone(seeded: Seeded, zone: str) -> None:
    """Rollups are per 15 minutes and per hour; half-hour zones must still count exactly."""
    tz = ZoneInfo(zone)
    for first, last in ((2, 1), (8, 2), (9, 0), (7, 1), (8, 8)):
        date_from, date_to = today() - dt.timedelta(days=first), today() - dt.timedelta(days=last)
        stats = queries.dashboard(seeded.engine, date_from, date_to, tz)
        listed = queries.list_conversations(
            seeded.engine, ConversationFilter(date_from=date_from, date_to=date_to), tz, LOW, page_size=100
        )
        assert stats.totals.conversations == listed.total
        expected: Dict[str, int] = {}
        for row in listed.rows:
            for topic in row.topics:
                expected[topic] = expected.get(topic, 0) + 1
        assert dict(stats.topics) == expected


def test_neighbours_follow_the_list_order(seeded: Seeded) -> None:
    flt = ConversationFilter.from_query({"offer": "yes"})
    order = [r.sender_id for r in queries.list_conversations(seeded.engine, flt, UTC, LOW).rows]
    for index, sender in enumerate(order):
        newer, older = queries.neighbours(seeded.engine, sender, flt, UTC, LOW)
        assert newer == (order[index - 1] if index else None)
        assert older == (order[index + 1] if index + 1 < len(order) else None)
    assert queries.neighbours(seeded.engine, "nobody", flt, UTC, LOW) == (None, None)


def test_search_snippets_and_highlight(seeded: Seeded) -> None:
    from practice.console.web import highlight

    found = queries.search_snippets(seeded.engine, sorted(ALL), "kombucha")
    assert found == {"c-8days-search": "Is KOMBUCHA ok? I am 100% sure_thing"}
    assert queries.snippet("x" * 100 + "needle" + "y" * 100, "NEEDLE") == ("…" + "x" * 40 + "needle" + "y" * 40 + "…")
    assert str(highlight("<b>Kombucha</b> kombucha", "KOMBUCHA")) == (
        "&lt;b&gt;<mark>Kombucha</mark>&lt;/b&gt; <mark>kombucha</mark>"
    )
    assert str(highlight("a < b", "")) == "a &lt; b"
    assert queries.search_snippets(seeded.engine, sorted(ALL), "greet") == {}
