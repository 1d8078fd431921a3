"""Rasa's REST channel, same name and URL, behind the same checks as the widget's channel.

Stock `rest` passes text starting with "/" straight to the dialogue as an intent command
(skipping NLU and the safety guard), accepts any sender, any body size and a client-chosen
`input_channel`, and answers failures with an empty list. This one does not.
"""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable, Dict, Sequence

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from practice.channels.guard import (
    RequestCheck,
    json_errors,
    request_checks,
    visitor_turn,
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
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        @json_errors
        async def receive(request: Request) -> HTTPResponse:
            return response.json(await visitor_turn(request, self.checks, on_new_message, self.name()))

        return webhook
