"""The website widget's channel: stateless JSON over HTTP, any number of worker processes.

Routes under /webhooks/website/ (all POST with a JSON body, so sender ids stay out of URLs
and access logs):

- `start`   `{"sender"}` → the greeting: the bot speaks first.
- `message` `{"sender", "message"}` → the bot's messages for that turn.
- `history` `{"sender"}` → the transcript of the current session, for a reloaded page.
- `event`   `{"sender", "event": "link_clicked", "url"}` → records a click on the
  application link as `application_link_clicked` in that conversation.

Every reply is `{"messages": [...]}` or a JSON error; each bot message is
`{"text", "buttons"?: [{"title", "payload", "url"?}], "image"?}`.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, List, Sequence

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from practice.channels.guard import (
    RequestCheck,
    json_errors,
    ready_agent,
    request_checks,
    run_checks,
    visitor_turn,
)
from practice.channels.validation import (
    ChannelError,
    parse_json_body,
    require_sender,
    require_string,
)
from practice.settings import get_settings

GREET_INTENT = "greet"
LINK_CLICKED = "link_clicked"
APPLICATION_LINK_SLOT = "application_link_clicked"
MAX_URL_CHARS = 2048
# Keys of a bot message the widget renders; the rest (recipient_id, ...) stays server-side.
_MESSAGE_KEYS = ("text", "buttons", "image")


def widget_message(message: Dict[str, Any]) -> Dict[str, Any]:
    """One collected bot message in the widget's shape."""
    return {key: message[key] for key in _MESSAGE_KEYS if message.get(key)}


def transcript(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """Visitor and bot messages of the tracker's events, in order, as the widget shows them.

    Internal triggers (the greeting on open) are not the visitor's words and are left
    out; a visitor message shows as typed, even if NLU got it cleaned.
    """
    lines: List[Dict[str, Any]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            metadata = event.metadata or {}
            if metadata.get("is_external") or event.text is None:
                continue
            lines.append({"from": "visitor", "text": metadata.get("original_text", event.text)})
        elif isinstance(event, BotUttered):
            data = event.data or {}
            if data.get("buttons"):
                parts = [event.text or ""]
            else:
                # As CollectingOutputChannel splits them on the live turn.
                parts = [p for p in (event.text or "").strip().split("\n\n") if p]
            for index, part in enumerate(parts):
                line: Dict[str, Any] = {"from": "bot", "text": part}
                if index == len(parts) - 1:
                    line.update(
                        widget_message({"buttons": data.get("buttons"), "image": data.get("image")})
                    )
                lines.append(line)
    return lines


class WebsiteInput(InputChannel):
    """The widget's input channel: `start`, `message`, `history` and `event`."""

    def __init__(
        self,
        application_url: str = "",
        checks: Sequence[RequestCheck] | None = None,
    ) -> None:
        """Keep the application URL (to recognise its clicks) and the request checks."""
        self.application_url = application_url
        self.checks = list(checks or [])

    @classmethod
    def name(cls) -> str:
        """Routes live under /webhooks/website/."""
        return "website"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> WebsiteInput:
        """Build the channel from credentials.yml and the practice's settings."""
        return cls(
            application_url=get_settings().coaching_application_url,
            checks=request_checks(),
        )

    async def _admit(self, request: Request) -> tuple[Dict[str, Any], str, Agent]:
        body = parse_json_body(request.body)
        sender = require_sender(body)
        await run_checks(self.checks, request, sender)
        return body, sender, ready_agent(request)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The channel's routes."""
        channel = Blueprint("website_channel", __name__)

        @channel.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @channel.route("/message", methods=["POST"])
        @json_errors
        async def message(request: Request) -> HTTPResponse:
            replies = await visitor_turn(request, self.checks, on_new_message, self.name())
            return response.json({"messages": [widget_message(m) for m in replies]})

        @channel.route("/start", methods=["POST"])
        @json_errors
        async def start(request: Request) -> HTTPResponse:
            _, sender, agent = await self._admit(request)
            collector = CollectingOutputChannel()
            # As Rasa's trigger_intent endpoint does: an external `greet`, never visitor
            # text, so no "/greet" command ever has to pass the channel.
            async with agent.lock_store.lock(sender):
                tracker = await agent.processor.fetch_tracker_and_update_session(sender, collector)
                await agent.trigger_intent(GREET_INTENT, [], collector, tracker)
            return response.json({"messages": [widget_message(m) for m in collector.messages]})

        @channel.route("/history", methods=["POST"])
        @json_errors
        async def history(request: Request) -> HTTPResponse:
            _, sender, agent = await self._admit(request)
            tracker = await agent.processor.get_tracker(sender)
            return response.json({"messages": transcript(tracker)})

        @channel.route("/event", methods=["POST"])
        @json_errors
        async def event(request: Request) -> HTTPResponse:
            body, sender, agent = await self._admit(request)
            if body.get("event") != LINK_CLICKED:
                raise ChannelError(400, "invalid_event", f"'event' must be '{LINK_CLICKED}'.")
            url = require_string(body, "url")
            if len(url) > MAX_URL_CHARS:
                raise ChannelError(400, "invalid_field", "'url' is too long.")
            if not self.application_url or url != self.application_url:
                return response.json({"recorded": False})
            async with agent.lock_store.lock(sender):
                tracker = await agent.processor.get_tracker(sender)
                if not tracker.events:
                    raise ChannelError(404, "unknown_conversation", "No such conversation.")
                tracker.update(SlotSet(APPLICATION_LINK_SLOT, True))
                await agent.processor.save_tracker(tracker)
            return response.json({"recorded": True})

        return channel
