"""A custom action that fails still leaves the visitor a reply."""

from __future__ import annotations

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
