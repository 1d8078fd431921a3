"""Concurrency on the default stack: two Rasa workers, SQLite, locks in a shared file.

The same cases run behind nginx with two Rasa processes, Redis locks and PostgreSQL in
test_scaleout.py (`make test-scaleout`).

Arrival order: a message arrives when a server process reads it. One process reads its
socket in order, so messages sent 5 ms apart (faster than a turn) queue up and are
processed in sending order; that is checked on a single worker. With several workers, a
worker in the middle of a turn reads later than an idle one, so messages sent closer
together than about a turn count as simultaneous: processed one at a time, none lost,
in the order the workers took them in. Messages further apart keep their order.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.reliability.concurrency import (
    Target,
    many_senders_independent,
    one_sender_burst,
    one_sender_in_arrival_order,
)


@pytest.fixture(scope="module")
def target(start_stack) -> Iterator[Target]:
    """Rasa and the action server; rate limits off so a burst is not refused."""
    stack = start_stack(only=["actions", "rasa"], RATE_LIMIT_PER_SENDER="0")
    yield Target(
        rest_url=f"http://127.0.0.1:{stack.env['RASA_PORT']}/webhooks/rest/webhook",
        database_url=stack.env["DATABASE_URL"],
    )
    stack.stop()


async def test_fifty_simultaneous_messages_of_one_visitor(target: Target) -> None:
    await one_sender_burst(target, 50)


@pytest.fixture(scope="module")
def single_worker(start_stack) -> Iterator[Target]:
    """The same stack with one Rasa worker."""
    stack = start_stack(only=["actions", "rasa"], RATE_LIMIT_PER_SENDER="0", RASA_WORKERS="1")
    yield Target(
        rest_url=f"http://127.0.0.1:{stack.env['RASA_PORT']}/webhooks/rest/webhook",
        database_url=stack.env["DATABASE_URL"],
    )
    stack.stop()


async def test_one_visitor_is_served_in_arrival_order(single_worker: Target) -> None:
    # Straight to one Rasa process on loopback: a turn takes ~8 ms, so send every 5 ms.
    await one_sender_in_arrival_order(single_worker, 50, gap_seconds=0.005)


async def test_several_workers_keep_the_order_of_messages_a_turn_apart(target: Target) -> None:
    await one_sender_in_arrival_order(target, 30, gap_seconds=0.05, expect_queue=False)


async def test_visitors_in_parallel_stay_independent(target: Target) -> None:
    await many_senders_independent(target)
