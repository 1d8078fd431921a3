"""The website widget's channel: stateless JSON over HTTP, any number of worker processes.

Routes under /webhooks/website/ (all POST with a JSON body, so sender ids stay out of URLs
and access logs):

- `start`   `{"sender"}` → the greeting: the bot speaks first.
- `message` `{"sender", "message"}` → the bot's messages for that turn.
- `history` `{"sender"}` → the transcript of the current session, for a reloaded page.
- `event`   `{"sender", "event": "link_clicked", "url"}` → records a click on the
  application link as `application_link_clicked` in that conversation;
  `{"sender", "event": "feedback", "utter_action", "timestamp", "helpful"}` → records the
  visitor's verdict on one answer as `answer_feedback`.

Every reply is `{"messages": [...]}` (with `application_url` from `start` and `history`) or
a JSON error. Each bot message is one whole bot response, never split:
`{"text"?, "buttons"?: [{"title", "payload", "url"?}], "image"?, "source"?: {"section",
"url"}, "kind"?, "utter_action"?, "timestamp"}`. A URL that a link button of the same
message carries is taken out of the text: the widget shows the button instead.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence

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
FEEDBACK = "feedback"
APPLICATION_LINK_SLOT = "application_link_clicked"
FEEDBACK_SLOT = "answer_feedback"
ANSWER_KIND = "answer"
MAX_URL_CHARS = 2048
_SHORT_FIELD = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_UTTER_ACTION = re.compile(r"utter_[A-Za-z0-9_]{1,100}")
_SPACES = re.compile(r"[ \t]{2,}")


def without_url(text: str, url: str) -> str:
    """`text` with every `url` in it removed, and the sentence around it tidied.

    "Apply here: <url>" becomes "Apply here."; "... Coaching: <url>" becomes "... Coaching.";
    a URL that follows a finished sentence just goes. The URL mid-sentence leaves one space.
    """
    pattern = re.compile(r"[ \t]*:?\s*" + re.escape(url) + r"(?P<stop>[.!?]?)")

    def tidy(match: re.Match) -> str:
        before = match.string[: match.start()].rstrip()
        after = match.string[match.end() :]
        ends_sentence = (
            not after.strip() or after.startswith("\n") or (after[:1].isspace() and after.lstrip()[:1].isupper())
        )
        if not ends_sentence:
            return " "
        if not before or before[-1] in ".!?\n":
            return ""
        return match.group("stop") or "."

    return _SPACES.sub(" ", pattern.sub(tidy, text)).strip()


def _source(value: Any) -> Optional[Dict[str, str]]:
    if not isinstance(value, dict):
        return None
    section, url = value.get("section"), value.get("url")
    if isinstance(section, str) and isinstance(url, str) and section and url:
        return {"section": section, "url": url}
    return None


def widget_message(message: Dict[str, Any]) -> Dict[str, Any]:
    """One whole bot response in the widget's shape (Rasa's keys like recipient_id stay here).

    Text, buttons, image, the article `source`, the `kind` of message, the response's
    name (`utter_action`) and its `timestamp` (the bot event's, which names it in feedback).
    """
    buttons = [b for b in message.get("buttons") or [] if isinstance(b, dict)]
    out: Dict[str, Any] = {}
    text = message.get("text")
    if isinstance(text, str):
        for button in buttons:
            url = button.get("url")
            if isinstance(url, str) and url and url in text:
                text = without_url(text, url)
        if text:
            out["text"] = text
    if buttons:
        out["buttons"] = buttons
    if message.get("image"):
        out["image"] = message["image"]
    source = _source(message.get("source"))
    if source:
        out["source"] = source
    for key in ("kind", "utter_action"):
        if isinstance(message.get(key), str) and message[key]:
            out[key] = message[key]
    stamp = message.get("timestamp")
    out["timestamp"] = float(stamp) if isinstance(stamp, (int, float)) else time.time()
    return out


class WebsiteOutputChannel(CollectingOutputChannel):
    """Collects one whole message per bot response, metadata kept (CollectingOutputChannel
    splits text on blank lines and drops everything but text, buttons and images)."""

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Keep the response whole, in the widget's shape."""
        self.messages.append(widget_message(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Direct text (not from a response): one message, not split."""
        self.messages.append(widget_message({"text": text}))

    async def _persist_message(self, message: Dict[str, Any]) -> None:
        self.messages.append(widget_message(message))


def _finite(value: Any) -> Optional[float]:
    """A JSON number as a finite float; None for anything else (booleans, 1e999, 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _same_time(a: Any, b: Any) -> bool:
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) < 1e-6


def transcript(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """Visitor and bot messages of the tracker's events, in order, as the widget shows them.

    Internal triggers (the greeting on open) are not the visitor's words and are left
    out; a visitor message shows as typed, even if NLU got it cleaned. A bot message is
    whole, with its metadata, as on the live turn, and with the visitor's latest verdict
    (`feedback`: true or false) when the visitor rated it.
    """
    lines: List[Dict[str, Any]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            metadata = event.metadata or {}
            if metadata.get("is_external") or event.text is None:
                continue
            lines.append(
                {
                    "from": "visitor",
                    "text": metadata.get("original_text", event.text),
                    "timestamp": event.timestamp,
                }
            )
        elif isinstance(event, BotUttered):
            lines.append({"from": "bot", **widget_message(event.message())})
        elif isinstance(event, SlotSet) and event.key == FEEDBACK_SLOT:
            verdict = event.value if isinstance(event.value, dict) else {}
            for line in reversed(lines):
                if line["from"] == "bot" and _same_time(line["timestamp"], verdict.get("timestamp")):
                    line["feedback"] = bool(verdict.get("helpful"))
                    break
    return lines


def rated_answer(tracker: DialogueStateTracker, utter_action: str, stamp: float) -> bool:
    """Whether the conversation has that answer: a bot message of kind "answer" with that
    response name and timestamp."""
    for event in reversed(tracker.events):
        if (
            isinstance(event, BotUttered)
            and _same_time(event.timestamp, stamp)
            and (event.metadata or {}).get("utter_action") == utter_action
        ):
            return (event.metadata or {}).get("kind") == ANSWER_KIND
    return False


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
            replies = await visitor_turn(request, self.checks, on_new_message, self.name(), WebsiteOutputChannel())
            return response.json({"messages": replies})

        @channel.route("/start", methods=["POST"])
        @json_errors
        async def start(request: Request) -> HTTPResponse:
            _, sender, agent = await self._admit(request)
            collector = WebsiteOutputChannel()
            # As Rasa's trigger_intent endpoint does: an external `greet`, never visitor
            # text, so no "/greet" command ever has to pass the channel.
            async with agent.lock_store.lock(sender):
                tracker = await agent.processor.fetch_tracker_and_update_session(sender, collector)
                await agent.trigger_intent(GREET_INTENT, [], collector, tracker)
            return response.json({"messages": collector.messages, "application_url": self.application_url})

        @channel.route("/history", methods=["POST"])
        @json_errors
        async def history(request: Request) -> HTTPResponse:
            _, sender, agent = await self._admit(request)
            tracker = await agent.processor.get_tracker(sender)
            return response.json({"messages": transcript(tracker), "application_url": self.application_url})

        @channel.route("/event", methods=["POST"])
        @json_errors
        async def event(request: Request) -> HTTPResponse:
            body, sender, agent = await self._admit(request)
            if body.get("event") == FEEDBACK:
                return response.json(await self._feedback(body, sender, agent))
            if body.get("event") != LINK_CLICKED:
                raise ChannelError(400, "invalid_event", f"'event' must be '{LINK_CLICKED}' or '{FEEDBACK}'.")
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

    async def _feedback(self, body: Dict[str, Any], sender: str, agent: Agent) -> Dict[str, Any]:
        """Store the visitor's verdict on one answer as `answer_feedback` in the conversation.

        The answer must be in the conversation (its response name and timestamp), and be
        of kind "answer"; the verdict is stored under the conversation's lock.
        """
        utter_action = require_string(body, "utter_action")
        if not _UTTER_ACTION.fullmatch(utter_action):
            raise ChannelError(400, "invalid_field", "'utter_action' is not a response name.")
        helpful = body.get("helpful")
        if not isinstance(helpful, bool):
            raise ChannelError(400, "invalid_field", "'helpful' must be true or false.")
        stamp = _finite(body.get("timestamp"))
        if stamp is None:
            raise ChannelError(400, "invalid_field", "'timestamp' must be the message's timestamp.")
        async with agent.lock_store.lock(sender):
            tracker = await agent.processor.get_tracker(sender)
            if not tracker.events:
                raise ChannelError(404, "unknown_conversation", "No such conversation.")
            if not rated_answer(tracker, utter_action, stamp):
                raise ChannelError(404, "unknown_message", "No such answer in this conversation.")
            verdict = {"utter_action": utter_action, "helpful": helpful, "timestamp": stamp}
            tracker.update(SlotSet(FEEDBACK_SLOT, verdict))
            await agent.processor.save_tracker(tracker)
        return {"recorded": True}
