"""Rate limits: token buckets, the client address behind a proxy, the 429 response."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, List

import pytest

from practice.channels.rate_limit import (
    Rate,
    RateLimited,
    RateLimiter,
    SharedTokenBuckets,
    TokenBuckets,
    client_address,
)
from practice.settings import load_settings


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "text, expected",
    [("10/20", Rate(10, 20.0)), ("5", Rate(5, 1.0)), (" 120/60 ", Rate(120, 60.0)), ("0", None), ("", None)],
)
def test_rates_are_read_as_n_per_m_seconds(text: str, expected: Rate) -> None:
    assert Rate.parse(text) == expected


@pytest.mark.parametrize("text", ["-1/10", "3/0", "x/10", "10/y"])
def test_nonsense_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Rate.parse(text)


@pytest.mark.parametrize("where", ["process", "shared file"])
def test_a_bucket_allows_its_burst_then_refuses_until_it_refills(where: str, tmp_path: Path) -> None:
    clock = FakeClock()
    rate = Rate(3, 6.0)  # 3 at once, then one every 2 s
    if where == "process":
        buckets = TokenBuckets(rate, clock)
    else:
        buckets = SharedTokenBuckets(rate, tmp_path / "state.db", "sender", clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(2.0)
    assert buckets.take("b") == 0.0  # other keys have their own bucket
    clock.now += 2.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_workers_sharing_a_file_share_each_budget(tmp_path: Path) -> None:
    # Two instances on one file, as two Rasa workers of `make run` have them.
    clock = FakeClock()
    first, second = (SharedTokenBuckets(Rate(4, 60.0), tmp_path / "state.db", "sender", clock) for _ in range(2))
    waits = [worker.take("visitor") for worker in (first, second, first, second, first)]
    assert waits[:4] == [0.0] * 4
    assert waits[4] > 0  # the fifth message is over the budget, whichever worker takes it
    other_scope = SharedTokenBuckets(Rate(4, 60.0), tmp_path / "state.db", "client", clock)
    assert other_scope.take("visitor") == 0.0


def test_several_workers_keep_their_rate_limits_in_the_shared_file() -> None:
    limiter = RateLimiter.from_settings(load_settings({"RASA_WORKERS": "2"}))
    assert isinstance(limiter.senders, SharedTokenBuckets)
    single = RateLimiter.from_settings(load_settings({"RASA_WORKERS": "1"}))
    assert isinstance(single.senders, TokenBuckets)


def test_the_number_of_buckets_is_bounded() -> None:
    buckets = TokenBuckets(Rate(1, 60.0), FakeClock(), max_keys=100)
    for index in range(1000):
        buckets.take(f"sender-{index}")
    assert len(buckets) == 100


def request(ip: str, headers: Dict[str, str]) -> SimpleNamespace:
    """The two things `client_address` reads from a Sanic request."""
    return SimpleNamespace(ip=ip, headers={k.lower(): v for k, v in headers.items()})


TRUSTED = RateLimiter(None, None, ["127.0.0.1/32", "10.0.0.0/8"]).trusted_proxies


@pytest.mark.parametrize(
    "ip, headers, expected",
    [
        ("203.0.113.9", {}, "203.0.113.9"),
        # A client far away cannot pick its own address by sending the header.
        ("203.0.113.9", {"X-Real-IP": "198.51.100.1"}, "203.0.113.9"),
        # The proxy on loopback (or in the compose network) says who the client was.
        ("127.0.0.1", {"X-Real-IP": "198.51.100.1"}, "198.51.100.1"),
        ("10.1.2.3", {"X-Forwarded-For": "1.1.1.1, 198.51.100.7"}, "198.51.100.7"),
        ("127.0.0.1", {"X-Real-IP": "not an address"}, "127.0.0.1"),
        ("127.0.0.1", {}, "127.0.0.1"),
    ],
)
def test_the_client_address_trusts_only_the_proxy(ip: str, headers: Dict[str, str], expected: str) -> None:
    assert client_address(request(ip, headers), TRUSTED) == expected  # type: ignore[arg-type]


async def test_a_sender_over_its_limit_gets_a_clear_429() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Rate(2, 10.0), Rate(100, 60.0), ["127.0.0.1/32"], clock)
    sender = "a" * 32
    await limiter(request("203.0.113.9", {}), sender)  # type: ignore[arg-type]
    await limiter(request("203.0.113.9", {}), sender)  # type: ignore[arg-type]
    with pytest.raises(RateLimited) as refused:
        await limiter(request("203.0.113.9", {}), sender)  # type: ignore[arg-type]
    reply = refused.value.to_response()
    assert reply.status == 429
    assert reply.headers["Retry-After"] == "5"
    body = json.loads(reply.body)
    assert body["error"] == "rate_limited" and body["retry_after"] == 5
    assert "conversation" in body["message"]
    # Another visitor from the same address is not affected by this sender's limit.
    await limiter(request("203.0.113.9", {}), "b" * 32)  # type: ignore[arg-type]


def test_one_client_cycling_sender_ids_meets_the_client_limit() -> None:
    limiter = RateLimiter(Rate(5, 10.0), Rate(10, 60.0), [], FakeClock())
    outcomes: List[bool] = []
    for index in range(12):
        try:
            limiter.check_keys(f"sender-{index:020d}", "203.0.113.9")
            outcomes.append(True)
        except RateLimited as refused:
            assert "network" in refused.message
            outcomes.append(False)
    assert outcomes == [True] * 10 + [False] * 2


def test_the_default_limits_come_from_the_settings() -> None:
    limiter = RateLimiter.from_settings(load_settings({}))
    assert limiter.senders is not None and limiter.senders.rate == Rate(20, 30.0)
    assert limiter.clients is not None and limiter.clients.rate == Rate(120, 60.0)
    off = RateLimiter.from_settings(load_settings({"RATE_LIMIT_PER_SENDER": "0", "RATE_LIMIT_PER_CLIENT": "0"}))
    assert off.senders is None and off.clients is None


async def test_this_machine_itself_has_no_client_limit_but_a_proxied_client_has() -> None:
    limiter = RateLimiter(None, Rate(2, 60.0), ["127.0.0.1/32"], FakeClock())
    for index in range(5):  # tests and benchmarks on loopback, not forwarded
        await limiter(request("127.0.0.1", {}), f"{index:032d}")  # type: ignore[arg-type]
    forwarded = request("127.0.0.1", {"X-Real-IP": "198.51.100.1"})
    await limiter(forwarded, "a" * 32)  # type: ignore[arg-type]
    await limiter(forwarded, "b" * 32)  # type: ignore[arg-type]
    with pytest.raises(RateLimited):
        await limiter(forwarded, "c" * 32)  # type: ignore[arg-type]
