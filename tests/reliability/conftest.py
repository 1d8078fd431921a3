"""Fixtures of the reliability tests: one private PostgreSQL cluster for the session."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.reliability.services import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of these tests' own (own directory and port), so stopping it
    for an outage test disturbs no one else's database. Destroyed at the end."""
    server = PostgresServer().start()
    yield server
    server.destroy()
