"""Several Rasa workers share the model loaded before the fork (practice/rasa_runtime/workers.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List

from practice.rasa_runtime import workers
from practice.settings import load_settings


def test_a_worker_gets_the_model_loaded_before_the_fork(tmp_path: Path, monkeypatch) -> None:
    model = tmp_path / "current.tar.gz"
    model.write_bytes(b"model")
    monkeypatch.setattr(workers, "_loaded", {workers.model_key(str(model)): "shared copy"})
    loads: List[str] = []
    load = workers.sharing_loader(lambda path: loads.append(path) or f"loaded {path}")

    assert load(str(model)) == "shared copy"
    assert loads == []


def test_a_model_replaced_after_the_fork_loads_anew(tmp_path: Path, monkeypatch) -> None:
    model = tmp_path / "current.tar.gz"
    model.write_bytes(b"old model")
    monkeypatch.setattr(workers, "_loaded", {workers.model_key(str(model)): "shared copy"})
    # `make retrain` promotes a new file under the same name.
    model.write_bytes(b"the new, longer model")
    os.utime(model, ns=(1, 1))
    load = workers.sharing_loader(lambda path: f"loaded {path}")

    assert load(str(model)) == f"loaded {model}"


def test_only_a_model_file_is_shared(tmp_path: Path) -> None:
    assert workers.model_key(str(tmp_path)) is None
    assert workers.model_key(str(tmp_path / "missing.tar.gz")) is None


def test_several_workers_share_their_locks_in_a_file_by_default() -> None:
    assert load_settings({}).rasa_workers == 2
    assert load_settings({}).lock_store_url.startswith("sqlite:///")
    assert load_settings({"RASA_WORKERS": "1"}).lock_store_url is None
    redis = "redis://127.0.0.1:6379/1"
    assert load_settings({"LOCK_STORE_URL": redis}).lock_store_url == redis
