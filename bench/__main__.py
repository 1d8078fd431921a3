"""`python -m bench`: stock Rasa, the floor and our assistant, measured in one run.

python -m bench                  full run; writes docs/BENCHMARKS.md and the picture
python -m bench --requests 40    a quick run for development (report to var/bench/)
python -m bench soak             10 minutes at concurrency 8 against our stack
python -m bench scale            one vs two Rasa processes on the production topology
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import yaml

from bench.accuracy import HOLDOUT, floor_accuracy, model_accuracy
from bench.floor import nlu_examples
from bench.load import first_answer, load_questions, run_level
from bench.processes import Group, free_port, machine
from bench.report import write_report
from practice.launcher import process_environment
from practice.settings import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
VAR = PROJECT_ROOT / "var" / "bench"
WARMUP_REQUESTS = 30
RESULTS = DOCS / "benchmarks-results.json"


def log(message: str) -> None:
    """Progress on stderr, timestamped."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure_levels(
    url: str,
    levels: Sequence[int],
    requests: int,
    servers: Any,
    warmup: int = WARMUP_REQUESTS,
) -> List[Dict[str, Any]]:
    """Warm up, then run each level; `servers` has memory() and cpu(). Returns dicts."""
    questions = load_questions()
    asyncio.run(run_level(url, 4, warmup, questions))
    out = []
    for concurrency in levels:
        result = asyncio.run(
            run_level(
                url,
                concurrency,
                requests,
                questions,
                sample_memory=servers.memory,
                sample_cpu=servers.cpu,
            )
        )
        log(
            f"  c={concurrency}: {result.throughput:.1f} req/s, p50 {result.p50_ms:.0f} ms, "
            f"p95 {result.p95_ms:.0f} ms, errors {result.errors}, silent {result.silent}, "
            f"PSS {result.pss_mb.get('total', 0):.0f} MB, CPU/msg "
            f"{result.cpu_ms_per_request.get('total', 0):.1f} ms (client "
            f"{result.client_cpu_ms_per_request:.1f}), cores busy {result.machine_busy:.0%}"
        )
        out.append(result.as_dict())
    return out


def bench_stock(workdir: Path, levels: Sequence[int], requests: int) -> Dict[str, Any]:
    """Create, train, serve and measure the stock `rasa init` assistant."""
    from bench.stock import StockAssistant

    stock = StockAssistant(workdir / "stock")
    stock.workdir.mkdir(parents=True)
    log("stock: rasa init --no-prompt (trains) ...")
    stock.create_and_train()
    log(f"stock: trained in {stock.train_seconds:.1f} s; starting rasa run + rasa run actions")
    started = stock.start()
    try:
        stock.start_seconds = asyncio.run(first_answer(stock.url, started, check=stock.group.check_alive))
        log(f"stock: first answer after {stock.start_seconds:.1f} s")
        result = {
            "train_seconds": round(stock.train_seconds, 1),
            "start_seconds": round(stock.start_seconds, 1),
            "nlu_examples": len(nlu_examples(stock.project / "data")),
            "levels": measure_levels(stock.url, levels, requests, stock.group),
        }
    finally:
        stock.stop()
    return result


def bench_floor(workdir: Path, levels: Sequence[int], requests: int) -> Dict[str, Any]:
    """Serve and measure the TF-IDF + linear floor on our data."""
    group = Group(workdir / "floor-logs")
    port = free_port()
    started = time.perf_counter()
    group.start(
        "floor",
        [sys.executable, "-m", "bench.floor", "--port", str(port)],
        PROJECT_ROOT,
        {**_env(), "PYTHONPATH": str(PROJECT_ROOT)},
    )
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    try:
        start_seconds = asyncio.run(first_answer(url, started, check=group.check_alive))
        log(f"floor: first answer after {start_seconds:.1f} s")
        return {
            "start_seconds": round(start_seconds, 1),
            "accuracy": floor_accuracy().get("accuracy"),
            "levels": measure_levels(url, levels, requests, group),
        }
    finally:
        group.stop()


def _env() -> Dict[str, str]:
    import os

    return dict(os.environ)


def widget_url(rasa_url: str) -> str | None:
    """The widget channel's message endpoint, when credentials.yml enables it."""
    credentials = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8"))
    if "practice.channels.website.WebsiteInput" in (credentials or {}):
        return rasa_url.replace("/webhooks/rest/webhook", "/webhooks/website/message")
    return None


def bench_ours(
    workdir: Path,
    levels: Sequence[int],
    requests: int,
    model: Path | None,
    services: Sequence[str] | None = None,
) -> Dict[str, Any]:
    """Train (timed), start as `make run` does, and measure our assistant."""
    from bench.ours import OurAssistant

    ours = OurAssistant(workdir / "ours", only=services)
    ours.workdir.mkdir(parents=True)
    result: Dict[str, Any] = {"nlu_examples": len(nlu_examples(PROJECT_ROOT / "data"))}
    if model is None:
        log("ours: rasa train from scratch, then after one new NLU example ...")
        ours.train_both()
        log(f"ours: trained in {ours.train_seconds:.1f} s, retrained in {ours.retrain_seconds:.1f} s")
        result.update(
            train_seconds=round(ours.train_seconds, 1),
            retrain_seconds=round(ours.retrain_seconds, 1),
        )
    else:
        ours.use_model(model)
    if HOLDOUT.exists():
        log("ours: held-out NLU accuracy ...")
        served = ours.workdir / "models" / "current.tar.gz"
        env = process_environment(ours.settings, ours.env)
        result["accuracy"] = model_accuracy(served, env)["accuracy"]
    started = ours.start()
    try:
        result["start_seconds"] = round(
            asyncio.run(first_answer(ours.url, started, check=lambda: _check_stack(ours))), 1
        )
        log(f"ours: first answer after {result['start_seconds']:.1f} s; services {ours.pids()}")
        result["levels"] = measure_levels(ours.url, levels, requests, ours)
        widget = widget_url(ours.url)
        if widget:
            log(f"ours: widget channel {widget}")
            result["widget_levels"] = measure_levels(widget, levels, requests, ours)
    finally:
        ours.stop()
    return result


def _check_stack(ours) -> None:
    for service in ours.stack.services:
        if service.process is not None and service.process.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with code {service.process.returncode}; "
                f"see {ours.workdir / 'logs' / (service.name + '.log')}"
            )


def run_all(args: argparse.Namespace) -> int:
    """The full comparison; returns 0 when every measured target holds."""
    levels = [int(x) for x in args.levels.split(",")]
    started = time.perf_counter()
    results: Dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "command": "make bench" if args.requests >= 300 else f"python -m bench --requests {args.requests}",
            "levels": ", ".join(map(str, levels)),
            "requests": args.requests,
            "warmup": WARMUP_REQUESTS,
            "machine": machine(),
            "rasa": _rasa_version(),
        }
    }
    workdir = Path(tempfile.mkdtemp(prefix="bench-", dir=args.workdir))
    log(f"working in {workdir}")
    try:
        wanted = set(args.only.split(",")) if args.only else {"stock", "floor", "ours", "scale"}
        if "stock" in wanted:
            results["stock"] = bench_stock(workdir, levels, args.requests)
        if "floor" in wanted:
            results["floor"] = bench_floor(workdir, levels, args.requests)
        if "ours" in wanted:
            results["ours"] = bench_ours(workdir, levels, args.requests, args.model, _csv(args.services))
            if "widget_levels" in results["ours"]:
                results["ours_widget"] = {"levels": results["ours"].pop("widget_levels")}
        if "scale" in wanted:
            from bench.scale import measure_scale

            trained = workdir / "ours" / "models" / "current.tar.gz"
            results["scale"] = measure_scale(workdir, args.requests, trained if trained.exists() else args.model)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["seconds"] = time.perf_counter() - started
    full = args.requests >= 300 and not args.only and args.model is None
    out_dir = DOCS if full else VAR
    out_dir.mkdir(parents=True, exist_ok=True)
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    if full:
        # The data behind docs/BENCHMARKS.md; the latest soak (`make soak`) is kept.
        if RESULTS.exists():
            soak = json.loads(RESULTS.read_text(encoding="utf-8")).get("soak")
            if soak and "pss_growth" in soak:  # a soak from before memory was PSS is stale
                results["soak"] = soak
        RESULTS.write_text(json.dumps(results, indent=2), encoding="utf-8")
    verdicts = write_report(results, out_dir / "BENCHMARKS.md", out_dir / "benchmarks-latency.png")
    for v in verdicts:
        ratio = "–" if v.ratio is None else f"{v.ratio:.2f}×"
        print(f"{v.status:>12}  {v.name}: ratio {ratio} (bound {v.bound})")
    print(f"Report: {out_dir / 'BENCHMARKS.md'}")
    failed = [v.name for v in verdicts if v.holds is False]
    return 1 if failed and args.strict else 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _csv(value: str) -> List[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] or None


def _rasa_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("rasa")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", default="all", choices=["all", "soak", "scale"])
    parser.add_argument("--requests", type=int, default=300, help="requests per level")
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels")
    parser.add_argument("--only", default="", help="comma list of stock,floor,ours,scale")
    parser.add_argument("--model", type=Path, help="serve this model instead of training ours")
    parser.add_argument("--minutes", type=float, default=10.0, help="soak duration")
    parser.add_argument("--services", default="", help="limit our stack to these services")
    parser.add_argument("--workdir", default=None, help="parent of the temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every `finally` stops the servers it started.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.command == "soak":
        from bench.soak import soak

        return soak(args.minutes, args.model)
    if args.command == "scale":
        from bench.scale import measure_scale

        workdir = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.workdir))
        try:
            print(json.dumps(measure_scale(workdir, args.requests), indent=2))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
