"""The patched Rasa runtime: every change this project makes to Rasa 3.6, in one place.

`python -m practice.rasa_runtime run|train|data validate|test core ...` is `rasa` with the
patches applied; the launcher serves, `make train` and `make retrain` train, and
`make test-data` and `make test-stories` test through it, so what is tested is what runs.

Two of Rasa 3.6's defaults break promises this service makes, and neither is a setting:

* a custom action may take five minutes (`DEFAULT_REQUEST_TIMEOUT`) before Rasa gives up,
  so a hung action server leaves the visitor staring at a typing indicator. Capped here at
  `ACTION_TIMEOUT_SECONDS`; after a failed action the rules go on to the closing offer,
  so the visitor still gets an answer with the application link (`action_failure.py`);
* every tracker store is wrapped in `FailSafeTrackerStore`, which keeps messages in memory
  when the database is down. Replaced by `StrictTrackerStore`, so the channels answer 503
  and the widget retries (see practice/store/strict.py).

It also makes the server reload `--model FILE` when `make retrain` or `make rollback`
replaces that file, without a restart (`hot_reload.py`), runs `RASA_WORKERS` server
processes that share one loaded model (`workers.py`), keeps each message's full parse in
the conversation tests (`story_tests.py`), and removes work Rasa repeats on every message
(`performance.py`). Any Rasa but 3.6.x is refused at start (`version.py`), and so is one
whose patched internals no longer look as the patches assume (`contract.py`).

Everything else is stock `rasa`, arguments included.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import List, Tuple

from practice.settings import Settings

# How every process runs `rasa`: serving, training, `data validate`, `test core`.
ENTRY_POINT = "practice.rasa_runtime"


def rasa_command(*arguments: str) -> List[str]:
    """`rasa ARGUMENTS...` as this project runs it: through the patched runtime."""
    return [sys.executable, "-m", ENTRY_POINT, *arguments]


@dataclass(frozen=True)
class Patch:
    """One replacement of a Rasa (or Sanic) internal: what, why, and the test that covers it."""

    # `module:attribute.path`: the name the replacement is assigned to.
    target: str
    # The original's parameters the replacement was written for on Rasa 3.6.21 (None: a
    # value, not a function; a last "*": any parameters after those).
    parameters: Tuple[str, ...] | None
    # The module of this package (or of practice/store) that holds the replacement.
    module: str
    reason: str
    # `path::test_name` (or a conversation test file) that fails if the patch is lost.
    test: str
    # Installed only under this setting (empty: always).
    only_when: str = ""


# Every patch `install` applies (tests/unit/test_rasa_runtime.py checks that each is
# applied and that its test exists; tests/unit/test_rasa_contract.py checks its parameters).
PATCHES: Tuple[Patch, ...] = (
    Patch(
        "rasa.core.actions.action:DEFAULT_REQUEST_TIMEOUT",
        None,
        "__init__.py",
        "a custom action may hold a reply for 5 minutes; capped at ACTION_TIMEOUT_SECONDS",
        "tests/reliability/test_stores.py::test_the_runtime_caps_the_action_timeout_and_drops_the_memory_fallback",
    ),
    Patch(
        "rasa.core.agent:Agent._create_tracker_store",
        ("store", "domain"),
        "practice/store/strict.py",
        "Rasa's FailSafeTrackerStore keeps messages in memory when the database is down; "
        "StrictTrackerStore makes the channels answer 503 instead",
        "tests/reliability/test_stores.py::test_the_runtime_caps_the_action_timeout_and_drops_the_memory_fallback",
    ),
    Patch(
        "rasa.core.actions.action:RemoteAction.run",
        ("self", "output_channel", "nlg", "tracker", "domain"),
        "action_failure.py",
        "a custom action that fails leaves no reply; the fallback's first words are said instead",
        "tests/reliability/test_faults.py::test_action_server_down_still_answers_with_the_link",
    ),
    Patch(
        "rasa.core.agent:load_agent",
        ("model_path", "model_server", "remote_storage", "endpoints", "loop"),
        "hot_reload.py",
        "a model promoted by `make retrain` or `make rollback` loads without a restart",
        "tests/retrain/test_hot_reload.py::test_install_wraps_load_agent_once_and_schedules_the_watch",
    ),
    Patch(
        "rasa.core.processor:MessageProcessor._load_model",
        ("model_path",),
        "workers.py",
        "each worker gets the model loaded once before the fork instead of a copy of its own",
        "tests/unit/test_workers.py::test_a_worker_gets_the_model_loaded_before_the_fork",
        only_when="RASA_WORKERS > 1",
    ),
    Patch(
        "rasa.core.run:serve_application",
        ("model_path", "*"),
        "workers.py",
        "the parent loads the model before Sanic forks the workers",
        "tests/reliability/test_concurrency.py::test_several_workers_serve_one_visitor_in_arrival_order",
        only_when="RASA_WORKERS > 1",
    ),
    Patch(
        "sanic.app:serve_multiple",
        ("server_settings", "workers"),
        "workers.py",
        "Sanic never replaces a worker that dies; this one forks another at once, with a backoff",
        "tests/reliability/test_supervision.py::test_a_killed_rasa_worker_is_replaced_and_visitors_are_answered_meanwhile",
        only_when="RASA_WORKERS > 1",
    ),
    Patch(
        "rasa.core.test:_collect_user_uttered_predictions",
        ("event", "predicted", "partial_tracker", "fail_on_prediction_errors"),
        "story_tests.py",
        "`rasa test core --e2e` keeps only intent and entities; the dialogue reads the whole parse",
        "tests/unit/test_rasa_runtime.py::test_conversation_tests_keep_the_whole_parse",
    ),
    Patch(
        "rasa.core.processor:DaskGraphRunner",
        ("self", "graph_schema", "model_storage", "execution_context", "hooks"),
        "performance.py",
        "dask's scheduler cost more per message than several of the components it ran",
        "tests/unit/test_performance.py::test_sequential_runner_gives_what_dask_gives",
    ),
    Patch(
        "rasa.core.actions.action:RemoteAction._validate_action_result",
        ("self", "result"),
        "performance.py",
        "jsonschema.validate re-checks the schema itself on every action call",
        "tests/unit/test_performance.py::test_invalid_action_results_raise_with_the_docs_hint",
    ),
    Patch(
        "rasa.shared.core.events:Event.resolve_by_type",
        ("type_name", "default"),
        "performance.py",
        "Rasa walks every Event subclass for each event loaded from the tracker store",
        "tests/unit/test_performance.py::test_event_types_resolve_to_the_classes_rasa_finds",
    ),
    Patch(
        "rasa.nlu.classifiers.logistic_regression_classifier:LogisticRegressionClassifier._create_X",
        ("self", "messages"),
        "performance.py",
        "Rasa stacks the sparse features with an empty dense block, then re-stacks the one row",
        "tests/unit/test_performance.py::test_classifier_input_is_what_rasa_builds",
    ),
    Patch(
        "rasa.shared.core.domain:Domain.is_empty",
        ("self",),
        "performance.py",
        "Rasa builds a whole empty Domain to compare the model's domain with, on every message",
        "tests/unit/test_performance.py::test_the_empty_domain_check_answers_as_rasas",
    ),
    Patch(
        "rasa.core.run:load_agent_on_start",
        ("model_path", "endpoints", "remote_storage", "app", "loop"),
        "performance.py",
        "a full garbage collection walks the loaded model's 540,000 objects and frees nothing",
        "tests/unit/test_performance.py::test_everything_loaded_with_the_model_is_frozen_out_of_the_collector",
    ),
)

# Rasa's private methods that a subclass of ours overrides or calls (not installed: the
# tracker store is configured in endpoints.yml); tests/unit/test_rasa_contract.py checks them.
OVERRIDES: Tuple[Patch, ...] = (
    Patch(
        "rasa.core.tracker_store:SQLTrackerStore._retrieve",
        ("self", "sender_id", "fetch_events_from_all_sessions"),
        "practice/store/tracker_store.py",
        "builds the tracker from the `data` column instead of an ORM object per event",
        "tests/unit/test_performance.py::test_rows_and_trackers_are_those_rasa_writes_and_reads",
    ),
    Patch(
        "rasa.core.tracker_store:SQLTrackerStore._event_query",
        ("self", "session", "sender_id", "fetch_events_from_all_sessions"),
        "practice/store/tracker_store.py",
        "the `_retrieve` above runs Rasa's query for a conversation's events, built once",
        "tests/unit/test_performance.py::test_the_prebuilt_query_selects_the_rows_rasas_query_selects",
    ),
    Patch(
        "rasa.core.tracker_store:SQLTrackerStore._additional_events",
        ("self", "session", "tracker"),
        "practice/store/tracker_store.py",
        "Rasa counts the stored events with a query on every save; a loaded tracker knows",
        "tests/unit/test_performance.py::test_turns_store_each_event_once_without_counting_again",
    ),
    Patch(
        "rasa.core.tracker_store:SQLTrackerStore.save",
        ("self", "tracker"),
        "practice/store/tracker_store.py",
        "one multi-row INSERT of the rows Rasa writes, instead of an ORM flush per event",
        "tests/unit/test_performance.py::test_rows_and_trackers_are_those_rasa_writes_and_reads",
    ),
)


def install(settings: Settings) -> None:
    """Apply every patch in PATCHES to the Rasa modules in this process (idempotent)."""
    import rasa.core.actions.action as remote_actions
    from rasa.core.agent import Agent

    from practice.rasa_runtime import performance, workers
    from practice.rasa_runtime.action_failure import install_reply_when_an_action_fails
    from practice.rasa_runtime.hot_reload import install as install_hot_reload
    from practice.rasa_runtime.story_tests import install_test_parse_data
    from practice.store.strict import strict_tracker_store

    # `RemoteAction.run` reads this module global on every call.
    remote_actions.DEFAULT_REQUEST_TIMEOUT = settings.action_timeout_seconds
    Agent._create_tracker_store = staticmethod(strict_tracker_store)
    # A promoted model (`make retrain`, `make rollback`) loads without a restart.
    install_hot_reload(settings)
    # RASA_WORKERS processes on one port, forked after the model loads (workers.py).
    workers.install(settings.rasa_workers)
    # `rasa test core --e2e` keeps what NLU found, as the served tracker does.
    install_test_parse_data()
    # A custom action that fails still leaves the visitor a reply.
    install_reply_when_an_action_fails()
    # The hot-path fixes (performance.py): none changes an answer.
    performance.install()
