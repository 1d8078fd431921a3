"""The retrain report: `report.md` for people, `report.json` for tools, next to the PNGs."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List

from practice.retrain.results import RunResult


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _prediction(value: Dict[str, Any] | None) -> str:
    if not value:
        return "-"
    return f"{value['intent']} ({value['confidence']:.2f})"


def write_report(run_dir: Path, result: RunResult, evaluation: Dict[str, Any] | None) -> Path:
    """Write report.md and report.json for a run; returns the Markdown file."""
    evaluation = evaluation or {}
    if result.promoted:
        decision = "PROMOTED"
    elif result.passed:
        decision = "PASSED, NOT PROMOTED"
    else:
        decision = "REFUSED"
    lines: List[str] = [f"# Retrain run {result.run_id}: {decision}", ""]
    if result.reasons:
        lines += ["Why not promoted:", ""] + [f"- {_cell(r)}" for r in result.reasons] + [""]

    lines += ["## Checks", "", "| check | result | detail |", "|---|---|---|"]
    lines += [f"| {c.name} | {'pass' if c.passed else 'FAIL'} | {_cell(c.detail)} |" for c in result.checks]

    lines += ["", "## New examples", ""]
    if result.placements:
        lines += ["| text | intent | goes to | note |", "|---|---|---|---|"]
        lines += [f"| {_cell(p.text)} | {p.intent} | {p.where} | {_cell(p.reason)} |" for p in result.placements]
    else:
        lines.append("None: the run retrained on data edited by hand.")

    current, candidate = evaluation.get("current"), evaluation.get("candidate")
    if candidate:
        lines += [
            "",
            "## Held-out NLU set",
            "",
            f"Accuracy: current {_pct(current and current['accuracy'])}, candidate "
            f"{_pct(candidate['accuracy'])} ({candidate['correct']}/{candidate['total']}). "
            f"Macro F1: current {_pct(current and current['macro_f1'])}, candidate "
            f"{_pct(candidate['macro_f1'])}.",
            "",
            "| intent | support | precision | recall | F1 | F1 before |",
            "|---|---|---|---|---|---|",
        ]
        for intent, row in candidate["intents"].items():
            before = (current or {}).get("intents", {}).get(intent)
            lines.append(
                f"| {intent} | {row['support']} | {_pct(row['precision'])} | "
                f"{_pct(row['recall'])} | {_pct(row['f1'])} | {_pct(before and before['f1'])} |"
            )
        lines += [
            "",
            "Confusion matrix of the candidate (expected down, predicted across):",
            "",
            "![candidate](confusion_candidate.png)",
            "",
        ]
        if (run_dir / "confusion_current.png").exists():
            lines += ["Current model: ![current](confusion_current.png)", ""]

    changed = evaluation.get("changed") or []
    lines += ["## Messages whose prediction changed", ""]
    if changed:
        lines += ["| message | expected | current | candidate |", "|---|---|---|---|"]
        for row in changed:
            lines.append(
                f"| {_cell(row['text'])} | {row['expected'] or '-'} | "
                f"{_prediction(row['current'])} | {_prediction(row['candidate'])} |"
            )
    else:
        lines.append("None." if evaluation else "Not measured (the run stopped earlier).")

    markdown = run_dir / "report.md"
    markdown.write_text("\n".join(lines) + "\n", "utf-8")
    payload = {
        "run_id": result.run_id,
        "decision": decision,
        "promoted": result.promoted,
        "reasons": result.reasons,
        "checks": [asdict(c) for c in result.checks],
        "placements": [asdict(p) for p in result.placements],
        **{k: v for k, v in evaluation.items() if k != "checks"},
    }
    (run_dir / "report.json").write_text(json.dumps(payload, indent=2, default=str), "utf-8")
    return markdown
