"""Fixtures for the console tests: SQLite and a real PostgreSQL, seeded through Rasa's store.

Conversations are saved by the project's `ConfiguredSQLTrackerStore` (Rasa's
`SQLTrackerStore`), so the `events` rows have exactly the format the assistant writes.
PostgreSQL comes from `scripts/postgres.sh start` (a loopback cluster under var/); when it
cannot be had the tests fail and say why (CI installs it: scripts/apt-install.sh postgresql).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import pytest
import sqlalchemy as sa

from practice.console import db, summary
from practice.retrain import store as inbox_store
from practice.settings import PROJECT_ROOT
from practice.store import migrations
from practice.store.database import create_engine

POSTGRES_SCRIPT = PROJECT_ROOT / "scripts" / "postgres.sh"
POSTGRES_DATABASE = "practice_console_test"
DAY = 86400.0


def midnight_utc(days_ago: int) -> float:
    """Unix time of UTC midnight `days_ago` days before today."""
    today = dt.datetime.now(dt.timezone.utc).date()
    day = today - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc).timestamp()


@dataclass
class Scenario:
    """A conversation to seed, and what the console must say about it."""

    sender_id: str
    start: float
    turns: Sequence[Tuple[str, str, float]]
    offer: Optional[str] = None
    clicked: bool = False
    facts: Dict[str, object] = field(default_factory=dict)
    # Opened in the website widget: the widget's greeting trigger (`EXTERNAL: greet`,
    # is_external) and the greeting with its buttons come first, as the widget's /start
    # stores them; `clicks` are payloads of those buttons the visitor then clicked.
    widget: bool = False
    clicks: Sequence[Tuple[str, str]] = ()


def scenarios() -> List[Scenario]:
    """The seeded conversations: one per property the filters distinguish."""
    d1, d2, d8 = midnight_utc(1), midnight_utc(2), midnight_utc(8)
    return widget_scenarios(
        [
            Scenario(
                "c-yesterday-fallback",
                d1 + 10 * 3600,
                [
                    ("What is leaky gut?", "ask_what_is_leaky_gut", 0.91),
                    ("blorp zzz qux", "nlu_fallback", 0.12),
                ],
            ),
            Scenario(
                "c-yesterday-clicked",
                d1 + 15 * 3600,
                [
                    ("Which foods help the gut lining?", "ask_foods_to_eat", 0.88),
                ],
                offer="utter_offer_coaching",
                clicked=True,
            ),
            # 23:30 UTC: already the next day in Berlin, still this day in UTC.
            Scenario(
                "c-2days-safety",
                d2 + 23.5 * 3600,
                [
                    ("There is blood in my stool", "report_red_flag_symptoms", 1.0),
                ],
            ),
            Scenario(
                "c-2days-lowconf",
                d2 + 12 * 3600,
                [
                    ("fibre?", "ask_fiber_amount", 0.35),
                    ("and is gluten bad", "ask_gluten", 0.8),
                ],
                offer="utter_closing",
            ),
            Scenario(
                "c-8days-xss",
                d8 + 9 * 3600,
                [
                    ("<script>window.__xss=1</script>", "ask_what_is_leaky_gut", 0.6),
                    ('<img src=x onerror="window.__xss=2"> **bold** [x](javascript:alert(1))', "nlu_fallback", 0.2),
                    ("thanks", "thank", 0.95),
                ],
            ),
            Scenario(
                "c-8days-search",
                d8 + 10 * 3600,
                [
                    ("Is KOMBUCHA ok? I am 100% sure_thing", "ask_probiotics", 0.77),
                ],
                offer="utter_request_coach",
                clicked=True,
            ),
            # 18:45 UTC: inside a partial hour at a half-hour zone's midnight (Kolkata, St John's).
            Scenario(
                "c-8days-evening",
                d8 + 18.75 * 3600,
                [
                    ("Does exercise help?", "ask_exercise", 0.93),
                ],
            ),
            # The widget opened a session and greeted, but the visitor never typed or clicked:
            # not a conversation.
            Scenario("c-empty", d1 + 11 * 3600, []),
        ]
    )


GREETING_BUTTONS = [
    {"title": "What is leaky gut?", "payload": "What is leaky gut?"},
    {"title": "Tell me about 1:1 coaching", "payload": "/ask_coaching"},
]


def widget_scenarios(items: Sequence[Scenario]) -> List[Scenario]:
    """The scenarios as the website widget stores them (greeting trigger first)."""
    import dataclasses

    return [dataclasses.replace(s, widget=True) for s in items]


def rasa_events(scenario: Scenario) -> list:
    """The Rasa events of a scenario, stamped at its times."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    t = scenario.start
    events: list = [
        ActionExecuted("action_session_start", timestamp=t),
        SessionStarted(timestamp=t),
        ActionExecuted("action_listen", timestamp=t),
    ]
    if scenario.widget:
        # What the website channel's /start stores: Rasa's trigger_intent("greet").
        trigger = UserUttered.create_external("greet", [], "website")
        trigger.timestamp = t
        events += [
            trigger,
            ActionExecuted("utter_greet", policy="RulePolicy", confidence=1.0, timestamp=t),
            BotUttered(
                "Hello! Ask me about leaky gut.",
                data={"buttons": GREETING_BUTTONS},
                metadata={"utter_action": "utter_greet"},
                timestamp=t,
            ),
            ActionExecuted("action_listen", timestamp=t),
        ]
    for payload, intent in scenario.clicks:
        t += 5
        ranking = [{"name": intent, "confidence": 1.0}]
        events.append(
            UserUttered(
                payload,
                intent=ranking[0],
                timestamp=t,
                parse_data={"text": payload, "intent": ranking[0], "intent_ranking": ranking, "entities": []},
                input_channel="website",
            )
        )
        events.append(ActionExecuted(f"utter_{intent}", timestamp=t + 1))
        events.append(
            BotUttered(f"An answer about {intent}.", metadata={"utter_action": f"utter_{intent}"}, timestamp=t + 1)
        )
        events.append(ActionExecuted("action_listen", timestamp=t + 1))
    for text, intent, confidence in scenario.turns:
        t += 10
        ranking = [{"name": intent, "confidence": confidence}]
        parse_data = {"text": text, "intent": ranking[0], "intent_ranking": ranking, "entities": []}
        events.append(UserUttered(text, intent=ranking[0], parse_data=parse_data, timestamp=t, input_channel="website"))
        action = "action_two_strike_fallback" if intent == "nlu_fallback" else f"utter_{intent}"
        events.append(ActionExecuted(action, policy="RulePolicy", confidence=1.0, timestamp=t + 1))
        events.append(BotUttered(f"An answer about {intent}.", metadata={"utter_action": action}, timestamp=t + 1))
        events.append(ActionExecuted("action_listen", timestamp=t + 1))
    if scenario.offer:
        t += 2
        events.append(ActionExecuted(scenario.offer, timestamp=t))
        events.append(
            BotUttered(
                "1:1 coaching could help. Apply here.",
                data={"buttons": [{"title": "Apply for coaching", "payload": "/ask_apply"}]},
                metadata={"utter_action": scenario.offer},
                timestamp=t,
            )
        )
    if scenario.clicked:
        events.append(SlotSet("application_link_clicked", True, timestamp=t + 30))
    return events


class Seeder:
    """Saves trackers through the project's SQL tracker store (Rasa's own write path)."""

    def __init__(self, database_url: str) -> None:
        """Open the tracker store on `database_url` (it creates `events` if missing)."""
        from rasa.shared.core.domain import Domain

        from practice.store.tracker_store import ConfiguredSQLTrackerStore

        self.domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
        self.store = ConfiguredSQLTrackerStore(domain=self.domain, database_url=database_url)

    def save(self, sender_id: str, events: list) -> None:
        """Append `events` to the conversation's tracker and save it."""
        from rasa.shared.core.trackers import DialogueStateTracker

        async def _save() -> None:
            tracker = await self.store.retrieve(sender_id)
            if tracker is None:
                tracker = DialogueStateTracker(sender_id, self.domain.slots)
            for event in events:
                tracker.update(event)
            await self.store.save(tracker)

        # Its own thread: Playwright's sync API keeps an event loop running in this one.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _save()).result()

    def seed(self, items: Sequence[Scenario]) -> None:
        """Save every scenario."""
        for scenario in items:
            self.save(scenario.sender_id, rasa_events(scenario))

    def close(self) -> None:
        """Release the store's connections."""
        self.store.engine.dispose()


def postgres_url(database: str = POSTGRES_DATABASE) -> str:
    """A URL on the throwaway cluster (started if needed), or the test fails saying why."""
    if os.environ.get("CONSOLE_TEST_POSTGRES_URL"):
        return os.environ["CONSOLE_TEST_POSTGRES_URL"]
    try:
        done = subprocess.run(
            [str(POSTGRES_SCRIPT), "start", database], check=True, capture_output=True, text=True, timeout=180
        )
    except (subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired) as error:
        output = getattr(error, "stderr", "") or ""
        pytest.fail(
            "PostgreSQL is needed for these tests and could not be started "
            f"(scripts/apt-install.sh postgresql; scripts/postgres.sh start): {error} {output}",
            pytrace=False,
        )
    return done.stdout.strip().splitlines()[-1]


def reset_database(database_url: str) -> None:
    """Drop Rasa's, the console's and the NLU inbox's tables and the migrations' version, for
    a clean start (the inbox's cursor must not outlive the `events` ids it points into)."""
    engine = create_engine(database_url)
    try:
        inbox_store.metadata.drop_all(engine)
        db.metadata.drop_all(engine)
        migrations.forget(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL database the seeded (module-wide) tests use."""
    return postgres_url()


@pytest.fixture(scope="session")
def pg_scratch_url() -> str:
    """A second PostgreSQL database, emptied for each test that needs a clean one."""
    return postgres_url(POSTGRES_DATABASE + "_scratch")


def database_url(backend: str, tmp: Path, pg: str) -> str:
    """A clean database of the given kind."""
    url = f"sqlite:///{tmp / 'conversations.db'}" if backend == "sqlite" else pg
    reset_database(url)
    return url


@dataclass
class Seeded:
    """A database seeded with `scenarios()` and summarised."""

    backend: str
    url: str
    engine: sa.engine.Engine
    seeder: Seeder
    scenarios: List[Scenario]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Each backend in turn, seeded once per test module."""
    pg = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    url = database_url(request.param, tmp_path_factory.mktemp(request.param), pg)
    seeder = Seeder(url)
    seeder.seed(scenarios())
    engine = create_engine(url)
    db.ensure_schema(engine)
    summary.refresh(engine)
    yield Seeded(request.param, url, engine, seeder, scenarios())
    seeder.close()
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tuple[str, Seeder, sa.engine.Engine]]:
    """A clean database of each backend, with a seeder and a console engine."""
    pg = request.getfixturevalue("pg_scratch_url") if request.param == "postgresql" else ""
    url = database_url(request.param, tmp_path, pg)
    seeder = Seeder(url)
    engine = create_engine(url)
    db.ensure_schema(engine)
    yield url, seeder, engine
    seeder.close()
    engine.dispose()
