"""`make soak`: our stack at concurrency 8 for ten minutes; no errors, no growth, no drift.

Minute by minute it records throughput, p95 and the memory (PSS) of every process. It holds when
no request failed or went unanswered, the total PSS of the last minute is at most 5% above
the first minute's, and the p95 of the last two minutes is at most 10% above the first two.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from bench.load import first_answer, load_questions, run_level
from bench.ours import OurAssistant
from practice.launcher import model_path
from practice.settings import PROJECT_ROOT, load_settings

CONCURRENCY = 8
WINDOW_S = 60.0
MAX_PSS_GROWTH = 0.05
MAX_P95_DRIFT = 0.10
# Enough requests that a window always ends on time rather than on count.
REQUESTS_PER_WINDOW = 1_000_000


def _p95_of(windows: List[Dict[str, Any]]) -> float:
    """A request-weighted p95 of several windows (the mean of their p95s, weighted)."""
    total = sum(w["requests"] for w in windows) or 1
    return sum(w["p95_ms"] * w["requests"] for w in windows) / total


def _cpu_of(windows: List[Dict[str, Any]]) -> float:
    """Request-weighted server CPU ms per message of several windows."""
    total = sum(w["requests"] for w in windows) or 1
    return sum(w.get("cpu_ms_per_request", {}).get("total", 0.0) * w["requests"] for w in windows) / total


def verdict(windows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Errors, memory (PSS) growth and p95 drift of a soak, and whether each bound holds."""
    errors = sum(w["errors"] + w["silent"] for w in windows)
    edge = max(1, min(2, len(windows) // 2))
    first_p95, last_p95 = _p95_of(windows[:edge]), _p95_of(windows[-edge:])
    first_pss = windows[0]["pss_mb"].get("total", 0.0)
    last_pss = windows[-1]["pss_mb"].get("total", 0.0)
    growth = (last_pss - first_pss) / first_pss if first_pss else 0.0
    # Drift is how much p95 rose; a p95 that fell (a busier machine at the start) is no drift.
    drift = (last_p95 - first_p95) / first_p95 if first_p95 else 0.0
    # Not a bound: whether the server itself got slower, or the machine got busier.
    first_cpu, last_cpu = _cpu_of(windows[:edge]), _cpu_of(windows[-edge:])
    return {
        "errors": errors,
        "pss_growth": round(growth, 4),
        "p95_drift": round(drift, 4),
        "first_p95_ms": round(first_p95, 1),
        "last_p95_ms": round(last_p95, 1),
        "first_pss_mb": first_pss,
        "last_pss_mb": last_pss,
        "first_cpu_ms": round(first_cpu, 2),
        "last_cpu_ms": round(last_cpu, 2),
        "holds": errors == 0 and growth <= MAX_PSS_GROWTH and drift <= MAX_P95_DRIFT,
    }


def record(outcome: Dict[str, Any], windows: List[Dict[str, Any]]) -> None:
    """Keep the soak with the latest full run's results and re-render docs/BENCHMARKS.md."""
    from bench.report import write_report

    docs = PROJECT_ROOT / "docs"
    results_file = docs / "benchmarks-results.json"
    if not results_file.exists():
        print("No full benchmark run yet (make bench): the soak is in var/bench/soak.json.")
        return
    results = json.loads(results_file.read_text(encoding="utf-8"))
    results["soak"] = {**outcome, "windows": windows}
    results_file.write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_report(results, docs / "BENCHMARKS.md", docs / "benchmarks-latency.png")


def soak(minutes: float, model: Path | None = None) -> int:
    """Run the soak against a fresh stack; returns 0 when it holds."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    model = model or model_path(load_settings())
    if not model.exists():
        print(f"No model at {model}: run `make train` first (or pass --model).")
        return 2
    ours = OurAssistant(workdir)
    ours.use_model(model)
    windows: List[Dict[str, Any]] = []
    try:
        started = ours.start()
        asyncio.run(first_answer(ours.url, started))
        questions = load_questions()
        asyncio.run(run_level(ours.url, CONCURRENCY, 100, questions))  # warm-up
        deadline = time.perf_counter() + minutes * 60
        while time.perf_counter() < deadline - 1:
            window = min(WINDOW_S, deadline - time.perf_counter())
            result = asyncio.run(
                run_level(
                    ours.url,
                    CONCURRENCY,
                    REQUESTS_PER_WINDOW,
                    questions,
                    sample_memory=ours.memory,
                    sample_cpu=ours.cpu,
                    duration_s=window,
                )
            )
            windows.append(result.as_dict())
            print(
                f"[soak] minute {len(windows)}: {result.throughput:.1f} req/s, p95 "
                f"{result.p95_ms:.0f} ms, errors {result.errors}, silent {result.silent}, "
                f"PSS {result.pss_mb.get('total', 0):.0f} MB, server CPU/msg "
                f"{result.cpu_ms_per_request.get('total', 0):.1f} ms, cores busy "
                f"{result.machine_busy:.0%}",
                flush=True,
            )
    finally:
        ours.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    outcome = verdict(windows)
    outcome.update(
        date=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        minutes=minutes,
        concurrency=CONCURRENCY,
    )
    out = PROJECT_ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps({"windows": windows, **outcome}, indent=2))
    record(outcome, windows)
    print(
        f"{'PASS' if outcome['holds'] else 'FAIL'}  soak {minutes:g} min at concurrency "
        f"{CONCURRENCY}: errors {outcome['errors']}, PSS growth {outcome['pss_growth']:.1%} "
        f"(≤ {MAX_PSS_GROWTH:.0%}), p95 drift {outcome['p95_drift']:.1%} (≤ {MAX_P95_DRIFT:.0%})"
    )
    return 0 if outcome["holds"] else 1
