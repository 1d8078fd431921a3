"""Where it fails: failing visitor messages kept by the summary, grouped by similar text."""

from __future__ import annotations

import datetime as dt
from typing import Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, BotUttered

from practice.console import queries, summary

from .conftest import Scenario, Seeded, Seeder, midnight_utc, rasa_events

Empty = Tuple[str, Seeder, sa.engine.Engine]
UTC = ZoneInfo("UTC")


def today() -> dt.date:
    """Today in UTC."""
    return dt.datetime.now(dt.timezone.utc).date()


def report(engine: sa.engine.Engine, reason: str = "", low: float = 0.5, days: int = 9) -> queries.FailureReport:
    """The failing messages of the last `days` days."""
    return queries.failing_messages(engine, today() - dt.timedelta(days=days), today(), UTC, low, reason)


def test_the_seeded_failures(seeded: Seeded) -> None:
    found = report(seeded.engine)
    shown = {g.lead.text: (g.reasons, g.conversations) for g in found.groups}
    assert shown == {
        "blorp zzz qux": (("fallback", "low"), ["c-yesterday-fallback"]),
        "fibre?": (("low",), ["c-2days-lowconf"]),
        '<img src=x onerror="window.__xss=2"> **bold** [x](javascript:alert(1))': (
            ("fallback", "low"),
            ["c-8days-xss"],
        ),
    }
    assert found.total == found.read == 3
    assert [g.lead.text for g in report(seeded.engine, "fallback").groups] == [
        "blorp zzz qux",
        '<img src=x onerror="window.__xss=2"> **bold** [x](javascript:alert(1))',
    ]
    # The low-confidence line is applied when reading: 0.65 also catches the 0.6 message.
    assert "<script>window.__xss=1</script>" in {g.lead.text for g in report(seeded.engine, "low", low=0.65).groups}
    assert report(seeded.engine, days=0).groups == []


def _not_covered(sender: str, start: float, text: str, later: bool = False) -> list:
    events = rasa_events(Scenario(sender, start, [(text, "ask_foods_to_eat", 0.95)]))
    answer = [
        ActionExecuted("utter_not_covered", timestamp=start + 20),
        BotUttered("The article does not cover that.", timestamp=start + 20),
    ]
    return (events, answer) if later else (events + answer, [])


def test_not_covered_answers_beyond_article_and_grouping(empty: Empty) -> None:
    _, seeder, engine = empty
    start = midnight_utc(1)
    first, _ = _not_covered("n1", start, "Can I eat sourdough bread?")
    seeder.save("n1", first)
    seeder.save(
        "n2",
        rasa_events(
            Scenario(
                "n2",
                start + 100,
                [
                    ("can i eat sourdough bread", "ask_beyond_article", 0.9),
                    ("what is leaky gut", "ask_what_is_leaky_gut", 0.99),
                ],
            )
        ),
    )
    # The answer arrives in a later batch than the message it answers.
    message, answer = _not_covered("n3", start + 200, "Is sourdough bread ok?", later=True)
    seeder.save("n3", message)
    summary.refresh(engine)
    seeder.save("n3", answer)
    summary.refresh(engine)
    found = report(engine)
    assert [(sorted(m.text for m in g.messages), g.reasons, sorted(g.conversations)) for g in found.groups] == [
        (["Can I eat sourdough bread?", "can i eat sourdough bread"], ("not_covered",), ["n1", "n2"]),
        (["Is sourdough bread ok?"], ("not_covered",), ["n3"]),
    ]
    # A rebuild counts the same.
    summary.rebuild(engine)
    assert [len(g.messages) for g in report(engine).groups] == [2, 1]
    assert report(engine, "fallback").groups == []
