"""`rasa run` with the practice's reliability fixes: `python -m practice.runtime run ...`.

Two of Rasa 3.6's defaults break promises this service makes, and neither is a setting:

* a custom action may take five minutes (`DEFAULT_REQUEST_TIMEOUT`) before Rasa gives up,
  so a hung action server leaves the visitor staring at a typing indicator. Capped here at
  `ACTION_TIMEOUT_SECONDS`; after a failed action the rules go on to the closing offer,
  so the visitor still gets an answer with the application link;
* every tracker store is wrapped in `FailSafeTrackerStore`, which keeps messages in memory
  when the database is down. Replaced by `StrictTrackerStore`, so the channels answer 503
  and the widget retries (see practice/store/strict.py).

It also makes the server reload `--model FILE` when `make retrain` or `make rollback`
replaces that file, without a restart (practice/retrain/hot_reload.py), and runs
`RASA_WORKERS` server processes that share one loaded model (practice/workers.py).

The launcher starts the Rasa server through this module; everything else is stock
`rasa run`, arguments included.
"""

from __future__ import annotations

import sys
from typing import Sequence

from practice.settings import Settings, get_settings

# The Rasa these patches were written against (tests/unit/test_rasa_contract.py checks each
# patched target's parameters); any other minor version is refused at start.
SUPPORTED_RASA = "3.6."


def check_rasa_version(version: str) -> str | None:
    """Why this Rasa cannot be patched safely, or None when it is a 3.6 release."""
    if version.startswith(SUPPORTED_RASA):
        return None
    return (
        f"Rasa {version} is installed; this project patches Rasa {SUPPORTED_RASA}x internals "
        "and runs only on it (requirements.lock pins rasa==3.6.21). Run `make setup`."
    )


def install(settings: Settings) -> None:
    """Apply the fixes to the Rasa modules in this process (idempotent)."""
    import rasa.core.actions.action as remote_actions
    from rasa.core.agent import Agent

    from practice import workers
    from practice.retrain.hot_reload import install as install_hot_reload
    from practice.store.strict import strict_tracker_store

    # `RemoteAction.run` reads this module global on every call.
    remote_actions.DEFAULT_REQUEST_TIMEOUT = settings.action_timeout_seconds
    Agent._create_tracker_store = staticmethod(strict_tracker_store)
    # A promoted model (`make retrain`, `make rollback`) loads without a restart.
    install_hot_reload(settings)
    # RASA_WORKERS processes on one port, forked after the model loads (practice/workers.py).
    workers.install(settings.rasa_workers)
    # `rasa test core --e2e` keeps what NLU found, as the served tracker does.
    install_test_parse_data()
    # A custom action that fails still leaves the visitor a reply.
    install_reply_when_an_action_fails()


# Said when a custom action fails: the two-strike fallback's first words.
REPLY_WHEN_AN_ACTION_FAILS = "utter_please_rephrase"


def install_reply_when_an_action_fails() -> None:
    """A custom action that fails (action server down or hung) says its fallback words.

    Rasa logs the failure and goes on with no reply; the only custom action here asks the
    visitor to rephrase, so the server says that itself, from domain.yml, instead of silence.
    """
    import logging

    from rasa.core.actions.action import RemoteAction, create_bot_utterance

    original = RemoteAction.run
    if getattr(original, "__wrapped_original__", None) is not None:
        return
    log = logging.getLogger(__name__)

    async def run(self: RemoteAction, output_channel: object, nlg: object, tracker: object, domain: object) -> list:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except Exception as error:  # noqa: BLE001 - any failure of the action server
            # Rasa's own words ("Failed to execute custom action ..."): no visitor text.
            log.error("%s Replying with %s instead.", error, REPLY_WHEN_AN_ACTION_FAILS)
            message = await nlg.generate(REPLY_WHEN_AN_ACTION_FAILS, tracker, output_channel.name())  # type: ignore[attr-defined]
            if not message:
                raise
            message["utter_action"] = REPLY_WHEN_AN_ACTION_FAILS
            return [create_bot_utterance(message)]

    run.__wrapped_original__ = original  # type: ignore[attr-defined]
    RemoteAction.run = run


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


def main(argv: Sequence[str] | None = None) -> None:
    """Install the fixes, then hand the command line to Rasa's own entry point."""
    from importlib.metadata import version

    from practice import performance, quiet

    refused = check_rasa_version(version("rasa"))
    if refused is not None:
        print(refused, file=sys.stderr)
        raise SystemExit(2)
    quiet.install()  # library deprecation warnings off the terminal (practice/quiet.py)
    performance.preload()  # before anything imports TensorFlow
    install(get_settings())
    performance.install()
    from rasa.__main__ import main as rasa_main

    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    rasa_main()


if __name__ == "__main__":
    main()
