"""The benchmark's arithmetic: percentiles, verdicts against stock, the soak's bounds."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from bench.load import percentile, reply_messages, summarise
from bench.soak import verdict as soak_verdict
from bench.targets import evaluate


@pytest.mark.parametrize(
    "values, share, expected",
    [
        ([], 0.5, 0.0),
        ([7.0], 0.99, 7.0),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5, 5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95, 10),
        (list(range(1, 101)), 0.95, 95),
        (list(range(1, 101)), 0.99, 99),
        (list(reversed(range(1, 101))), 0.5, 50),
    ],
)
def test_percentile_by_nearest_rank(values: List[float], share: float, expected: float) -> None:
    assert percentile(values, share) == expected


def test_summary_counts_errors_apart_from_latencies() -> None:
    result = summarise(8, [0.010, 0.020, 0.030, 0.040], ["HTTP 500: b''"], silent=1, seconds=2.0)
    assert (result.requests, result.errors, result.silent) == (5, 1, 1)
    assert result.throughput == 2.0  # answered messages per second
    assert (result.p50_ms, result.mean_ms) == (20.0, 25.0)


@pytest.mark.parametrize(
    "reply, count",
    [([], 0), ([{"text": "hi"}], 1), ({"messages": []}, 0), ({"messages": [{"text": "a"}]}, 1)],
)
def test_replies_of_both_channels(reply: Any, count: int) -> None:
    assert len(reply_messages(reply)) == count


def level(
    concurrency: int,
    throughput: float,
    p50: float,
    p95: float,
    rss: Dict[str, float],
    errors: int = 0,
) -> Dict[str, Any]:
    """One level's result as the benchmark stores it."""
    return {
        "concurrency": concurrency,
        "throughput": throughput,
        "p50_ms": p50,
        "p95_ms": p95,
        "pss_mb": rss,
        "errors": errors,
        "silent": 0,
        "requests": 300,
    }


def results(ours_throughput: float, ours_p95: float, ours_errors: int = 0) -> Dict[str, Any]:
    stock_pss = {"rasa": 1300.0, "actions": 100.0, "total": 1400.0}
    ours_pss = {"rasa": 800.0, "actions": 40.0, "console": 60.0, "total": 900.0}
    return {
        "stock": {
            "train_seconds": 80.0,
            "start_seconds": 30.0,
            "levels": [level(1, 35, 30.0, 40.0, stock_pss), level(8, 40, 170.0, 350.0, stock_pss)],
        },
        "ours": {
            "train_seconds": 14.0,
            "retrain_seconds": 6.0,
            "start_seconds": 6.0,
            "levels": [
                level(1, 110, 9.0, 12.0, ours_pss),
                level(8, ours_throughput, 60.0, ours_p95, ours_pss, ours_errors),
            ],
        },
        "scale": {"note": "not measured: missing nginx"},
    }


def by_name(verdicts: List[Any]) -> Dict[str, Any]:
    return {v.name.split(" (")[0]: v for v in verdicts}


def test_every_target_is_a_ratio_against_stock_with_its_bound() -> None:
    verdicts = by_name(evaluate(results(ours_throughput=200.0, ours_p95=70.0)))
    assert verdicts["throughput at concurrency 8"].ratio == pytest.approx(5.0)
    assert verdicts["throughput at concurrency 8"].status == "PASS"
    assert verdicts["p95 latency at concurrency 8"].ratio == pytest.approx(0.2)
    assert verdicts["p95 latency at concurrency 8"].status == "PASS"
    assert verdicts["p50 latency at concurrency 1"].status == "PASS"  # 9/30 <= 1/3
    assert verdicts["Rasa server memory, PSS"].status == "PASS"
    assert verdicts["all processes memory, PSS"].ratio == pytest.approx(900 / 1400)
    assert verdicts["start to first answer"].status == "PASS"
    assert verdicts["training from scratch"].status == "PASS"
    assert verdicts["retraining after an NLU-only change"].ratio == pytest.approx(6 / 14)
    assert verdicts["errors or silent replies"].status == "PASS"
    assert verdicts["scale: 2 Rasa processes vs 1"].status == "NOT MEASURED"


def test_just_short_of_a_bound_fails() -> None:
    verdicts = by_name(evaluate(results(ours_throughput=199.0, ours_p95=71.0, ours_errors=1)))
    assert verdicts["throughput at concurrency 8"].status == "FAIL"
    assert verdicts["p95 latency at concurrency 8"].status == "FAIL"
    assert verdicts["errors or silent replies"].status == "FAIL"


def window(p95: float, rss: float, errors: int = 0) -> Dict[str, Any]:
    return {
        "requests": 6000,
        "p95_ms": p95,
        "errors": errors,
        "silent": 0,
        "pss_mb": {"total": rss},
        "cpu_ms_per_request": {"total": 8.0},
    }


@pytest.mark.parametrize(
    "windows, holds",
    [
        ([window(100, 900)] * 10, True),
        ([window(100, 900)] * 9 + [window(100, 946)], False),  # PSS grew 5.1%
        ([window(100, 900)] * 9 + [window(100, 944)], True),  # 4.9%
        ([window(100, 900)] * 8 + [window(125, 900)] * 2, False),  # p95 drifted 25%
        ([window(100, 900)] * 8 + [window(109, 900)] * 2, True),
        ([window(140, 900)] * 2 + [window(80, 900)] * 8, True),  # p95 fell: no drift
        ([window(100, 900)] * 5 + [window(100, 900, errors=1)] + [window(100, 900)] * 4, False),
    ],
)
def test_soak_bounds(windows: List[Dict[str, Any]], holds: bool) -> None:
    assert soak_verdict(windows)["holds"] is holds
