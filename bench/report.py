"""Writes docs/BENCHMARKS.md and the latency picture from one benchmark run's results."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Sequence

from bench.targets import Verdict, evaluate, peak_pss

NOTES_START = "<!-- notes:start (kept by `make bench`; edit freely) -->"
NOTES_END = "<!-- notes:end -->"
LABELS = {
    "stock": "stock `rasa init`",
    "floor": "floor (TF-IDF + linear)",
    "ours": "ours, REST channel",
    "ours_widget": "ours, widget channel",
}


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ratio(verdict: Verdict) -> str:
    return "–" if verdict.ratio is None else f"{verdict.ratio:.2f}×"


def level_table(results: Dict[str, Any]) -> List[str]:
    """One row per target and concurrency level."""
    rows = [
        "| target | concurrency | requests | errors | silent | req/s | p50 ms | p95 ms | p99 ms |"
        " PSS MB (total) | server CPU ms/msg | client CPU ms/msg | cores busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in LABELS.items():
        for lvl in results.get(key, {}).get("levels", []):
            rows.append(
                f"| {label} | {lvl['concurrency']} | {lvl['requests']} | {lvl['errors']} | "
                f"{lvl['silent']} | {lvl['throughput']:.1f} | {lvl['p50_ms']:.0f} | "
                f"{lvl['p95_ms']:.0f} | {lvl['p99_ms']:.0f} | "
                f"{lvl['pss_mb'].get('total', 0):.0f} | "
                f"{lvl.get('cpu_ms_per_request', {}).get('total', 0):.1f} | "
                f"{lvl.get('client_cpu_ms_per_request', 0):.1f} | "
                f"{lvl.get('machine_busy', 0):.0%} |"
            )
    return rows


def memory_table(results: Dict[str, Any]) -> List[str]:
    """Peak PSS of every process of every target."""
    rows = ["| target | process | peak PSS MB |", "|---|---|---:|"]
    for key, label in LABELS.items():
        target = results.get(key, {})
        names = sorted({n for lvl in target.get("levels", []) for n in lvl["pss_mb"]} - {"total"})
        for name in [*names, "total"]:
            value = peak_pss(target, name)
            if value is not None:
                rows.append(f"| {label} | {name} | {value:.0f} |")
    return rows


def accuracy_rows(results: Dict[str, Any]) -> List[str]:
    """Accuracy, p50 at concurrency 1 and throughput at 8, for ours and the floor."""
    rows = []
    for key in ("ours", "floor"):
        target = results.get(key, {})
        levels = {lvl["concurrency"]: lvl for lvl in target.get("levels", [])}
        accuracy = target.get("accuracy")
        rows.append(
            f"| {LABELS[key]} | {'–' if accuracy is None else f'{accuracy:.1%}'} | "
            f"{_fmt(levels.get(1, {}).get('p50_ms'))} | "
            f"{_fmt(levels.get(8, {}).get('throughput'))} |"
        )
    return rows


def verdict_table(verdicts: Sequence[Verdict]) -> List[str]:
    """Every target with both measurements, the ratio, the bound and PASS/FAIL."""
    rows = [
        "| target | ours | reference | ratio | bound | result | note |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for v in verdicts:
        rows.append(
            f"| {v.name} | {_fmt(v.ours)} {v.unit} | {_fmt(v.reference)} {v.unit} | {_ratio(v)} | "
            f"{v.bound} | **{v.status}** | {v.note} |"
        )
    return rows


def plot_latency(results: Dict[str, Any], path: Path) -> None:
    """p50 and p95 latency against concurrency for each target, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    colours = {
        "stock": "tab:red",
        "ours": "tab:blue",
        "ours_widget": "tab:cyan",
        "floor": "tab:green",
    }
    for key, label in LABELS.items():
        levels = results.get(key, {}).get("levels", [])
        if not levels:
            continue
        xs = [lvl["concurrency"] for lvl in levels]
        ax.plot(xs, [lvl["p50_ms"] for lvl in levels], "o-", color=colours[key], label=f"{label} p50")
        ax.plot(
            xs,
            [lvl["p95_ms"] for lvl in levels],
            "s--",
            color=colours[key],
            alpha=0.7,
            label=f"{label} p95",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks([1, 8, 32])
    ax.set_xticklabels(["1", "8", "32"])
    ax.set_xlabel("concurrent visitors (closed loop)")
    ax.set_ylabel("latency per message (ms, log scale)")
    ax.set_title("Latency against concurrency, one run, same machine")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def soak_section(soak: Dict[str, Any] | None) -> List[str]:
    """The latest `make soak`, or a line saying it has not run since this benchmark."""
    lines = ["## Soak (`make soak`)", ""]
    if not soak or "pss_growth" not in soak:
        return [*lines, "Not run since memory is counted as PSS: run `make soak`.", ""]
    lines += [
        f"{soak['date']}: {soak['minutes']:g} min at concurrency {soak['concurrency']} on our "
        f"stack, minute by minute. **{'PASS' if soak['holds'] else 'FAIL'}**: errors or silent "
        f"replies {soak['errors']} (bound 0); PSS {soak['first_pss_mb']:.0f} → "
        f"{soak['last_pss_mb']:.0f} MB, growth {soak['pss_growth']:.1%} (bound 5%); p95 of the "
        f"first two minutes {soak['first_p95_ms']:.0f} ms, of the last two "
        f"{soak['last_p95_ms']:.0f} ms, drift {soak['p95_drift']:+.1%} (bound +10%; a fall is no drift). Server "
        f"CPU per message, first two minutes → last two: {soak.get('first_cpu_ms', 0):.1f} → "
        f"{soak.get('last_cpu_ms', 0):.1f} ms (shows whether the server slowed down or the "
        "machine got busier).",
        "",
        "| minute | requests | req/s | p50 ms | p95 ms | errors | PSS MB (total) | server CPU ms/msg | cores busy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index, w in enumerate(soak.get("windows", []), start=1):
        lines.append(
            f"| {index} | {w['requests']} | {w['throughput']:.1f} | {w['p50_ms']:.0f} | "
            f"{w['p95_ms']:.0f} | {w['errors'] + w['silent']} | "
            f"{w['pss_mb'].get('total', 0):.0f} | "
            f"{w.get('cpu_ms_per_request', {}).get('total', 0):.1f} | "
            f"{w.get('machine_busy', 0):.0%} |"
        )
    return [*lines, ""]


def kept_notes(existing: Path) -> str:
    """The hand-written notes section of the current report, or a placeholder."""
    if existing.exists():
        match = re.search(
            re.escape(NOTES_START) + r"(.*?)" + re.escape(NOTES_END),
            existing.read_text(encoding="utf-8"),
            re.DOTALL,
        )
        if match:
            return match.group(1).strip("\n")
    return "## Findings\n\n(none yet)"


def write_report(results: Dict[str, Any], path: Path, picture: Path) -> List[Verdict]:
    """Write the Markdown report and the picture; returns the verdicts."""
    verdicts = evaluate(results)
    plot_latency(results, picture)
    meta = results["meta"]
    machine = meta["machine"]
    stock, ours = results.get("stock", {}), results.get("ours", {})
    lines = [
        "# Benchmarks: our assistant against stock Rasa, side by side",
        "",
        f"Latest full run: {meta['date']}, `{meta['command']}`, {meta['seconds'] / 60:.0f} min. "
        "Regenerated by `make bench`; only the notes section below is hand-written.",
        "",
        "## Machine",
        "",
        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory']} RAM, {machine['os']}, "
        f"Python {machine['python']}, Rasa {meta['rasa']}. Load average when the run began: "
        f"{machine['load_at_start']} (the cores are shared with other work, so single figures "
        "are noisy; the ratios compare targets measured minutes apart in the same run).",
        "",
        "## Targets",
        "",
        *verdict_table(verdicts),
        "",
        f"Held: {sum(v.holds is True for v in verdicts)} of {len(verdicts)}; failed: "
        f"{', '.join(v.name for v in verdicts if v.holds is False) or 'none'}; not measured: "
        f"{', '.join(v.name for v in verdicts if v.holds is None) or 'none'}.",
        "",
        "## Load",
        "",
        f"![latency against concurrency]({picture.name})",
        "",
        *level_table(results),
        "",
        "## Memory (peak during the load levels)",
        "",
        *memory_table(results),
        "",
        "## Training and start",
        "",
        "| | stock `rasa init` | ours |",
        "|---|---:|---:|",
        f"| training from scratch (empty cache) | {_fmt(stock.get('train_seconds'))} s | "
        f"{_fmt(ours.get('train_seconds'))} s |",
        f"| retraining after one new NLU example (cache kept) | – | {_fmt(ours.get('retrain_seconds'))} s |",
        f"| start to first answer | {_fmt(stock.get('start_seconds'))} s | {_fmt(ours.get('start_seconds'))} s |",
        f"| NLU examples | {_fmt(stock.get('nlu_examples'))} | {_fmt(ours.get('nlu_examples'))} |",
        "",
        "## Accuracy next to speed",
        "",
        "Held-out intent accuracy (tests/nlu/holdout.yml, phrasings never trained on; a "
        "fallback counts as wrong) of what was measured above. The speed fixes change no "
        "prediction (tests/unit/test_performance.py); the pipeline candidates themselves are "
        "compared in docs/PIPELINES.md.",
        "",
        "| pipeline | held-out accuracy | p50 ms at c=1 | req/s at c=8 |",
        "|---|---:|---:|---:|",
        *accuracy_rows(results),
        "",
        *soak_section(results.get("soak")),
        "## Method",
        "",
        "- One command (`make bench`) runs every target in turn on loopback, one target's servers "
        "at a time: the stock assistant, the floor, then ours. Nothing is shared between them.",
        "- **Stock**: `rasa init --no-prompt` in a temporary folder (its training is timed, "
        "with an empty Rasa cache), then `rasa run` and `rasa run actions` exactly as the "
        "scaffold sets them up: in-memory tracker store, its own config.yml (DIET, TED, ...), "
        "no thread settings. Only telemetry is off and the servers bind to 127.0.0.1.",
        "- **Floor**: `bench/floor.py` fits word and character TF-IDF + logistic regression on "
        "our `data/` and answers the REST request shape from a bare aiohttp handler: the cost "
        "of classification alone.",
        "- **Ours**: the same `rasa train` the launcher runs (empty cache), then once more after "
        "adding one NLU example to a copy of `data/` (cache kept); then `practice.launcher.Stack` "
        "starts every process `make run` starts, with a fresh SQLite tracker store.",
        f"- **Load** (`bench/load.py`): aiohttp closed loop, concurrency {meta['levels']}, "
        f"{meta['requests']} requests per level after {meta['warmup']} warm-up requests; each "
        "visitor takes a new sender id every ten messages and walks through "
        "`bench/questions.txt` (visitor questions written for the benchmark, not training "
        "examples). Connections are kept alive within a visitor's ten messages and closed "
        "after them, so each new visitor connects afresh, as a new browser does. An error "
        "is a non-200 answer or a failed request; *silent* is a 200 with "
        "no message.",
        "- **Latency** is per message, from sending to the whole reply; throughput is answered "
        "messages per wall-clock second of the level.",
        "- **Memory**: PSS (`Pss` of /proc/<pid>/smaps_rollup) of each server and all its "
        "children, sampled every 0.5 s during load; the peak is reported. PSS splits each "
        "page shared by several processes between them: our Rasa workers are forked after "
        "the model loads and share it, so adding up their RSS would count one copy once per "
        "process. For a single process (stock's server) PSS is its RSS less its share of "
        "shared libraries. Every target is measured the same way.",
        "- **Start to first answer**: from spawning the processes until the REST channel "
        'answers "hello" with a message.',
        "",
        NOTES_START,
        kept_notes(path),
        NOTES_END,
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return verdicts
