"""Hot reload: the running Rasa server loads a promoted model without a restart.

Promotion replaces `models/current.tar.gz` with one `os.replace`. Inside `rasa run`, a job
on Rasa's own scheduler checks that file every `MODEL_RELOAD_SECONDS`; when it is a new
file, the model loads in a worker thread while the old one keeps answering, then the agent
switches to it. Conversations live in the SQL tracker store and the lock store belongs to
the agent, so no conversation is dropped or reset; a file that fails to load is logged and
the old model keeps serving.

Why not Rasa's HTTP API (`PUT /model`) or a model server: the API shares the channel's
public port (so "loopback only" cannot hold without a proxy rule) and model loading through
it is the CVE-2024-49375 path; a model server is one more process, port and token. Watching
a file opens nothing at all. Each server process writes `models/serving/<host>-<pid>.json`
when it loads a model, so `make retrain` can say which processes picked it up.

`install(settings)` is called by practice/rasa_runtime/__init__.py before Rasa starts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

from practice.settings import Settings

logger = logging.getLogger(__name__)

JOB_ID = "practice-model-reload"
SERVING_DIR = "serving"
# A file younger than this may still be written by someone not using os.replace.
SETTLE_SECONDS = 1.0

Stamp = Tuple[int, int, int]


def file_stamp(path: Path) -> Stamp | None:
    """(inode, mtime ns, size) of the file, or None when it is missing."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def status_file(model_path: Path) -> Path:
    """Where this process reports the model it serves."""
    return model_path.parent / SERVING_DIR / f"{socket.gethostname()}-{os.getpid()}.json"


def _report(model_path: Path, sha: str) -> None:
    target = status_file(model_path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.new")
        temporary.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "model": str(model_path),
                    "sha256": sha,
                    "loaded_at": time.time(),
                }
            ),
            "utf-8",
        )
        os.replace(temporary, target)
    except OSError:
        logger.warning("Could not write the serving status file %s", target)


@dataclass
class Watch:
    """What the watcher last saw and loaded."""

    path: Path
    stamp: Stamp | None
    sha: str | None


async def check(agent: Any, watch: Watch) -> bool:
    """Load the model file if it changed since the last check; True when a new model loaded."""
    stamp = file_stamp(watch.path)
    if stamp is None or stamp == watch.stamp:
        return False
    if time.time() - stamp[1] / 1e9 < SETTLE_SECONDS:
        return False  # still being written, perhaps: look again next time
    watch.stamp = stamp
    sha = await asyncio.get_running_loop().run_in_executor(None, sha256_file, watch.path)
    if sha == watch.sha:
        return False
    started = time.monotonic()
    try:
        # The heavy part in a thread: the old model answers meanwhile.
        await asyncio.get_running_loop().run_in_executor(None, agent.load_model, str(watch.path), sha)
    except Exception:  # noqa: BLE001 - any failure keeps the old model serving
        logger.exception("Could not load the new model %s; the previous model keeps serving.", watch.path)
        return False
    watch.sha = sha
    logger.info(
        "Loaded the new model %s (sha256 %s) in %.1f s without a restart.",
        watch.path,
        sha[:12],
        time.monotonic() - started,
    )
    _report(watch.path, sha)
    return True


async def start_watching(agent: Any, model_path: Path, seconds: float, stamp: Stamp | None) -> Watch:
    """Schedule `check` every `seconds` on Rasa's scheduler for this agent."""
    from rasa.core import jobs

    # Log reloads at the level the server logs Rasa's own messages at.
    logger.setLevel(logging.getLogger("rasa").getEffectiveLevel())
    sha = sha256_file(model_path) if model_path.is_file() else None
    watch = Watch(model_path, stamp, sha)
    if sha:
        _report(model_path, sha)
    (await jobs.scheduler()).add_job(
        check,
        "interval",
        seconds=seconds,
        args=[agent, watch],
        id=JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
    return watch


def install(settings: Settings) -> None:
    """Make `rasa run --model FILE` reload FILE when it is replaced (idempotent)."""
    import rasa.core.agent as agent_module

    if getattr(agent_module.load_agent, "practice_hot_reload", False):
        return
    original = agent_module.load_agent

    async def load_agent(
        model_path: str | None = None,
        model_server: Any = None,
        remote_storage: str | None = None,
        endpoints: Any = None,
        loop: Any = None,
    ) -> Any:
        """Rasa's `load_agent`, then a watch on the model file it loaded."""
        path = Path(model_path) if model_path else None
        stamp = file_stamp(path) if path else None  # before loading: a swap during it is seen
        agent = await original(
            model_path=model_path,
            model_server=model_server,
            remote_storage=remote_storage,
            endpoints=endpoints,
            loop=loop,
        )
        pulls = model_server is not None or (endpoints is not None and endpoints.model is not None)
        if path is not None and path.is_file() and not pulls and remote_storage is None:
            await start_watching(agent, path, settings.model_reload_seconds, stamp)
        return agent

    load_agent.practice_hot_reload = True  # type: ignore[attr-defined]
    agent_module.load_agent = load_agent


def serving_processes(model_dir: Path) -> List[Dict[str, Any]]:
    """The live server processes on this host that report which model they serve."""
    found = []
    host = socket.gethostname()
    for path in sorted((model_dir / SERVING_DIR).glob("*.json")):
        try:
            state = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if state.get("host") == host:
            try:
                os.kill(int(state["pid"]), 0)
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)  # the process is gone
                continue
        found.append(state)
    return found
