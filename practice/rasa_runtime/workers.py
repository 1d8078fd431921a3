"""Several Rasa server processes on one port, sharing one loaded model.

One Rasa process answers from one event loop, so it uses one core however many visitors
wait (docs/BENCHMARKS.md). With `RASA_WORKERS` above one, `rasa run` forks that many
Sanic workers on the same socket, and the kernel hands each connection to one of them.

Rasa loads the model in each worker after the fork, so N workers would hold N copies
(about 800 MB each). Here the parent loads it once before forking: each worker's own
load then returns the parent's copy, whose pages the workers share until they write to
them, and the parent freezes those objects out of the garbage collector first, which
would otherwise touch (and so copy) every one of them. Everything that holds a
connection (tracker store, lock store, action endpoint) is still created in each worker.
A model that `make retrain` promotes later loads in each worker as usual.

Conversation locks must then be shared between processes: a SQLite file by default, or
Redis (practice/store/lock_store.py, `LOCK_STORE_URL`).

Sanic's own `serve_multiple` waits for its workers and never replaces one: a worker that
crashed or was killed (OOM) left the server one process short until a restart. Here the
parent replaces it at once (forked again from the parent, so it shares the loaded model
and answers within a second or two), with a backoff (1 s, 2 s, 4 s ... 30 s) when a
worker keeps dying within seconds of its start; after five such deaths in a row the
parent exits with code 1, so the launcher restarts the whole server (and, if that keeps
failing, says so). Every worker is also killed by the kernel when the parent dies
(`prctl(PR_SET_PDEATHSIG)`), so a killed server leaves no worker holding its port.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from practice.processes import describe_exit, die_with_parent

logger = logging.getLogger(__name__)

ModelKey = Tuple[str, int, int]
_loaded: Dict[ModelKey, Any] = {}


def model_key(model_path: str) -> ModelKey | None:
    """(real path, mtime ns, size) of a model file; None for a folder or a missing file."""
    try:
        stat = os.stat(model_path)
    except OSError:
        return None
    if not os.path.isfile(model_path):
        return None
    return os.path.realpath(model_path), stat.st_mtime_ns, stat.st_size


def sharing_loader(load: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`MessageProcessor._load_model` that returns the copy loaded before the fork."""

    @functools.wraps(load)
    def load_model(model_path: Any) -> Any:
        key = model_key(str(model_path))
        if key is not None and key in _loaded:
            return _loaded[key]
        return load(model_path)

    return load_model


def preload(model_path: str) -> None:
    """Load the model in this (parent) process, then freeze it out of the collector."""
    from rasa.core.processor import MessageProcessor

    key = model_key(model_path)
    if key is None:
        logger.warning("No model file at %s to share between workers.", model_path)
        return
    _loaded[key] = MessageProcessor._load_model(model_path)
    gc.collect()
    gc.freeze()
    logger.info("Model loaded once for every worker: %s", model_path)


def install(workers: int) -> None:
    """Make `rasa run` load the model before forking `workers` workers (if more than one)."""
    if workers <= 1:
        return
    import rasa.core.run
    from rasa.core.processor import MessageProcessor

    os.environ["SANIC_WORKERS"] = str(workers)
    MessageProcessor._load_model = staticmethod(sharing_loader(MessageProcessor._load_model))
    serve = rasa.core.run.serve_application

    @functools.wraps(serve)
    def serve_application(*args: Any, **kwargs: Any) -> Any:
        model_path = kwargs.get("model_path") or (args[0] if args else None)
        if model_path:
            preload(str(model_path))
        return serve(*args, **kwargs)

    rasa.core.run.serve_application = serve_application
    import sanic.app

    sanic.app.serve_multiple = serve_multiple


# A worker that dies this soon after its start counts as failing to start.
QUICK_DEATH_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 30.0
GIVE_UP_AFTER = 5


def _worker(parent_pid: int, server_settings: Dict[str, Any]) -> None:
    """One Sanic worker: dies with the parent, then serves as Sanic's own would."""
    from sanic.server.runners import serve

    die_with_parent(parent_pid)
    serve(**server_settings)


class _Slot:
    """One worker place: its current process and how it has been dying."""

    def __init__(self) -> None:
        self.process: Optional[multiprocessing.process.BaseProcess] = None
        self.started = 0.0
        self.quick_deaths = 0
        self.restart_at: Optional[float] = None


def serve_multiple(server_settings: Dict[str, Any], workers: int) -> None:
    """Sanic's `serve_multiple` (sanic 21.12), replacing any worker that exits.

    The same socket, settings and signals as Sanic's: SIGINT or SIGTERM stops every worker
    and returns. Any other exit of a worker is logged and the worker forked again.
    """
    from sanic.server.events import trigger_events
    from sanic.server.socket import bind_socket, bind_unix_socket, remove_unix_socket

    server_settings["reuse_port"] = True
    server_settings["run_multiple"] = True
    main_start = server_settings.pop("main_start", None)
    main_stop = server_settings.pop("main_stop", None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    trigger_events(main_start, loop)

    sock = server_settings.get("sock")
    unix = server_settings["unix"]
    backlog = server_settings["backlog"]
    if unix:
        sock = bind_unix_socket(unix, backlog=backlog)
        server_settings["unix"] = unix
    if sock is None:
        sock = bind_socket(server_settings["host"], server_settings["port"], backlog=backlog)
        sock.set_inheritable(True)
        server_settings["sock"] = sock
        server_settings["host"] = None
        server_settings["port"] = None

    context = multiprocessing.get_context("fork")
    slots = [_Slot() for _ in range(workers)]
    stopping: List[int] = []
    parent = os.getpid()

    def stop(signum: int, _frame: Any) -> None:
        if os.getpid() != parent:
            # A worker forked a moment ago still has this handler: it simply ends.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        logger.info("Received signal %s. Shutting down.", signal.Signals(signum).name)
        stopping.append(signum)
        for slot in slots:
            if slot.process is not None and slot.process.pid is not None and slot.process.is_alive():
                os.kill(slot.process.pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    def start(slot: _Slot) -> None:
        slot.process = context.Process(target=_worker, args=(parent, server_settings))
        slot.process.daemon = True
        slot.process.start()
        slot.started = time.monotonic()
        slot.restart_at = None

    for slot in slots:
        start(slot)
    exit_code = 0
    while not stopping:
        sentinels = [s.process.sentinel for s in slots if s.process is not None]
        multiprocessing.connection.wait(sentinels, timeout=0.5)
        now = time.monotonic()
        for slot in slots:
            if stopping:
                break
            process = slot.process
            if process is not None and not process.is_alive():
                process.join()
                lived = now - slot.started
                slot.quick_deaths = slot.quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 1
                delay = min(BACKOFF_CAP_SECONDS, 2.0 ** (slot.quick_deaths - 1))
                logger.warning(
                    "Rasa worker %s %s after %.0f s; starting another in %.0f s.",
                    process.pid,
                    describe_exit(process.exitcode),
                    lived,
                    delay,
                )
                slot.process = None
                slot.restart_at = now + delay
                if slot.quick_deaths >= GIVE_UP_AFTER:
                    logger.error(
                        "Rasa workers keep dying within %.0f s of starting (%d times in a "
                        "row): stopping this server so that it is started afresh.",
                        QUICK_DEATH_SECONDS,
                        slot.quick_deaths,
                    )
                    exit_code = 1
                    stop(signal.SIGTERM, None)
                    break
            elif process is None and slot.restart_at is not None and now >= slot.restart_at:
                start(slot)

    deadline = time.monotonic() + 20
    for slot in slots:
        if slot.process is not None:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
    trigger_events(main_stop, loop)
    sock.close()
    loop.close()
    remove_unix_socket(unix)
    if exit_code:
        # Not SystemExit: Sanic would log it as a traceback. Everything is closed above.
        logging.shutdown()
        os._exit(exit_code)
