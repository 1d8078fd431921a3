"""Per-sender and per-client rate limits for the public channels: a clear 429, never a hang.

Token buckets, one per sender id and one per client address: a bucket holds up to N
requests and refills at N per M seconds (`RATE_LIMIT_PER_SENDER`, `RATE_LIMIT_PER_CLIENT`,
written "N/M"; "0" turns a limit off). A visitor typing normally never meets them; a
script hammering one conversation, or one address cycling through sender ids, does.

Buckets live in the server process, or, when the Rasa workers of one host share a SQLite
file (`make run` with RASA_WORKERS above one: practice/rasa_runtime/workers.py), in that file, so a
visitor's budget is the same whichever worker answers. Behind nginx with several Rasa
hosts or containers a sender's budget is per process; the per-client limit at the edge
is nginx's `limit_req` (deploy/nginx.conf), which sees every request.

A request from loopback that no trusted proxy forwarded comes from this machine itself
(tests, the benchmark, a health check): it has no client address to limit, only its
sender's. Behind the proxy every request names its client (X-Real-IP).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence, Tuple

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from practice.channels.validation import ChannelError
from practice.settings import Settings, get_settings
from practice.store.shared_file import SharedSQLite, shared_file_of

Clock = Callable[[], float]
# Enough for every visitor of a busy day; beyond it the least recently seen are forgotten.
MAX_TRACKED_KEYS = 100_000


@dataclass(frozen=True)
class Rate:
    """N requests per M seconds: a burst of N, refilled evenly over M seconds."""

    requests: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """Read "N/M" (N requests per M seconds); "0" or "" means no limit."""
        text = text.strip()
        if text in ("", "0"):
            return None
        requests, _, seconds = text.partition("/")
        rate = cls(int(requests), float(seconds or "1"))
        if rate.requests < 1 or rate.seconds <= 0:
            raise ValueError(f"A rate limit is 'N/M' with N >= 1 and M > 0, not {text!r}")
        return rate

    @property
    def per_second(self) -> float:
        """Refill speed in requests per second."""
        return self.requests / self.seconds


def spend(rate: Rate, tokens: float, last: float, now: float) -> Tuple[float, float]:
    """Refill a bucket last seen at `last` up to `now`, then spend one token.

    Returns (tokens left, wait): wait is 0.0 when the token was there, else the seconds
    until one is back (and nothing is spent).
    """
    tokens = min(float(rate.requests), tokens + max(0.0, now - last) * rate.per_second)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate.per_second


class TokenBuckets:
    """One token bucket per key, bounded in number."""

    def __init__(self, rate: Rate, clock: Clock = time.monotonic, max_keys: int = MAX_TRACKED_KEYS) -> None:
        """Empty: every key starts with a full bucket."""
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, Tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Spend one token of `key`: 0.0 if allowed, else the seconds until one is back."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (float(self.rate.requests), now))
        tokens, wait = spend(self.rate, tokens, last, now)
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        """How many keys are tracked."""
        return len(self._buckets)


class SharedTokenBuckets:
    """Token buckets in a SQLite file that the server processes of one host share.

    Each take is one write transaction. Wall-clock time, since the file outlives a
    restart; buckets idle long enough to be full again are deleted now and then.
    """

    SWEEP_EVERY = 1000

    def __init__(self, rate: Rate, path: Path, scope: str, clock: Clock = time.time) -> None:
        """The `scope` ("sender", "client") buckets of the file at `path`."""
        self.rate = rate
        self.scope = scope
        self.clock = clock
        self.file = SharedSQLite(
            path,
            [
                "CREATE TABLE IF NOT EXISTS rate_buckets (scope TEXT NOT NULL, key TEXT NOT NULL, "
                "tokens REAL NOT NULL, last REAL NOT NULL, PRIMARY KEY (scope, key))"
            ],
        )
        self._takes = 0

    def take(self, key: str) -> float:
        """Spend one token of `key`: 0.0 if allowed, else the seconds until one is back."""
        now = self.clock()
        with self.file.transaction() as db:
            row = db.execute(
                "SELECT tokens, last FROM rate_buckets WHERE scope = ? AND key = ?", (self.scope, key)
            ).fetchone()
            tokens, last = row if row else (float(self.rate.requests), now)
            tokens, wait = spend(self.rate, tokens, last, now)
            db.execute(
                "INSERT OR REPLACE INTO rate_buckets (scope, key, tokens, last) VALUES (?, ?, ?, ?)",
                (self.scope, key, tokens, now),
            )
            self._takes += 1
            if self._takes % self.SWEEP_EVERY == 0:
                db.execute(
                    "DELETE FROM rate_buckets WHERE scope = ? AND last < ?",
                    (self.scope, now - self.rate.seconds),
                )
        return wait


class RateLimited(ChannelError):
    """A 429 with a Retry-After header the widget uses to wait before resending."""

    def __init__(self, retry_after: float, scope: str) -> None:
        """Refuse for about `retry_after` seconds."""
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            429,
            "rate_limited",
            f"Too many messages {scope}. Please wait {self.retry_after} s and try again.",
        )

    def to_response(self) -> HTTPResponse:
        """`{"error": "rate_limited", "message", "retry_after"}` and `Retry-After`."""
        return response.json(
            {"error": self.code, "message": self.message, "retry_after": self.retry_after},
            status=self.status,
            headers={"Retry-After": str(self.retry_after)},
        )


def _networks(cidrs: Iterable[str]) -> Tuple[ipaddress._BaseNetwork, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def client_address(request: Request, trusted_proxies: Sequence[ipaddress._BaseNetwork]) -> str:
    """The client's address: the peer, or what a trusted proxy says the client was."""
    peer = request.ip or ""
    try:
        trusted = any(ipaddress.ip_address(peer) in net for net in trusted_proxies)
    except ValueError:
        trusted = False
    if trusted:
        real_ip = request.headers.get("x-real-ip", "").strip()
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        for candidate in (real_ip, forwarded):
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                continue
    return peer


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class RateLimiter:
    """The request check the channels run after validation (see channels/guard.py)."""

    def __init__(
        self,
        per_sender: Rate | None,
        per_client: Rate | None,
        trusted_proxies: Iterable[str] = (),
        clock: Clock | None = None,
        shared_file: Path | None = None,
    ) -> None:
        """Limits of None are off; with `shared_file` the buckets live in that file."""

        def buckets(rate: Rate | None, scope: str) -> TokenBuckets | SharedTokenBuckets | None:
            if rate is None:
                return None
            if shared_file is not None:
                return SharedTokenBuckets(rate, shared_file, scope, clock or time.time)
            return TokenBuckets(rate, clock or time.monotonic)

        self.senders = buckets(per_sender, "sender")
        self.clients = buckets(per_client, "client")
        self.trusted_proxies = _networks(trusted_proxies)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """The limits configured for this deployment."""
        return cls(
            Rate.parse(settings.rate_limit_per_sender),
            Rate.parse(settings.rate_limit_per_client),
            settings.trusted_proxies,
            shared_file=shared_file_of(settings.lock_store_url),
        )

    def check_keys(self, sender: str, client: str | None) -> None:
        """Spend a token of the client (if any) and of the sender, or raise `RateLimited`."""
        if self.clients is not None and client is not None:
            wait = self.clients.take(client)
            if wait > 0:
                raise RateLimited(wait, "from your network")
        if self.senders is not None:
            wait = self.senders.take(sender)
            if wait > 0:
                raise RateLimited(wait, "in this conversation")

    async def __call__(self, request: Request, sender: str) -> None:
        """The `RequestCheck` form: refuse with 429 when either bucket is empty."""
        client = client_address(request, self.trusted_proxies)
        self.check_keys(sender, None if _is_loopback(client) else client)


@functools.lru_cache(maxsize=1)
def shared_rate_limiter() -> RateLimiter:
    """The process's one limiter, so both channels spend from the same buckets."""
    return RateLimiter.from_settings(get_settings())
