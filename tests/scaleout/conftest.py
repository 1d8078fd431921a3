"""The production topology on loopback for the scale-out tests (`make test-scaleout`)."""

from __future__ import annotations

import shutil
import ssl
import uuid
from typing import Iterator

import pytest

from practice.settings import PROJECT_ROOT
from practice.topology import Ports, Topology
from tests.conftest import TEST_APPLICATION_URL


@pytest.fixture(scope="session")
def topology() -> Iterator[Topology]:
    """nginx (TLS) → two Rasa servers, Redis locks, PostgreSQL, actions, console, website,
    on free loopback ports; stopped and deleted at the end."""
    # Under var/: PostgreSQL's own user must be able to reach its data directory.
    directory = PROJECT_ROOT / "var" / f"scaleout-{uuid.uuid4().hex[:8]}"
    # The bursts of one visitor would meet the per-sender limit (tested on its own in
    # tests/reliability); nginx's per-client limit stays on.
    started = Topology(
        directory, Ports.free(rasa_processes=2), TEST_APPLICATION_URL, extra_env={"RATE_LIMIT_PER_SENDER": "0"}
    )
    started.up()
    yield started
    started.down()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def tls(topology: Topology) -> ssl.SSLContext:
    """A client context trusting the topology's self-signed certificate."""
    return ssl.create_default_context(cafile=str(topology.certificate))
