"""Concurrency on the default stack: two Rasa workers, SQLite, locks in a shared file.

The same cases run behind nginx with two Rasa processes, Redis locks and PostgreSQL in
test_scaleout.py (`make test-scaleout`).

Arrival order is checked deterministically: the test holds the conversation's lock,
so every message queues, and sends each one only after the server took it in
(concurrency.py). That runs on one worker and on several.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.reliability.concurrency import (
    Target,
    many_senders_independent,
    one_sender_burst,
    one_sender_in_arrival_order,
    target_of,
)


@pytest.fixture(scope="module")
def target(start_stack) -> Iterator[Target]:
    """Rasa and the action server; rate limits off so a burst is not refused."""
    stack = start_stack(only=["actions", "rasa"], RATE_LIMIT_PER_SENDER="0")
    yield target_of(stack)
    stack.stop()


async def test_fifty_simultaneous_messages_of_one_visitor(target: Target) -> None:
    await one_sender_burst(target, 50)


@pytest.fixture(scope="module")
def single_worker(start_stack) -> Iterator[Target]:
    """The same stack with one Rasa worker (its locks in the stack's file all the same)."""
    stack = start_stack(only=["actions", "rasa"], RATE_LIMIT_PER_SENDER="0", RASA_WORKERS="1")
    yield target_of(stack)
    stack.stop()


async def test_one_visitor_is_served_in_arrival_order(single_worker: Target) -> None:
    await one_sender_in_arrival_order(single_worker, 40)


async def test_several_workers_serve_one_visitor_in_arrival_order(target: Target) -> None:
    await one_sender_in_arrival_order(target, 40)


async def test_visitors_in_parallel_stay_independent(target: Target) -> None:
    await many_senders_independent(target)
