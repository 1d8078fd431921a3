"""Rasa's REST channel, same name and URL, behind the same checks as the widget's channel.

Stock `rest` passes text starting with "/" straight to the dialogue as an intent command
(skipping NLU and the safety guard), accepts any sender, any body size and a client-chosen
`input_channel`, and answers failures with an empty list. This one does not.
"""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable, Dict, Sequence

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from practice.channels.guard import (
    RequestCheck,
    json_errors,
    polite_reply,
    ready_agent,
    request_checks,
    run_checks,
)
from practice.channels.validation import (
    clean_visitor_text,
    message_metadata,
    parse_json_body,
    require_sender,
    require_string,
)


class GuardedRestInput(RestInput):
    """POST /webhooks/rest/webhook `{"sender", "message"}` → the bot's messages, validated."""

    def __init__(self, checks: Sequence[RequestCheck] | None = None) -> None:
        """Keep the request checks (rate limits) run after validation."""
        self.checks = list(checks or [])

    @classmethod
    def name(cls) -> str:
        """The stock name, so the URL stays /webhooks/rest/webhook."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> GuardedRestInput:
        """Build the channel from credentials.yml (it takes no credentials)."""
        return cls(checks=request_checks())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The health route and the webhook; `?stream=true` is not offered."""
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        @json_errors
        async def receive(request: Request) -> HTTPResponse:
            body = parse_json_body(request.body)
            sender = require_sender(body)
            visitor_text = clean_visitor_text(require_string(body, "message"))
            await run_checks(self.checks, request, sender)
            agent = ready_agent(request)
            if visitor_text.problem:
                return response.json(await polite_reply(agent, sender, visitor_text.problem))
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    visitor_text.text,
                    collector,
                    sender,
                    input_channel=self.name(),
                    metadata=message_metadata(visitor_text),
                )
            )
            return response.json(collector.messages)

        return webhook
