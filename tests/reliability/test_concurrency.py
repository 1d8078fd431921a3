"""Concurrency on the default stack: one Rasa process, SQLite, in-memory conversation locks.

The same cases run behind nginx with two Rasa processes, Redis locks and PostgreSQL in
test_scaleout.py (`make test-scaleout`).
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


async def test_one_visitor_is_served_in_arrival_order(target: Target) -> None:
    # Straight to one Rasa process on loopback: a turn takes ~8 ms, so send every 5 ms.
    await one_sender_in_arrival_order(target, 50, gap_seconds=0.005)


async def test_visitors_in_parallel_stay_independent(target: Target) -> None:
    await many_senders_independent(target)
