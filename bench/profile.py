"""Where the time goes: py-spy on the Rasa server under load, pyinstrument on its start.

    python -m bench.profile load    [--model M] [--seconds 30] [--concurrency 8]
    python -m bench.profile startup [--model M]
    python -m bench.profile train

Writes var/bench/profile-*.txt (summaries) and the raw py-spy/pyinstrument output next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

from bench.load import first_answer, load_questions, run_level
from bench.ours import OurAssistant
from practice.launcher import model_path, process_environment, train_command
from practice.settings import PROJECT_ROOT, load_settings

OUT = PROJECT_ROOT / "var" / "bench"
VENV_BIN = Path(sys.executable).parent
# Frames that name a stage of one visitor message; inclusive time is reported for each.
STAGES = {
    "handle_message (rasa.core.processor)": "whole turn",
    "parse_message (rasa.core.processor)": "NLU",
    "_run_prediction_loop (rasa.core.processor)": "policies + actions loop",
    "predict_next_with_tracker_if_should (rasa.core.processor)": "policy prediction",
    "_run_action (rasa.core.processor)": "running actions",
    "run (rasa.core.actions.action)": "an action",
    "retrieve (rasa.core.tracker_store)": "tracker load",
    "save (rasa.core.tracker_store)": "tracker save",
    "generate (rasa.core.nlg.response)": "NLG",
    "lock (rasa.core.lock_store)": "conversation lock",
    "request (rasa.utils.endpoints)": "HTTP to action server",
    "_featurize_states (rasa.core.featurizers.single_state_featurizer)": "state featurising",
}


def summarise_collapsed(path: Path, top: int = 25) -> List[str]:
    """Self and inclusive time per function from py-spy's collapsed-stack output."""
    self_time: Dict[str, int] = collections.Counter()
    inclusive: Dict[str, int] = collections.Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";")]
        if frames:
            self_time[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return ["(no samples)"]
    lines = [f"samples: {total}", "", "stages (inclusive share of samples):"]
    for frame, label in STAGES.items():
        if inclusive.get(frame):
            lines.append(f"  {inclusive[frame] / total:6.1%}  {label:<26} {frame}")
    lines += ["", f"top {top} functions by self time:"]
    for name, count in sorted(self_time.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {count / total:6.1%}  {name}")
    lines += ["", f"top {top} functions by inclusive time:"]
    for name, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {count / total:6.1%}  {name}")
    return lines


def _frame_name(frame: str) -> str:
    """'func (path/to/module.py:12)' -> 'func (dotted.module)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3.10/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    module = where.removesuffix(".py").replace("/", ".")
    return f"{name} ({module})"


def profile_load(model: Path, seconds: float, concurrency: int) -> Path:
    """py-spy the Rasa server while a closed loop at `concurrency` keeps it busy."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    ours = OurAssistant(workdir, only=["actions", "rasa"])
    ours.use_model(model)
    raw = OUT / f"profile-load-c{concurrency}.collapsed"
    try:
        started = ours.start()
        asyncio.run(first_answer(ours.url, started))
        questions = load_questions()
        asyncio.run(run_level(ours.url, concurrency, 60, questions))
        pid = ours.pids()["rasa"]
        spy = subprocess.Popen(
            [
                str(VENV_BIN / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(raw),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        result = asyncio.run(run_level(ours.url, concurrency, 1_000_000, questions, duration_s=seconds))
        spy.wait(timeout=seconds + 60)
    finally:
        ours.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    summary = OUT / f"profile-load-c{concurrency}.txt"
    header = [
        f"py-spy on the Rasa server, {seconds:.0f} s at concurrency {concurrency}: "
        f"{result.throughput:.1f} req/s, p50 {result.p50_ms:.0f} ms, p95 {result.p95_ms:.0f} ms",
        "",
    ]
    summary.write_text("\n".join(header + summarise_collapsed(raw)) + "\n", encoding="utf-8")
    return summary


STARTUP_SCRIPT = """
import asyncio, sys
from rasa.core.agent import load_agent
from rasa.core.utils import AvailableEndpoints
endpoints = AvailableEndpoints.read_endpoints("endpoints.yml")
agent = asyncio.run(load_agent(model_path=sys.argv[1], endpoints=endpoints))
assert agent.is_ready()
"""


def pyinstrument(summary: Path, target: List[str], env: Dict[str, str]) -> None:
    """Run `target` (a script or `-m module` and its arguments) under pyinstrument's text report."""
    subprocess.run(
        [sys.executable, "-m", "pyinstrument", "--renderer", "text", "--outfile", str(summary), *target],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def profile_startup(model: Path) -> Path:
    """pyinstrument on what `rasa run` does before it answers: imports and loading the model."""
    OUT.mkdir(parents=True, exist_ok=True)
    script = OUT / "startup_probe.py"
    script.write_text("import rasa.cli.run, rasa.core.run\n" + STARTUP_SCRIPT, encoding="utf-8")
    summary = OUT / "profile-startup.txt"
    env = process_environment(load_settings(), {"DATABASE_URL": "sqlite:///:memory:"})
    pyinstrument(summary, [str(script), str(model)], env)
    return summary


def profile_train() -> Path:
    """pyinstrument on `rasa train` from an empty cache."""
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-train-"))
    summary = OUT / "profile-train.txt"
    env = process_environment(load_settings(), {"RASA_CACHE_DIRECTORY": str(workdir / "cache")})
    try:
        # `train_command` minus its interpreter: pyinstrument runs the same module.
        pyinstrument(summary, ["-m", *train_command(workdir / "models", "profiled")[2:]], env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return summary


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("what", choices=["load", "startup", "train"])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    model = args.model or model_path(load_settings())
    if args.what == "load":
        print(profile_load(model, args.seconds, args.concurrency))
    elif args.what == "startup":
        print(profile_startup(model))
    else:
        print(profile_train())


if __name__ == "__main__":
    main()
