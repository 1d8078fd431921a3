"""A closed-loop load client: N visitors, each sending its next message once answered."""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence

import aiohttp

QUESTIONS_FILE = Path(__file__).with_name("questions.txt")
# A visitor's conversation is about ten messages long; then a new visitor arrives.
MESSAGES_PER_SENDER = 10
REQUEST_TIMEOUT_S = 30.0


def load_questions(path: Path = QUESTIONS_FILE) -> List[str]:
    """The visitor messages, comments and blank lines skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of all cores since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return (0, 0)
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle, sum(fields[:8]))


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` percentile (0..1) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(share * len(ordered) - 1e-9)))
    return ordered[rank - 1]


def reply_messages(reply: Any) -> List[Any]:
    """The bot messages of a reply: the REST channel's list or the widget's {"messages"}."""
    if isinstance(reply, dict):
        return list(reply.get("messages") or [])
    return list(reply or [])


@dataclass
class LevelResult:
    """What one concurrency level measured."""

    concurrency: int
    requests: int
    errors: int
    silent: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    pss_mb: Dict[str, float] = field(default_factory=dict)
    # Server CPU time per answered message (ms), per process: robust to a busy machine.
    cpu_ms_per_request: Dict[str, float] = field(default_factory=dict)
    # The load client's own CPU per message, and how busy all cores were (0..1).
    client_cpu_ms_per_request: float = 0.0
    machine_busy: float = 0.0
    error_samples: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, object]:
        """A JSON-friendly copy."""
        return asdict(self)


def summarise(concurrency: int, latencies: List[float], errors: List[str], silent: int, seconds: float) -> LevelResult:
    """Turn raw per-request timings into a `LevelResult` (latencies in seconds)."""
    ms = [x * 1000 for x in latencies]
    done = len(latencies)
    return LevelResult(
        concurrency=concurrency,
        requests=done + len(errors),
        errors=len(errors),
        silent=silent,
        seconds=round(seconds, 3),
        throughput=round(done / seconds, 2) if seconds else 0.0,
        p50_ms=round(percentile(ms, 0.50), 1),
        p95_ms=round(percentile(ms, 0.95), 1),
        p99_ms=round(percentile(ms, 0.99), 1),
        mean_ms=round(statistics.fmean(ms), 1) if ms else 0.0,
        error_samples=sorted(set(errors))[:5],
    )


async def _visitor(
    session: aiohttp.ClientSession,
    url: str,
    questions: Sequence[str],
    worker: int,
    run_id: str,
    next_index: Callable[[], int | None],
    latencies: List[float],
    errors: List[str],
    silent: List[int],
) -> None:
    sent = 0
    while next_index() is not None:
        sender = f"bench-{run_id}-w{worker:03d}-s{sent // MESSAGES_PER_SENDER:05d}"
        text = questions[(worker * 7 + sent) % len(questions)]
        sent += 1
        # A visitor is a browser with a connection of its own: after its last message the
        # connection closes, and the next visitor connects afresh (to whichever server
        # process accepts it first), as real visitors do.
        last_of_visitor = sent % MESSAGES_PER_SENDER == 0
        headers = {"Connection": "close"} if last_of_visitor else None
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}, headers=headers) as response:
                body = await response.read()
                elapsed = time.perf_counter() - started
                if response.status != 200:
                    errors.append(f"HTTP {response.status}: {body[:80]!r}")
                    continue
                latencies.append(elapsed)
                if not reply_messages(json.loads(body or b"[]")):
                    silent[0] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:120])


async def run_level(
    url: str,
    concurrency: int,
    total: int,
    questions: Sequence[str] | None = None,
    sample_memory: Callable[[], Dict[str, float]] | None = None,
    duration_s: float | None = None,
    sample_cpu: Callable[[], Dict[str, float]] | None = None,
) -> LevelResult:
    """Send `total` messages with `concurrency` visitors in a closed loop; measure each.

    With `duration_s`, visitors also stop starting new messages once that much time passed.
    """
    questions = list(questions or load_questions())
    counter = iter(range(total))
    stop_at = time.perf_counter() + duration_s if duration_s else float("inf")
    latencies: List[float] = []
    errors: List[str] = []
    silent = [0]
    peak: Dict[str, float] = {}
    run_id = uuid.uuid4().hex[:8]

    def next_index() -> int | None:
        return next(counter, None) if time.perf_counter() < stop_at else None

    async def sampler() -> None:
        while True:
            for name, value in (sample_memory() if sample_memory else {}).items():
                peak[name] = max(peak.get(name, 0.0), value)
            await asyncio.sleep(0.5)

    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    # The loopback topology's nginx presents a self-signed certificate: no verification.
    connector = aiohttp.TCPConnector(
        limit=concurrency, force_close=False, ssl=False if url.startswith("https") else None
    )
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        sampling = asyncio.create_task(sampler())
        cpu_before = sample_cpu() if sample_cpu else {}
        client_before, machine_before = time.process_time(), machine_ticks()
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _visitor(session, url, questions, worker, run_id, next_index, latencies, errors, silent)
                for worker in range(concurrency)
            )
        )
        seconds = time.perf_counter() - started
        cpu_after = sample_cpu() if sample_cpu else {}
        client_after, machine_after = time.process_time(), machine_ticks()
        sampling.cancel()
    if sample_memory:
        for name, value in sample_memory().items():
            peak[name] = max(peak.get(name, 0.0), value)
    result = summarise(concurrency, latencies, errors, silent[0], seconds)
    result.pss_mb = {name: round(value, 1) for name, value in peak.items()}
    if latencies:
        result.client_cpu_ms_per_request = round((client_after - client_before) * 1000 / len(latencies), 2)
        busy = machine_after[0] - machine_before[0]
        total = machine_after[1] - machine_before[1]
        result.machine_busy = round(busy / total, 3) if total else 0.0
        result.cpu_ms_per_request = {
            name: round((cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / len(latencies), 2) for name in cpu_after
        }
    return result


async def first_answer(
    url: str,
    since: float,
    deadline_s: float = 300.0,
    poll_s: float = 0.2,
    check: Callable[[], None] | None = None,
) -> float:
    """Seconds from `since` (a perf_counter) until `url` answers a greeting.

    Raises on timeout, or whatever `check` raises (for example: a server exited).
    """
    started = since
    timeout = aiohttp.ClientTimeout(total=5)
    connector = aiohttp.TCPConnector(ssl=False if url.startswith("https") else None)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        while time.perf_counter() - started < deadline_s:
            if check is not None:
                check()
            try:
                payload = {"sender": f"first-{uuid.uuid4().hex}", "message": "hello"}
                async with session.post(url, json=payload) as response:
                    body = await response.read()
                    if response.status == 200 and reply_messages(json.loads(body or b"[]")):
                        return time.perf_counter() - started
                    if 400 <= response.status < 500 and response.status not in (404, 429):
                        raise RuntimeError(f"{url} refused the greeting: {body[:200]!r}")
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, OSError):
                pass
            await asyncio.sleep(poll_s)
    raise TimeoutError(f"no answer from {url} within {deadline_s:.0f} s")
