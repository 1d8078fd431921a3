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
"""

from __future__ import annotations

import functools
import gc
import logging
import os
from typing import Any, Callable, Dict, Tuple

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
