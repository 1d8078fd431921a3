"""The hot-path fixes give Rasa's own results: same graph outputs, same validation, same events."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
from jsonschema import ValidationError
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from practice.rasa_runtime import performance


class Add(GraphComponent):
    """A toy component: adds its two inputs, and records that it ran."""

    calls: List[str] = []

    def __init__(self, name: str) -> None:
        """Remember the node name."""
        self.name = name

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: Any, resource: Any, execution_context: Any) -> Add:
        """Build from the node's config."""
        return cls(config["name"])

    def run(self, a: int, b: int) -> int:
        """a + b."""
        Add.calls.append(self.name)
        return a + b


class Fail(Add):
    """A toy component that fails like a broken component does."""

    def run(self, a: int, b: int) -> int:
        """Raise."""
        raise RuntimeError("broken")


def node(name: str, needs: Dict[str, str], target: bool = False, uses: type = Add) -> SchemaNode:
    """A schema node of a toy component."""
    return SchemaNode(
        needs=needs,
        uses=uses,
        constructor_name="create",
        fn="run",
        config={"name": name},
        is_target=target,
    )


@pytest.fixture
def schema() -> GraphSchema:
    """A diamond with an unused branch: x -> (left, right) -> top; x -> unused."""
    return GraphSchema(
        {
            "x": node("x", {"a": "__one__", "b": "__two__"}),
            "left": node("left", {"a": "x", "b": "__one__"}),
            "right": node("right", {"a": "x", "b": "x"}),
            "top": node("top", {"a": "left", "b": "right"}, target=True),
            "unused": node("unused", {"a": "x", "b": "x"}),
            "broken": node("broken", {"a": "x", "b": "x"}, uses=Fail),
        }
    )


def runner(cls: type, schema: GraphSchema, tmp_path: Path) -> Any:
    """A runner of `cls` over `schema`."""
    storage = LocalModelStorage(tmp_path)
    return cls.create(schema, storage, ExecutionContext(schema, "test"))


@pytest.mark.parametrize(
    "inputs, targets",
    [
        ({"__one__": 1, "__two__": 2}, ["top"]),
        ({"__one__": 5, "__two__": -3}, ["left", "right"]),
        ({"__one__": 0, "__two__": 0}, ["unused", "top"]),
        ({"__one__": 10, "__two__": 1}, ["x"]),
    ],
)
def test_sequential_runner_gives_what_dask_gives(
    schema: GraphSchema, tmp_path: Path, inputs: Dict[str, int], targets: List[str]
) -> None:
    dask = runner(DaskGraphRunner, schema, tmp_path / "dask").run(inputs, targets)
    Add.calls.clear()
    sequential_runner = runner(performance.sequential_graph_runner(), schema, tmp_path / "seq")
    first = sequential_runner.run(inputs, targets)
    ran_once = sorted(Add.calls)
    second = sequential_runner.run(inputs, targets)  # from the cached plan

    assert first == dask
    assert second == dask
    # Only the nodes the targets need ran, each once per run.
    needed = set(schema.minimal_graph_schema(targets).nodes)
    assert ran_once == sorted(needed)


def test_sequential_runner_fails_as_dask_does(schema: GraphSchema, tmp_path: Path) -> None:
    inputs = {"__one__": 1, "__two__": 2}
    with pytest.raises(Exception) as from_dask:
        runner(DaskGraphRunner, schema, tmp_path / "dask").run(inputs, ["broken"])
    sequential_runner = runner(performance.sequential_graph_runner(), schema, tmp_path / "seq")
    with pytest.raises(type(from_dask.value), match="node broken"):
        sequential_runner.run(inputs, ["broken"])
    with pytest.raises(GraphRunError, match="clashes"):
        sequential_runner.run({"__one__": "top", "__two__": 2}, ["top"])


@pytest.fixture(scope="module")
def installed() -> None:
    """The fixes installed in this test process."""
    performance.install()


def remote_action() -> Any:
    """A remote action like the one Rasa builds for `action_two_strike_fallback`."""
    from rasa.core.actions.action import RemoteAction

    return RemoteAction("action_two_strike_fallback", None)


@pytest.mark.parametrize(
    "result",
    [
        {"events": [], "responses": []},
        {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]},
        {},
    ],
)
def test_valid_action_results_pass(installed: None, result: Dict[str, Any]) -> None:
    assert remote_action()._validate_action_result(result) is True


@pytest.mark.parametrize(
    "result",
    [
        {"events": "not a list"},
        {"events": [{"no_event_key": 1}]},
        {"responses": "nope"},
    ],
)
def test_invalid_action_results_raise_with_the_docs_hint(installed: None, result: Dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        remote_action()._validate_action_result(result)


def test_event_types_resolve_to_the_classes_rasa_finds(installed: None) -> None:
    for name in {cls.type_name for cls in all_subclasses(Event)}:
        expected = next(cls for cls in all_subclasses(Event) if cls.type_name == name)
        assert Event.resolve_by_type(name) is expected
        assert Event.resolve_by_type(name) is expected  # from the lookup table
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("no_such_event", default=ActionExecuted) is ActionExecuted
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_the_empty_domain_check_answers_as_rasas(installed: None) -> None:
    from rasa.shared.core.domain import Domain

    original = Domain.is_empty.__wrapped_original__
    domains = [
        Domain.empty(),
        Domain.from_yaml("version: '3.1'\nintents: []\n"),
        Domain.from_yaml("version: '3.1'\nintents: [greet]\nresponses:\n  utter_greet:\n  - text: hi\n"),
        Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml")),
    ]
    answers = [(d.is_empty(), original(d)) for d in domains]
    assert answers == [(True, True), (True, True), (False, False), (False, False)]
    assert Domain.empty().is_empty()  # asked again: the kept dictionary still compares equal


async def test_sqlite_conversations_use_a_pooled_write_ahead_log(tmp_path: Path) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.pool import QueuePool

    from practice.store.tracker_store import ConfiguredSQLTrackerStore

    store = ConfiguredSQLTrackerStore(domain=Domain.empty(), database_url=f"sqlite:///{tmp_path / 'conversations.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert isinstance(store.engine.pool, QueuePool)

    tracker = DialogueStateTracker("visitor-0123456789abcdef", [])
    tracker.update(UserUttered("what is leaky gut?"))
    await store.save(tracker)
    tracker.update(ActionExecuted("utter_ask_what_is_leaky_gut"))
    await store.save(tracker)
    stored = await store.retrieve("visitor-0123456789abcdef")
    assert stored is not None
    assert [type(e) for e in stored.events] == [UserUttered, ActionExecuted]


def stored_rows(store: Any, sender_id: str) -> List[str]:
    """The type names of a sender's stored events, in order."""
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender_id,))
        return [row[0] for row in rows]


@pytest.fixture
def sql_store(tmp_path: Path) -> Any:
    """The practice's SQL tracker store on a fresh SQLite file, with statements counted."""
    import sqlalchemy as sa
    from rasa.shared.core.domain import Domain

    from practice.store.tracker_store import ConfiguredSQLTrackerStore

    store = ConfiguredSQLTrackerStore(domain=Domain.empty(), database_url=f"sqlite:///{tmp_path / 'conversations.db'}")
    store.statements = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        store.statements.append(statement)

    return store


async def test_turns_store_each_event_once_without_counting_again(sql_store: Any) -> None:
    from rasa.shared.core.events import SessionStarted

    sender = "visitor-aaaaaaaaaaaaaaaa"
    tracker = await sql_store.get_or_create_tracker(sender)  # new: counted as Rasa does
    for turn in range(3):
        tracker = await sql_store.retrieve(sender)
        tracker.update(UserUttered(f"question {turn}"))
        tracker.update(ActionExecuted("utter_answer"))
        sql_store.statements.clear()
        await sql_store.save(tracker)
        assert not [s for s in sql_store.statements if "count(" in s.lower()]
        assert len(stored_rows(sql_store, sender)) == len(tracker.events)

    # A new session inside one turn, saved twice on the same object: still no duplicates.
    tracker = await sql_store.retrieve(sender)
    before = len(stored_rows(sql_store, sender))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    await sql_store.save(tracker)
    tracker.update(ActionExecuted("action_listen"))
    await sql_store.save(tracker)
    assert len(stored_rows(sql_store, sender)) == before + 3
    assert stored_rows(sql_store, sender)[-3:] == ["action", "session_started", "action"]


async def test_trackers_from_elsewhere_are_counted_as_rasa_does(sql_store: Any) -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    sender = "visitor-bbbbbbbbbbbbbbbb"
    first = DialogueStateTracker(sender, [])
    first.update(UserUttered("hello"))
    await sql_store.save(first)
    # A tracker built outside the store with the stored event plus one new one.
    second = DialogueStateTracker(sender, [])
    second.update(UserUttered("hello"))
    second.update(ActionExecuted("utter_greet"))
    sql_store.statements.clear()
    await sql_store.save(second)
    assert [s for s in sql_store.statements if "count(" in s.lower()]
    assert stored_rows(sql_store, sender) == ["user", "action"]


async def test_rows_and_trackers_are_those_rasa_writes_and_reads(sql_store: Any, tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SessionStarted, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    sender = "visitor-cccccccccccccccc"
    tracker = DialogueStateTracker(sender, [])
    parse = {"intent": {"name": "ask_symptoms", "confidence": 0.9}, "entities": [], "text": "symptoms?"}
    for event in (
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("symptoms?", parse_data=parse),
        SlotSet("crisis_disclosed", False),
        ActionExecuted("utter_answer_symptoms"),
    ):
        tracker.update(event)
    # One save of the whole conversation: both stores write every event once. (Saved turn
    # by turn, Rasa's count of "events since the session started" writes session_started
    # twice; test_turns_store_each_event_once_without_counting_again covers ours.)
    for store in (sql_store, rasa_store):
        await store.save(tracker)

    def rows(store: Any) -> List[Any]:
        with store.engine.connect() as connection:
            return list(
                connection.exec_driver_sql(
                    "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
                )
            )

    assert rows(sql_store) == rows(rasa_store)
    ours, theirs = await sql_store.retrieve(sender), await rasa_store.retrieve(sender)
    assert ours.current_state() == theirs.current_state()
    assert (await sql_store.retrieve_full_tracker(sender)).current_state() == (
        await rasa_store.retrieve_full_tracker(sender)
    ).current_state()


@pytest.mark.parametrize("all_sessions", [False, True])
async def test_the_prebuilt_query_selects_the_rows_rasas_query_selects(sql_store: Any, all_sessions: bool) -> None:
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    # Two senders; the first with two sessions, the second with none started.
    first = DialogueStateTracker("visitor-dddddddddddddddd", [])
    for event in (
        ActionExecuted("action_session_start"),
        SessionStarted(timestamp=100.0),
        UserUttered("hello", timestamp=101.0),
        ActionExecuted("action_session_start", timestamp=200.0),
        SessionStarted(timestamp=200.0),
        ActionExecuted("action_listen", timestamp=200.0),
        UserUttered("symptoms?", timestamp=201.0),
    ):
        first.update(event)
    second = DialogueStateTracker("visitor-eeeeeeeeeeeeeeee", [])
    second.update(UserUttered("fibre?"))
    for tracker in (first, second):
        await sql_store.save(tracker)

    query = sql_store._all_sessions_query if all_sessions else sql_store._latest_session_query
    for tracker in (first, second):
        with sql_store.session_scope() as session:
            rasas = sql_store._event_query(session, tracker.sender_id, all_sessions)
            expected = [row.data for row in rasas]
            ours = [data for (data,) in session.execute(query, {"sender_id": tracker.sender_id})]
        assert ours == expected
    with sql_store.session_scope() as session:
        latest = list(session.execute(sql_store._latest_session_query, {"sender_id": first.sender_id}))
    assert len(latest) == 5  # from the second session's start (timestamp 200.0) on


def message_with_features(sparse_rows: List[List[float]], dense: List[float] | None = None) -> Any:
    """A message with sentence-level sparse (and optionally dense) text features."""
    import numpy as np
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message
    from scipy.sparse import coo_matrix

    message = Message(data={TEXT: "fibre and gluten"})
    message.add_features(Features(coo_matrix(np.array(sparse_rows)), "sentence", TEXT, "cv"))
    if dense is not None:
        message.add_features(Features(np.array([dense]), "sentence", TEXT, "dense"))
    return message


@pytest.mark.parametrize(
    "messages",
    [
        [message_with_features([[0, 2, 0, 1]])],
        [message_with_features([[0, 2, 0, 1]]), message_with_features([[1, 0, 0, 0]])],
        [message_with_features([[0, 2, 0, 1]], dense=[0.5, 0.25])],
    ],
)
def test_classifier_input_is_what_rasa_builds(installed: None, messages: List[Any]) -> None:
    from rasa.nlu.classifiers.logistic_regression_classifier import (
        LogisticRegressionClassifier,
    )

    original = LogisticRegressionClassifier.__dict__["_create_X"].__wrapped_original__
    ours = LogisticRegressionClassifier._create_X(None, messages)
    rasa = original(None, messages)
    assert ours.shape == rasa.shape
    assert ours.dtype == rasa.dtype
    assert (ours.tocsr() != rasa.tocsr()).nnz == 0


async def test_everything_loaded_with_the_model_is_frozen_out_of_the_collector(
    installed: None,
) -> None:
    import gc

    import rasa.core.run

    async def load(model: str, *, endpoints: Any = None) -> str:
        return f"agent for {model}"

    gc.unfreeze()
    try:
        assert await performance.freezing_after(load)("m", endpoints=None) == "agent for m"
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    # The server's listener is wrapped this way once the fixes are installed.
    assert hasattr(rasa.core.run.load_agent_on_start, "freezes_after")
