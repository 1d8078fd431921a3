"""Concurrency cases, run against one server (test_concurrency.py) and against the
scale-out topology behind nginx (test_scaleout.py): same checks, different targets."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

import aiohttp

from practice.launcher import Stack
from practice.store.lock_store import PracticeLockStore
from tests.reliability.client import new_sender, stored_events, user_texts

QUESTIONS = (
    "what is leaky gut?",
    "what are the symptoms?",
    "what causes leaky gut?",
    "what should I eat?",
    "how do I apply for coaching?",
)


@dataclass
class Target:
    """Where the chat endpoint is and where its conversations are stored."""

    rest_url: str
    database_url: str
    ssl_context: ssl.SSLContext | None = None
    # Where the servers keep conversation locks (a sqlite:/// file or Redis).
    lock_store_url: str | None = None


def target_of(stack: Stack) -> Target:
    """The chat endpoint, database and lock store of a stack started by `start_stack`."""
    env = stack.env  # type: ignore[attr-defined]
    return Target(
        rest_url=f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook",
        database_url=env["DATABASE_URL"],
        lock_store_url=stack.settings.lock_store_url,
    )


def numbered_messages(count: int, tag: str) -> List[str]:
    """`count` distinct, realistic visitor messages."""
    return [f"{QUESTIONS[i % len(QUESTIONS)]} [{tag} {i:02d}]" for i in range(count)]


async def send_all(
    url: str,
    plan: Sequence[Tuple[str, str, float]],
    timeout: float = 120.0,
    context: ssl.SSLContext | None = None,
) -> List[Tuple[int, Any, float]]:
    """Send every (sender, text, delay) at once (each after its delay); in plan order,
    return (status, body, time of the reply since the start)."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True, ssl=context or False)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:

        async def one(sender: str, text: str, delay: float) -> Tuple[int, Any, float]:
            await asyncio.sleep(delay)
            async with session.post(url, json={"sender": sender, "message": text}) as reply:
                body = await reply.json(content_type=None)
                return reply.status, body, time.monotonic() - started

        return await asyncio.gather(*(one(*item) for item in plan))


def turns(events: List[Dict[str, Any]]) -> List[List[Dict[str, Any]]]:
    """The stored events cut into turns: each starts at a visitor message."""
    result: List[List[Dict[str, Any]]] = []
    for event in events:
        if event.get("event") == "user":
            result.append([event])
        elif result:
            result[-1].append(event)
    return result


def assert_whole_turns(events: List[Dict[str, Any]], bot_messages: Dict[str, int]) -> None:
    """Every turn is one visitor message, then exactly the bot messages its reply had,
    then `action_listen`: no turn lost, doubled or interleaved with another."""
    stored = turns(events)
    assert len(stored) == len(bot_messages)
    for turn in stored:
        text = turn[0]["text"]
        assert sum(1 for e in turn if e.get("event") == "user") == 1
        said = sum(1 for e in turn if e.get("event") == "bot")
        assert said == bot_messages[text], f"turn {text!r}: {said} bot events stored"
        assert turn[-1].get("event") == "action" and turn[-1].get("name") == "action_listen"


async def one_sender_burst(target: Target, count: int = 50) -> None:
    """`count` messages of one visitor at the same instant: all answered, each stored
    once as a whole turn, no turn interleaved with another."""
    sender = new_sender()
    texts = numbered_messages(count, "burst")
    replies = await send_all(target.rest_url, [(sender, text, 0.0) for text in texts], context=target.ssl_context)
    refused = [(index, status, body) for index, (status, body, _) in enumerate(replies) if status != 200]
    assert not refused, refused
    assert all(body for _, body, _ in replies), "a message got no reply"

    events = stored_events(target.database_url, sender)
    stored = user_texts(events)
    assert sorted(stored) == sorted(texts)  # none lost, none twice
    answered = {t: len(body) for t, (_, body, _) in zip(texts, replies, strict=True)}
    assert_whole_turns(events, answered)


async def one_sender_in_arrival_order(target: Target, count: int = 30) -> None:
    """Messages that arrive while the visitor's conversation is busy queue up and are
    processed (and stored) in the order they arrived.

    Deterministic, whatever the load: the test holds the conversation's lock itself (a
    ticket in the shared lock store), sends each message only once the server has taken
    a ticket for the one before it (so the arrival order is known, not inferred from
    timing), then lets go: every message was queued, and must come out in ticket order.
    """
    assert target.lock_store_url, "the arrival-order case needs the stack's shared lock store"
    locks = PracticeLockStore(url=target.lock_store_url)
    sender = new_sender()
    texts = numbered_messages(count, "order")
    held = locks.issue_ticket(sender, lock_lifetime=120)
    connector = aiohttp.TCPConnector(limit=0, force_close=True, ssl=target.ssl_context or False)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:

            async def one(text: str) -> Tuple[int, Any]:
                async with session.post(target.rest_url, json={"sender": sender, "message": text}) as reply:
                    return reply.status, await reply.json(content_type=None)

            pending = []
            for index, text in enumerate(texts):
                pending.append(asyncio.ensure_future(one(text)))
                await _until_queued(locks, sender, index + 2, pending)
            locks.finish_serving(sender, held)
            held = None
            replies = await asyncio.gather(*pending)
    finally:
        if held is not None:
            locks.finish_serving(sender, held)
    assert [status for status, _ in replies] == [200] * count, replies
    events = stored_events(target.database_url, sender)
    stored = user_texts(events)
    assert stored == texts, [texts.index(t) if t in texts else t for t in stored]
    answered = {t: len(body) for t, (_, body) in zip(texts, replies, strict=True)}
    assert_whole_turns(events, answered)


async def _until_queued(
    locks: PracticeLockStore, sender: str, tickets: int, pending: Sequence["asyncio.Future[Any]"], timeout: float = 30.0
) -> None:
    """Wait until the conversation's lock holds `tickets` tickets (the message just sent
    has been taken in by a server process)."""
    deadline = time.monotonic() + timeout
    while True:
        lock = locks.get_lock(sender)
        if lock is not None and len(lock.tickets) >= tickets:
            return
        failed = [f for f in pending if f.done()]
        assert not failed, f"a queued message was answered early: {failed[0].exception() or failed[0].result()}"
        assert time.monotonic() < deadline, f"no ticket {tickets} after {timeout} s"
        await asyncio.sleep(0.005)


async def many_senders_independent(
    target: Target, senders: int = 10, per_sender: int = 4, busy_messages: int = 30
) -> None:
    """Visitors in parallel: each conversation holds exactly its own messages, in order,
    and a visitor does not wait for another visitor's queue."""
    busy = new_sender()
    queue = [(busy, text, 0.0) for text in numbered_messages(busy_messages, "busy")]
    others = {new_sender(): numbered_messages(per_sender, f"v{n}") for n in range(senders)}
    plan = list(queue)
    for sender, texts in others.items():
        # Each visitor waits for nothing but types fast: a message every 250 ms. With
        # several server processes a message arrives when a process reads it, and a
        # process in the middle of the busy visitor's turns can read one later than
        # another process reads the next; 250 ms is beyond that and faster than anyone
        # types (the widget sends a visitor's messages one at a time anyway).
        plan.extend((sender, text, 0.1 + index * 0.25) for index, text in enumerate(texts))
    replies = await send_all(target.rest_url, plan, context=target.ssl_context)
    assert all(status == 200 for status, _, _ in replies), [s for s, _, _ in replies]

    busy_done = max(at for _, _, at in replies[: len(queue)])
    first_of_others = [replies[len(queue) + n * per_sender][2] for n in range(senders)]
    # The busy visitor's queue does not hold everyone else up until it is done: others are
    # answered in between. (How fairly CPU-bound turns share one process varies with load;
    # that no conversation waits for another's lock is tested in test_stores.py.)
    assert min(first_of_others) < busy_done, (first_of_others, busy_done)

    for index, (sender, texts) in enumerate(others.items()):
        events = stored_events(target.database_url, sender)
        stored = user_texts(events)
        assert stored == texts, [texts.index(t) if t in texts else t for t in stored]
        offset = len(queue) + index * per_sender
        assert_whole_turns(events, {t: len(replies[offset + i][1]) for i, t in enumerate(texts)})
