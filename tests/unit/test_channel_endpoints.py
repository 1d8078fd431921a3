"""The website and guarded REST channels' handlers, called directly with a stand-in agent."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Callable, Dict, List

import pytest
import sqlalchemy.exc
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.request import Request

from practice.channels.rest import GuardedRestInput
from practice.channels.validation import ChannelError
from practice.channels.website import WebsiteInput, transcript, widget_message, without_url

SENDER = "0123456789abcdef0123456789abcdef01234567"
APPLICATION_URL = "https://apply.example.com/form?ref=unit"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  application_link_clicked:
    type: bool
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet:
    - text: "Hello! Not medical advice."
      buttons: [{title: "Symptoms", payload: "What are the symptoms?"}]
  utter_message_empty:
    - text: "That message was empty."
  utter_message_too_long:
    - text: "Please shorten it."
"""
)


class FakeProcessor:
    """Trackers in a dict; records saves."""

    def __init__(self) -> None:
        """No conversations yet."""
        self.trackers: Dict[str, DialogueStateTracker] = {}
        self.saved: List[str] = []

    async def get_tracker(self, sender: str) -> DialogueStateTracker:
        """The stored tracker or an empty one (not stored), as Rasa's processor does."""
        if sender in self.trackers:
            return self.trackers[sender]
        return DialogueStateTracker(sender, DOMAIN.slots)

    async def fetch_tracker_and_update_session(
        self, sender: str, output_channel: Any = None, metadata: Any = None
    ) -> DialogueStateTracker:
        """The tracker, with a session started if it is new."""
        tracker = await self.get_tracker(sender)
        if not tracker.events:
            tracker.update(SessionStarted())
        return tracker

    async def save_tracker(self, tracker: DialogueStateTracker) -> None:
        """Keep it."""
        self.trackers[tracker.sender_id] = tracker
        self.saved.append(tracker.sender_id)


class FakeAgent:
    """What the channels use of Rasa's agent: readiness, locks, processor, domain, NLG."""

    def __init__(self, ready: bool = True) -> None:
        """A ready agent with empty stores."""
        self.ready = ready
        self.lock_store = InMemoryLockStore()
        self.processor = FakeProcessor()
        self.domain = DOMAIN
        self.nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
        self.triggered: List[str] = []

    def is_ready(self) -> bool:
        """Whether a model is loaded."""
        return self.ready

    async def trigger_intent(self, intent: str, entities: Any, output: CollectingOutputChannel, tracker: Any) -> None:
        """As Rasa: an external user event, the greeting, then save."""
        self.triggered.append(intent)
        tracker.update(UserUttered.create_external(intent))
        response = await self.nlg.generate("utter_greet", tracker, "website")
        await output.send_response(tracker.sender_id, dict(response))
        tracker.update(BotUttered(response["text"], {"buttons": response["buttons"]}))
        await self.processor.save_tracker(tracker)


def request(agent: FakeAgent, body: Any) -> Request:
    """A stand-in Sanic request with a raw body and the app's agent."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return SimpleNamespace(body=raw, app=SimpleNamespace(ctx=SimpleNamespace(agent=agent)))


class Dialogue:
    """The `on_new_message` Rasa passes to a channel: records messages, answers one line."""

    def __init__(self, error: Exception | None = None) -> None:
        """Answer "Answer." or raise `error`."""
        self.received: List[UserMessage] = []
        self.error = error

    async def __call__(self, message: UserMessage) -> None:
        """Handle one message."""
        self.received.append(message)
        if self.error:
            raise self.error
        await message.output_channel.send_text_message(message.sender_id, "Answer.")


def routes(channel: Any, dialogue: Dialogue) -> Dict[str, Callable]:
    """The channel's handlers by path."""
    return {route.uri: route.handler for route in channel.blueprint(dialogue)._future_routes}


def reply(response: Any) -> Any:
    """A handler's response as (status, parsed JSON)."""
    return response.status, json.loads(response.body)


@pytest.fixture
def agent() -> FakeAgent:
    """A ready stand-in agent."""
    return FakeAgent()


@pytest.fixture
def website() -> WebsiteInput:
    """The website channel, recognising the application URL."""
    return WebsiteInput(application_url=APPLICATION_URL)


async def test_a_message_reaches_the_dialogue_cleaned_with_the_original_kept(
    agent: FakeAgent, website: WebsiteInput
) -> None:
    dialogue = Dialogue()
    handler = routes(website, dialogue)["/message"]
    status, body = reply(await handler(request(agent, {"sender": SENDER, "message": "/greet"})))
    assert isinstance(body["messages"][0].pop("timestamp"), float)
    assert (status, body) == (200, {"messages": [{"text": "Answer."}]})
    [message] = dialogue.received
    assert (message.text, message.sender_id, message.input_channel) == ("greet", SENDER, "website")
    assert message.metadata == {"original_text": "/greet"}


@pytest.mark.parametrize("text, answer", [("   ", "That message was empty."), ("x" * 2001, "Please shorten it.")])
async def test_empty_and_long_text_get_the_domains_polite_reply_without_nlu(
    agent: FakeAgent, website: WebsiteInput, text: str, answer: str
) -> None:
    dialogue = Dialogue()
    handler = routes(website, dialogue)["/message"]
    status, body = reply(await handler(request(agent, {"sender": SENDER, "message": text})))
    assert isinstance(body["messages"][0].pop("timestamp"), float)
    assert (status, body) == (200, {"messages": [{"text": answer}]})
    assert dialogue.received == []
    assert agent.processor.saved == []


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "invalid_json"),
        ({"sender": "short", "message": "hi"}, 400, "invalid_sender"),
        ({"sender": SENDER}, 400, "invalid_field"),
        ({"sender": SENDER, "message": {"text": "hi"}}, 400, "invalid_field"),
        ({"sender": SENDER, "message": "x" * 20_000}, 413, "body_too_large"),
    ],
)
async def test_bad_requests_get_a_json_4xx(
    agent: FakeAgent, website: WebsiteInput, body: Any, status: int, code: str
) -> None:
    dialogue = Dialogue()
    for channel, path in ((website, "/message"), (GuardedRestInput(), "/webhook")):
        response = await routes(channel, dialogue)[path](request(agent, body))
        assert reply(response)[0] == status
        assert reply(response)[1]["error"] == code
    assert dialogue.received == []


@pytest.mark.parametrize(
    "error, status, code",
    [
        (
            sqlalchemy.exc.OperationalError("INSERT 'my private words'", {}, Exception()),
            503,
            "unavailable",
        ),
        (RuntimeError("my private words"), 500, "internal"),
    ],
)
async def test_failures_become_json_without_internals(
    agent: FakeAgent, website: WebsiteInput, error: Exception, status: int, code: str
) -> None:
    for channel, path in ((website, "/message"), (GuardedRestInput(), "/webhook")):
        handler = routes(channel, Dialogue(error=error))[path]
        response = await handler(request(agent, {"sender": SENDER, "message": "my private words"}))
        assert reply(response)[0] == status
        assert reply(response)[1]["error"] == code
        assert b"private" not in response.body and b"Traceback" not in response.body


async def test_no_model_loaded_is_a_503(website: WebsiteInput) -> None:
    handler = routes(website, Dialogue())["/message"]
    response = await handler(request(FakeAgent(ready=False), {"sender": SENDER, "message": "hi"}))
    assert reply(response) == (
        503,
        {"error": "unavailable", "message": reply(response)[1]["message"]},
    )


async def test_a_request_check_can_refuse_with_429(agent: FakeAgent) -> None:
    async def too_many(req: Any, sender: str) -> None:
        raise ChannelError(429, "rate_limited", "Slow down.")

    dialogue = Dialogue()
    for channel, path in (
        (WebsiteInput(checks=[too_many]), "/message"),
        (GuardedRestInput(checks=[too_many]), "/webhook"),
    ):
        response = await routes(channel, dialogue)[path](request(agent, {"sender": SENDER, "message": "hi"}))
        assert reply(response) == (429, {"error": "rate_limited", "message": "Slow down."})
    assert dialogue.received == []


async def test_start_greets_through_an_internal_trigger(agent: FakeAgent, website: WebsiteInput) -> None:
    status, body = reply(await routes(website, Dialogue())["/start"](request(agent, {"sender": SENDER})))
    assert status == 200
    assert body["messages"][0]["text"] == "Hello! Not medical advice."
    assert body["messages"][0]["buttons"] == [{"title": "Symptoms", "payload": "What are the symptoms?"}]
    assert "recipient_id" not in body["messages"][0]
    assert agent.triggered == ["greet"]


async def test_history_shows_the_visitors_words_and_the_bots_not_triggers(
    agent: FakeAgent, website: WebsiteInput
) -> None:
    tracker = DialogueStateTracker(SENDER, DOMAIN.slots)
    source = {"section": "What causes leaky gut?", "url": "https://a.example/#what-causes-leaky-gut"}
    for event in [
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered.create_external("greet"),
        BotUttered("Hello!", {"buttons": [{"title": "Symptoms", "payload": "Symptoms?"}]}, timestamp=1.5),
        UserUttered("greet", metadata={"original_text": "/greet"}, timestamp=2.0),
        BotUttered(
            "First part.\n\nSecond part.",
            metadata={"utter_action": "utter_ask_causes", "kind": "answer", "source": source},
            timestamp=2.5,
        ),
        SlotSet("answer_feedback", {"utter_action": "utter_ask_causes", "helpful": False, "timestamp": 2.5}),
    ]:
        tracker.update(event)
    agent.processor.trackers[SENDER] = tracker

    status, body = reply(await routes(website, Dialogue())["/history"](request(agent, {"sender": SENDER})))
    assert status == 200
    assert body["application_url"] == APPLICATION_URL
    # One message per bot response, whole, with its metadata, as on the live turn.
    assert body["messages"] == [
        {
            "from": "bot",
            "text": "Hello!",
            "buttons": [{"title": "Symptoms", "payload": "Symptoms?"}],
            "timestamp": 1.5,
        },
        {"from": "visitor", "text": "/greet", "timestamp": 2.0},
        {
            "from": "bot",
            "text": "First part.\n\nSecond part.",
            "source": source,
            "kind": "answer",
            "utter_action": "utter_ask_causes",
            "timestamp": 2.5,
            "feedback": False,
        },
    ]
    assert transcript(DialogueStateTracker("new", DOMAIN.slots)) == []


async def test_a_turn_keeps_each_response_whole_with_its_metadata(agent: FakeAgent, website: WebsiteInput) -> None:
    async def dialogue(message: UserMessage) -> None:
        out = message.output_channel
        await out.send_response(
            SENDER,
            {
                "text": "Part one.\n\nPart two.",
                "utter_action": "utter_ask_causes",
                "kind": "answer",
                "source": {"section": "S", "url": "https://a.example/#s"},
                "timestamp": 7.0,
                "recipient_id": SENDER,
                "elements": None,
            },
        )
        await out.send_response(
            SENDER,
            {
                "text": f"Want help? Apply for coaching: {APPLICATION_URL}",
                "buttons": [{"title": "Apply", "url": APPLICATION_URL, "payload": "apply"}],
                "utter_action": "utter_offer_coaching",
                "timestamp": 8.0,
            },
        )

    handler = {r.uri: r.handler for r in website.blueprint(dialogue)._future_routes}["/message"]
    status, body = reply(await handler(request(agent, {"sender": SENDER, "message": "why?"})))
    assert status == 200
    assert body["messages"] == [
        {
            "text": "Part one.\n\nPart two.",
            "utter_action": "utter_ask_causes",
            "kind": "answer",
            "source": {"section": "S", "url": "https://a.example/#s"},
            "timestamp": 7.0,
        },
        {
            "text": "Want help? Apply for coaching.",
            "buttons": [{"title": "Apply", "url": APPLICATION_URL, "payload": "apply"}],
            "utter_action": "utter_offer_coaching",
            "timestamp": 8.0,
        },
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Apply here: URL", "Apply here."),
        ("Complimentary call. Apply here: URL", "Complimentary call. Apply here."),
        ("Want guidance? Apply for 1:1 Coaching: URL", "Want guidance? Apply for 1:1 Coaching."),
        ("You can apply here:\nURL", "You can apply here."),
        ("Take care. URL", "Take care."),
        ("Apply at URL today, it is free.", "Apply at today, it is free."),
        ("Apply here: URL. Then wait.", "Apply here. Then wait."),
        ("URL", ""),
        ("No link here.", "No link here."),
    ],
)
def test_the_application_url_leaves_the_text_when_a_button_carries_it(text: str, expected: str) -> None:
    assert without_url(text.replace("URL", APPLICATION_URL), APPLICATION_URL) == expected


def test_text_keeps_a_url_no_button_carries() -> None:
    message = widget_message({"text": f"Apply here: {APPLICATION_URL}", "timestamp": 1.0})
    assert message == {"text": f"Apply here: {APPLICATION_URL}", "timestamp": 1.0}


async def test_feedback_on_an_answer_is_validated_and_stored(agent: FakeAgent, website: WebsiteInput) -> None:
    handler = routes(website, Dialogue())["/event"]
    verdict = {
        "sender": SENDER,
        "event": "feedback",
        "utter_action": "utter_ask_causes",
        "timestamp": 3.25,
        "helpful": False,
    }
    assert reply(await handler(request(agent, verdict)))[0] == 404  # no conversation yet

    tracker = DialogueStateTracker(SENDER, DOMAIN.slots)
    tracker.update(SessionStarted())
    tracker.update(
        BotUttered("Genes.", metadata={"utter_action": "utter_ask_causes", "kind": "answer"}, timestamp=3.25)
    )
    tracker.update(BotUttered("Apply.", metadata={"utter_action": "utter_offer_coaching"}, timestamp=3.5))
    agent.processor.trackers[SENDER] = tracker

    assert reply(await handler(request(agent, verdict))) == (200, {"recorded": True})
    assert tracker.events[-1] == SlotSet(
        "answer_feedback", {"utter_action": "utter_ask_causes", "helpful": False, "timestamp": 3.25}
    )
    assert agent.processor.saved == [SENDER]

    refused = [
        (dict(verdict, helpful="no"), 400),
        (dict(verdict, helpful=None), 400),
        (dict(verdict, timestamp="3.25"), 400),
        (dict(verdict, timestamp=True), 400),
        (dict(verdict, timestamp=10**400), 400),
        (dict(verdict, utter_action="<script>"), 400),
        (dict(verdict, utter_action=None), 400),
        (dict(verdict, timestamp=9.0), 404),  # no such message
        (dict(verdict, utter_action="utter_ask_gluten"), 404),
        # Only answers are rated: the offer is not one.
        (dict(verdict, utter_action="utter_offer_coaching", timestamp=3.5), 404),
    ]
    for body, status in refused:
        assert reply(await handler(request(agent, body)))[0] == status, body
    assert agent.processor.saved == [SENDER]


async def test_a_click_on_the_application_link_is_stored_under_the_lock(
    agent: FakeAgent, website: WebsiteInput
) -> None:
    handler = routes(website, Dialogue())["/event"]
    click = {"sender": SENDER, "event": "link_clicked", "url": APPLICATION_URL}

    assert reply(await handler(request(agent, click)))[0] == 404  # no such conversation yet
    await routes(website, Dialogue())["/start"](request(agent, {"sender": SENDER}))
    agent.processor.saved.clear()

    assert reply(await handler(request(agent, click))) == (200, {"recorded": True})
    events = agent.processor.trackers[SENDER].events
    assert events[-1] == SlotSet("application_link_clicked", True)
    assert agent.processor.saved == [SENDER]

    other = dict(click, url="https://elsewhere.example/")
    assert reply(await handler(request(agent, other))) == (200, {"recorded": False})
    assert agent.processor.saved == [SENDER]
    bad = dict(click, event="purchase")
    assert reply(await handler(request(agent, bad)))[1]["error"] == "invalid_event"


async def test_guarded_rest_keeps_the_stock_shape_and_channel_name(agent: FakeAgent) -> None:
    dialogue = Dialogue()
    handler = routes(GuardedRestInput(), dialogue)["/webhook"]
    body = {"sender": SENDER, "message": "//greet", "input_channel": "console"}
    status, messages = reply(await handler(request(agent, body)))
    assert (status, messages) == (200, [{"recipient_id": SENDER, "text": "Answer."}])
    [message] = dialogue.received
    assert (message.text, message.input_channel) == ("greet", "rest")
    assert GuardedRestInput.name() == "rest"
