"""Scale-out: the production topology with one Rasa process, then with two, same load.

Uses practice/topology.py (nginx with TLS, Redis lock store, PostgreSQL tracker store, the
action server, console and website, all on loopback) when it and its Debian packages are
present; otherwise it says what is missing and measures nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

from bench.load import first_answer, load_questions, run_level
from bench.processes import cpu_of, pss_of
from practice.launcher import MODEL_NAME, model_path
from practice.settings import PROJECT_ROOT, load_settings

LEVELS = (8, 32)
# The level whose throughput decides the target: enough visitors to keep two servers busy.
DECIDING_LEVEL = 32


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def missing_parts() -> List[str]:
    """What the topology needs that this checkout or machine lacks."""
    missing = []
    if not (PROJECT_ROOT / "practice" / "topology.py").exists():
        missing.append("practice/topology.py (the topology script)")
    for tool in ("nginx", "redis-server", "openssl"):
        if shutil.which(tool) is None:
            missing.append(f"{tool} (make system-deps)")
    if not (PROJECT_ROOT / "scripts" / "postgres.sh").exists():
        missing.append("scripts/postgres.sh")
    return missing


def _one_topology(directory: Path, processes: int, model: Path, requests: int) -> Dict[str, Any]:
    from practice.topology import Ports, Topology

    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its folder
    model_dir = directory / "models"
    model_dir.mkdir()
    shutil.copy(model, model_dir / f"{MODEL_NAME}.tar.gz")
    topology = Topology(
        directory,
        ports=Ports.free(rasa_processes=processes),
        # One client address stands for many visitors (as in the single-process run).
        extra_env={"RATE_LIMIT_PER_CLIENT": "0", "MODEL_DIR": str(model_dir)},
    )
    started = time.perf_counter()
    try:
        topology.up()
        url = f"{topology.base_url}/webhooks/rest/webhook"
        asyncio.run(first_answer(url, started))

        postmaster = directory / "postgres" / "data" / "postmaster.pid"

        def pids() -> Dict[str, int]:
            found = {n: s.process.pid for n, s in topology.services.items() if s.process}
            if postmaster.exists():  # PostgreSQL runs outside `services`: count it too
                found["postgres"] = int(postmaster.read_text().split()[0])
            return found

        questions = load_questions()
        asyncio.run(run_level(url, 4, 40, questions))
        levels = []
        for concurrency in LEVELS:
            result = asyncio.run(
                run_level(
                    url,
                    concurrency,
                    requests,
                    questions,
                    sample_memory=lambda: pss_of(pids()),
                    sample_cpu=lambda: cpu_of(pids()),
                )
            )
            _log(
                f"  scale, {processes} Rasa: c={concurrency} {result.throughput:.1f} req/s, "
                f"p95 {result.p95_ms:.0f} ms, errors {result.errors}, cores busy "
                f"{result.machine_busy:.0%}, CPU ms/msg "
                + ", ".join(f"{k} {v:.1f}" for k, v in result.cpu_ms_per_request.items() if v >= 0.1)
            )
            levels.append(result.as_dict())
        return {"processes": processes, "levels": levels}
    finally:
        topology.down()


def measure_scale(workdir: Path, requests: int, model: Path | None = None) -> Dict[str, Any]:
    """Throughput of one and of two Rasa processes behind the production edge."""
    missing = missing_parts()
    if missing:
        return {"note": "not measured: missing " + ", ".join(missing)}
    model = model or model_path(load_settings())
    if not model.exists():
        return {"note": f"not measured: no model at {model} (make train)"}
    workdir.chmod(0o755)
    runs = {}
    try:
        for processes in (1, 2):
            _log(f"scale: production topology with {processes} Rasa process(es) ...")
            runs[processes] = _one_topology(workdir / f"topology-{processes}", processes, model, requests)
    except (RuntimeError, OSError, TimeoutError) as error:
        return {"note": f"not measured: the topology failed ({error})"[:300], "runs": runs}

    def throughput(processes: int) -> float:
        level = next(lvl for lvl in runs[processes]["levels"] if lvl["concurrency"] == DECIDING_LEVEL)
        return level["throughput"]

    return {
        "one_throughput": throughput(1),
        "two_throughput": throughput(2),
        "note": f"nginx (TLS) + Redis locks + PostgreSQL, concurrency {DECIDING_LEVEL}",
        "runs": {str(k): v for k, v in runs.items()},
    }
