"""Only what visitors typed (or clicked) is a visitor message: widget and server triggers are not.

The website widget's /start stores Rasa's `trigger_intent("greet")`: a `user` event with text
`EXTERNAL: greet` and metadata `is_external`. It must not make a conversation, count as a
message, be searchable, exported or reach the NLU inbox. Databases the first release
summarised are corrected by migrating the console's own tables (tests build one with the
release's code, frozen in tests/console/release_1/).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Tuple
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, UserUttered

from practice.console import db, queries, summary
from practice.console.export import csv_chunks, json_chunks
from practice.console.queries import ConversationFilter
from practice.retrain import store
from practice.store import migrations
from practice.store.migrations.models import project_metadata

from .conftest import Scenario, Seeded, Seeder, midnight_utc, rasa_events, scenarios
from .release_1 import db as release_db
from .release_1 import store as release_store
from .release_1 import summary as release_summary

Empty = Tuple[str, Seeder, sa.engine.Engine]
UTC = ZoneInfo("UTC")
LOW = 0.5
LISTED = {s.sender_id for s in scenarios() if s.turns or s.clicks}


def listed(engine: sa.engine.Engine, **query: str) -> set:
    """Sender ids the list shows for a query-string filter."""
    page = queries.list_conversations(engine, ConversationFilter.from_query(query), UTC, LOW, page_size=100)
    return {row.sender_id for row in page.rows}


def exports(engine: sa.engine.Engine) -> str:
    """The CSV and JSON exports of every conversation, as one text."""
    chunks = queries.iter_conversations(engine, ConversationFilter(), UTC, LOW)
    text = "".join(csv_chunks(chunks, UTC))
    chunks = queries.iter_conversations(engine, ConversationFilter(), UTC, LOW)
    return text + "".join(json_chunks(chunks, UTC, lambda ids: queries.messages_for(engine, ids)))


def test_a_widget_visitor_who_types_nothing_is_not_a_conversation(seeded: Seeded) -> None:
    assert "c-empty" not in listed(seeded.engine)
    assert listed(seeded.engine) == LISTED
    # The greeting the widget triggered is in every conversation, yet counts nowhere.
    assert "greet" not in queries.known_intents(seeded.engine)
    assert listed(seeded.engine, intent="greet") == set()
    assert listed(seeded.engine, q="external") == set()
    assert listed(seeded.engine, q="greet") == set()
    row = queries.transcript(seeded.engine, "c-2days-safety").summary
    assert (row.user_messages, row.first_message) == (1, "There is blood in my stool")


def test_no_export_shows_a_triggered_event(seeded: Seeded) -> None:
    text = exports(seeded.engine)
    assert "EXTERNAL" not in text and "is_external" not in text
    records = json.loads(text[text.index("[\n") :])
    for record in records:
        visitor = [m["text"] for m in record["messages"] if m["from"] == "visitor"]
        expected = next(s for s in scenarios() if s.sender_id == record["conversation_id"])
        assert visitor == [t[0] for t in expected.turns]
    rows = list(csv.DictReader(io.StringIO(text[: text.index("[\n")])))
    assert {r["conversation_id"] for r in rows} == LISTED


def test_the_transcript_keeps_the_trigger_out_of_the_visitor_s_messages(seeded: Seeded) -> None:
    found = queries.transcript(seeded.engine, "c-yesterday-clicked")
    users = [i for i in found.items if i.kind == "user"]
    assert [u.text for u in users] == ["Which foods help the gut lining?"]
    assert [i.name for i in found.items if i.kind == "trigger"] == ["greet"]


def test_a_click_makes_a_conversation_but_no_visitor_text(empty: Empty) -> None:
    _, seeder, engine = empty
    seeder.save(
        "click",
        rasa_events(Scenario("click", midnight_utc(1), [], widget=True, clicks=[("/ask_coaching", "ask_coaching")])),
    )
    seeder.save("quiet", rasa_events(Scenario("quiet", midnight_utc(1), [], widget=True)))
    summary.refresh(engine)
    assert listed(engine) == {"click"}
    row = queries.transcript(engine, "click").summary
    assert (row.user_messages, row.first_message, row.topics) == (1, "", ("ask_coaching",))
    assert listed(engine, q="ask_coaching") == set()
    click = [i for i in queries.transcript(engine, "click").items if i.kind == "click"]
    assert [(c.text, c.label) for c in click] == [("/ask_coaching", "Tell me about 1:1 coaching")]
    exported = json.loads(
        "".join(
            json_chunks(
                queries.iter_conversations(engine, ConversationFilter(), UTC, LOW),
                UTC,
                lambda ids: queries.messages_for(engine, ids),
            )
        )
    )
    visitor = [m for m in exported[0]["messages"] if m["from"] == "visitor"]
    assert [(m["text"], m["clicked"]) for m in visitor] == [("/ask_coaching", "Tell me about 1:1 coaching")]
    assert exported[0]["first_visitor_message"] == ""


def test_any_external_event_is_left_out_and_safety_lists_escalate(empty: Empty) -> None:
    _, seeder, engine = empty
    start = midnight_utc(2)
    reminder = UserUttered(
        "reminder text", intent={"name": "ask_gluten"}, metadata={"is_external": True}, timestamp=start + 1
    )
    seeder.save("ext", rasa_events(Scenario("ext", start, [])) + [reminder])
    events = rasa_events(Scenario("safe", start, [("I skip meals to stay thin", "ask_diet", 0.9)]))
    user = next(e for e in events if isinstance(e, UserUttered))
    user.parse_data["safety"] = [{"kind": "eating_disorder"}]
    seeder.save("safe", events + [ActionExecuted("action_listen", timestamp=start + 99)])
    summary.refresh(engine)
    assert listed(engine) == {"safe"}
    assert listed(engine, escalation="yes") == {"safe"}
    assert listed(engine, q="reminder") == set()


def test_the_inbox_never_holds_a_triggered_event(seeded: Seeded) -> None:
    with seeded.engine.begin() as connection:  # an inbox never read: no rows, no cursor, no version
        for table in (store.inbox, store.inbox_state, store.annotations_table):
            connection.execute(table.delete())
    store._migrated.discard(str(seeded.engine.url))
    store.sync_inbox(seeded.engine, settle_seconds=0)
    page = store.inbox_page(seeded.engine, set(), limit=100)
    texts = {m.text for g in page.groups for m in g.members}
    assert texts and not any(t.startswith("EXTERNAL") for t in texts)
    assert "Which foods help the gut lining?" in texts


def _release_1_database(url: str, seeder: Seeder, engine: sa.engine.Engine) -> None:
    """A database as the first release left it: its summary and its inbox, no version row."""
    seeder.seed(scenarios())
    # The console's tables as that release made them (fewer of them, fewer columns), and no
    # record of migrations: that release had none.
    project_metadata().drop_all(engine)
    migrations.forget(engine)
    release_db.ensure_schema(engine)
    release_summary.refresh(engine)
    release_store.sync_inbox(engine, settle_seconds=0)


def test_migration_corrects_a_database_the_first_release_built(empty: Empty) -> None:
    url, seeder, engine = empty
    _release_1_database(url, seeder, engine)
    # What the first release showed: the silent widget session as a conversation, and the
    # greeting as the visitor's text and an inbox row.
    with engine.connect() as connection:
        old = connection.execute(
            sa.select(db.conversations.c.sender_id, db.conversations.c.first_message).where(
                db.conversations.c.user_messages > 0
            )
        ).fetchall()
        assert ("c-empty", "EXTERNAL: greet") in [tuple(r) for r in old]
        inbox_texts = connection.execute(sa.select(release_store.inbox.c.text)).scalars().all()
        assert "EXTERNAL: greet" in inbox_texts
        events_before = connection.execute(sa.select(sa.func.count(), sa.func.max(db.events.c.id))).one()

    assert "last_user_event_id" not in {c["name"] for c in sa.inspect(engine).get_columns("console_conversations")}
    db.ensure_schema(engine)  # what the console does when it starts
    assert "last_user_event_id" in {c["name"] for c in sa.inspect(engine).get_columns("console_conversations")}
    store._migrated.discard(str(engine.url))
    summary.refresh(engine)
    store.sync_inbox(engine, settle_seconds=0)

    assert listed(engine) == LISTED
    assert "greet" not in queries.known_intents(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.select(store.inbox.c.text)).scalars().all()
        assert not any(t.startswith("EXTERNAL") for t in connection.execute(sa.select(store.inbox.c.text)).scalars())
        # Rasa's rows are untouched.
        assert connection.execute(sa.select(sa.func.count(), sa.func.max(db.events.c.id))).one() == events_before
    fresh = summary.rebuild(engine)
    assert fresh.behind == 0 and listed(engine) == LISTED
    # A second start migrates nothing.
    assert db.migrate(engine) is False and store.migrate(engine) is False


@pytest.mark.parametrize("kind", ["typed", "clicked", "external"])
def test_origin_of_stored_user_events(kind: str) -> None:
    from practice.console import visitor

    data = {
        "typed": {"text": "/greet is what I typed", "metadata": {"original_text": "//greet"}},
        "clicked": {"text": "/ask_apply", "metadata": {}},
        "external": {"text": "EXTERNAL: greet", "metadata": {"is_external": True}},
    }[kind]
    assert visitor.origin(data) == kind
