"""The performance targets of issue 6, each a ratio against stock Rasa measured in the same run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List


@dataclass(frozen=True)
class Verdict:
    """One target: what was compared, the measured ratio, the bound and whether it holds."""

    name: str
    ours: float | None
    reference: float | None
    unit: str
    bound: str
    ratio: float | None
    holds: bool | None
    note: str = ""

    @property
    def status(self) -> str:
        """PASS, FAIL or NOT MEASURED."""
        if self.holds is None:
            return "NOT MEASURED"
        return "PASS" if self.holds else "FAIL"


def _level(target: Dict[str, Any], concurrency: int) -> Dict[str, Any] | None:
    for level in target.get("levels", []):
        if level["concurrency"] == concurrency:
            return level
    return None


def _ratio(ours: float | None, reference: float | None) -> float | None:
    if ours is None or not reference:
        return None
    return ours / reference


def _nice(value: float | None) -> str:
    """1/3 rather than 0.333333."""
    for denominator in (2, 3, 4, 5):
        if value and abs(value * denominator - 1) < 1e-9:
            return f"1/{denominator}"
    return f"{value:g}"


def _verdict(
    name: str,
    ours: float | None,
    reference: float | None,
    unit: str,
    at_least: float | None = None,
    at_most: float | None = None,
    note: str = "",
) -> Verdict:
    ratio = _ratio(ours, reference)
    bound = f"≥ {_nice(at_least)}×" if at_least is not None else f"≤ {_nice(at_most)}×"
    holds: bool | None = None
    if ratio is not None:
        holds = ratio >= at_least if at_least is not None else ratio <= at_most  # type: ignore[operator]
    return Verdict(name, ours, reference, unit, bound, ratio, holds, note)


def peak_pss(target: Dict[str, Any], process: str) -> float | None:
    """The highest PSS (MB) `process` reached during any level, or None."""
    values = [lvl["pss_mb"].get(process) for lvl in target.get("levels", [])]
    values = [v for v in values if v]
    return max(values) if values else None


def evaluate(results: Dict[str, Any]) -> List[Verdict]:
    """Every target of issue 6 that one benchmark run can decide."""
    stock, ours = results.get("stock", {}), results.get("ours", {})
    verdicts: List[Verdict] = []

    def metric(target: Dict[str, Any], concurrency: int, key: str) -> float | None:
        level = _level(target, concurrency)
        return level[key] if level else None

    verdicts.append(
        _verdict(
            "throughput at concurrency 8",
            metric(ours, 8, "throughput"),
            metric(stock, 8, "throughput"),
            "req/s",
            at_least=5,
        )
    )
    verdicts.append(
        _verdict(
            "p95 latency at concurrency 8",
            metric(ours, 8, "p95_ms"),
            metric(stock, 8, "p95_ms"),
            "ms",
            at_most=1 / 5,
        )
    )
    verdicts.append(
        _verdict(
            "p50 latency at concurrency 1",
            metric(ours, 1, "p50_ms"),
            metric(stock, 1, "p50_ms"),
            "ms",
            at_most=1 / 3,
        )
    )
    verdicts.append(
        _verdict(
            "Rasa server memory, PSS (peak)",
            peak_pss(ours, "rasa"),
            peak_pss(stock, "rasa"),
            "MB",
            at_most=1,
        )
    )
    verdicts.append(
        _verdict(
            "all processes memory, PSS (peak)",
            peak_pss(ours, "total"),
            peak_pss(stock, "total"),
            "MB",
            at_most=1.5,
            note="stock: rasa + action server; ours: every process make run starts",
        )
    )
    verdicts.append(
        _verdict(
            "start to first answer",
            ours.get("start_seconds"),
            stock.get("start_seconds"),
            "s",
            at_most=1 / 2,
        )
    )
    verdicts.append(
        _verdict(
            "training from scratch",
            ours.get("train_seconds"),
            stock.get("train_seconds"),
            "s",
            at_most=1,
            note="stock: `rasa init --no-prompt`, which trains",
        )
    )
    verdicts.append(
        _verdict(
            "retraining after an NLU-only change",
            ours.get("retrain_seconds"),
            ours.get("train_seconds"),
            "s",
            at_most=1 / 2,
            note="reference: our own full training, same cache folder",
        )
    )
    errors = sum(lvl["errors"] + lvl["silent"] for lvl in ours.get("levels", []))
    requests = sum(lvl["requests"] for lvl in ours.get("levels", []))
    verdicts.append(
        Verdict(
            f"errors or silent replies (ours, of {requests} requests)",
            float(errors),
            None,
            "",
            "= 0",
            None,
            errors == 0 if requests else None,
        )
    )
    scale = results.get("scale") or {}
    one, two = scale.get("one_throughput"), scale.get("two_throughput")
    verdicts.append(
        _verdict(
            "scale: 2 Rasa processes vs 1 (PostgreSQL + Redis)",
            two,
            one,
            "req/s",
            at_least=1.5,
            note=scale.get("note", ""),
        )
    )
    return verdicts
