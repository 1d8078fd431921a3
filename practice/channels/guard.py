"""The parts both public channels share: request checks, polite replies, error mapping."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable, Dict, List, Sequence

import redis.exceptions
import sqlalchemy.exc
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.request import Request
from sanic.response import HTTPResponse

from practice.channels.rate_limit import shared_rate_limiter
from practice.channels.validation import (
    EMPTY,
    TOO_LONG,
    ChannelError,
    clean_visitor_text,
    error_response,
    message_metadata,
    parse_json_body,
    require_sender,
    require_string,
)

logger = logging.getLogger(__name__)

# A check that may refuse a request (e.g. 429) after it passed validation.
RequestCheck = Callable[[Request, str], Awaitable[None]]
Handler = Callable[..., Awaitable[HTTPResponse]]

# The domain response each refused text gets instead of a turn through NLU.
POLITE_REPLIES = {EMPTY: "utter_message_empty", TOO_LONG: "utter_message_too_long"}
_PROBLEM_STATUS = {EMPTY: (422, "empty_message"), TOO_LONG: (413, "message_too_long")}

# Failures of the stores behind a turn: the client may retry later.
_UNAVAILABLE = (
    sqlalchemy.exc.SQLAlchemyError,
    redis.exceptions.RedisError,
    LockError,
    ConnectionError,
    asyncio.TimeoutError,
)


def request_checks() -> List[RequestCheck]:
    """The checks every public endpoint runs after validation, in order.

    Rate limiting (practice/channels/rate_limit.py) plugs in here; each check raises
    `ChannelError(429, ...)` to refuse. Both channels share the one limiter.
    """
    return [shared_rate_limiter()]


async def run_checks(checks: Sequence[RequestCheck], request: Request, sender: str) -> None:
    """Run every check; the first to refuse raises `ChannelError`."""
    for check in checks:
        await check(request, sender)


def ready_agent(request: Request) -> Agent:
    """The app's agent, or a 503 while no model is loaded."""
    agent: Agent | None = getattr(request.app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        raise ChannelError(503, "unavailable", "The assistant is starting. Try again shortly.")
    return agent


async def polite_reply(
    agent: Agent, sender: str, problem: str, collector: CollectingOutputChannel | None = None
) -> List[Dict[str, Any]]:
    """The domain's reply to empty or over-long text, formatted as the REST channel would.

    Nothing runs through NLU or is stored: the text never became a turn. Without the
    response in the domain the client gets a 4xx instead.
    """
    name = POLITE_REPLIES[problem]
    tracker = DialogueStateTracker(sender, agent.domain.slots)
    generated = await agent.nlg.generate(name, tracker, "website") if agent.nlg else None
    if not generated:
        status, code = _PROBLEM_STATUS[problem]
        raise ChannelError(status, code, "The message is empty or too long.")
    collector = collector if collector is not None else CollectingOutputChannel()
    await collector.send_response(sender, dict(generated))
    return collector.messages


async def visitor_turn(
    request: Request,
    checks: Sequence[RequestCheck],
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    input_channel: str,
    collector: CollectingOutputChannel | None = None,
) -> List[Dict[str, Any]]:
    """One visitor message through validation, the checks and the assistant: its replies.

    Both public channels answer with this; they differ in the collector (the website's
    keeps each response whole, with its metadata) and in how they wrap the replies.
    """
    body = parse_json_body(request.body)
    sender = require_sender(body)
    visitor_text = clean_visitor_text(require_string(body, "message"))
    await run_checks(checks, request, sender)
    agent = ready_agent(request)
    if visitor_text.problem:
        return await polite_reply(agent, sender, visitor_text.problem, collector)
    collector = collector if collector is not None else CollectingOutputChannel()
    await on_new_message(
        UserMessage(
            visitor_text.text,
            collector,
            sender,
            input_channel=input_channel,
            metadata=message_metadata(visitor_text),
        )
    )
    return collector.messages


def json_errors(handler: Handler) -> Handler:
    """Turn refusals into their 4xx and any failure into a JSON 5xx, never a stack trace."""

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except ChannelError as refused:
            return refused.to_response()
        except asyncio.CancelledError:
            raise
        except _UNAVAILABLE as error:
            # The type only: messages of database errors can quote the visitor's text.
            logger.error("Chat request failed, store unavailable: %s", type(error).__name__)
            logger.debug("Store failure", exc_info=True)
            return error_response(503, "unavailable", "The assistant is unavailable. Try again.")
        except Exception as error:  # noqa: BLE001 - the client must get JSON, not a trace
            logger.error("Chat request failed: %s", type(error).__name__)
            logger.debug("Chat request failure", exc_info=True)
            return error_response(500, "internal", "Something went wrong. Try again.")

    return wrapped
