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
(`performance.py`). Any Rasa but 3.6.x is refused at start (`version.py`).

Everything else is stock `rasa`, arguments included.
"""

from __future__ import annotations

from practice.settings import Settings


def install(settings: Settings) -> None:
    """Apply the fixes to the Rasa modules in this process (idempotent)."""
    import rasa.core.actions.action as remote_actions
    from rasa.core.agent import Agent

    from practice.rasa_runtime import workers
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
