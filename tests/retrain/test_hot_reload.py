"""The running server's model watch: a replaced model file loads, a broken one does not."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from practice.rasa_runtime import hot_reload
from practice.settings import load_settings


class FakeAgent:
    """Records what `load_model` was asked to load; fails on files starting with 'broken'."""

    def __init__(self) -> None:
        self.loaded: List[Tuple[str, str]] = []

    def load_model(self, path: str, fingerprint: str) -> None:
        if Path(path).read_bytes().startswith(b"broken"):
            raise ValueError("not a model")
        self.loaded.append((Path(path).read_bytes().decode(), fingerprint))


def swap_in(model: Path, content: bytes, age: float = 5.0) -> None:
    """Replace the model the way promotion does (os.replace), dated `age` seconds ago."""
    new = model.with_name(".new")
    new.write_bytes(content)
    past = time.time() - age
    os.utime(new, (past, past))
    os.replace(new, model)


async def test_a_replaced_model_loads_once_and_a_broken_one_keeps_the_old(tmp_path: Path) -> None:
    model = tmp_path / "current.tar.gz"
    swap_in(model, b"model one")
    agent = FakeAgent()
    watch = hot_reload.Watch(model, hot_reload.file_stamp(model), hot_reload.sha256_file(model))

    assert not await hot_reload.check(agent, watch)  # nothing changed
    swap_in(model, b"model two")
    assert await hot_reload.check(agent, watch)
    assert agent.loaded == [("model two", hot_reload.sha256_file(model))]
    assert not await hot_reload.check(agent, watch)  # loaded once only

    status = json.loads(hot_reload.status_file(model).read_text())
    assert (status["pid"], status["sha256"]) == (os.getpid(), hot_reload.sha256_file(model))
    assert hot_reload.serving_processes(tmp_path) == [status]

    swap_in(model, b"broken model")
    assert not await hot_reload.check(agent, watch)
    assert watch.sha != hot_reload.sha256_file(model)  # the old model still counts as served
    swap_in(model, b"model three")
    assert await hot_reload.check(agent, watch)
    assert [content for content, _ in agent.loaded] == ["model two", "model three"]


async def test_a_file_still_being_written_waits_for_the_next_check(tmp_path: Path) -> None:
    model = tmp_path / "current.tar.gz"
    swap_in(model, b"model one")
    agent = FakeAgent()
    watch = hot_reload.Watch(model, hot_reload.file_stamp(model), hot_reload.sha256_file(model))
    model.write_bytes(b"model two, written in place just now")
    assert not await hot_reload.check(agent, watch)
    past = time.time() - 5
    os.utime(model, (past, past))
    assert await hot_reload.check(agent, watch)
    assert agent.loaded[-1][0] == "model two, written in place just now"


async def test_install_wraps_load_agent_once_and_schedules_the_watch(tmp_path: Path, monkeypatch: Any) -> None:
    import rasa.core.agent as agent_module
    from rasa.core import jobs

    calls = []

    async def fake_load_agent(**kwargs: Any) -> FakeAgent:
        calls.append(kwargs)
        return FakeAgent()

    monkeypatch.setattr(agent_module, "load_agent", fake_load_agent)
    settings = load_settings({"MODEL_RELOAD_SECONDS": "2"})
    hot_reload.install(settings)
    hot_reload.install(settings)
    wrapped = agent_module.load_agent
    assert wrapped.practice_hot_reload and wrapped is not fake_load_agent
    model = tmp_path / "current.tar.gz"
    swap_in(model, b"model one")
    try:
        await wrapped(model_path=str(model))
        job = (await jobs.scheduler()).get_job(hot_reload.JOB_ID)
        assert job is not None and job.trigger.interval.total_seconds() == 2
        assert len(calls) == 1
    finally:
        jobs.kill_scheduler()


@pytest.mark.parametrize("gone", [True, False])
def test_serving_processes_forgets_processes_that_ended(tmp_path: Path, gone: bool) -> None:
    serving = tmp_path / hot_reload.SERVING_DIR
    serving.mkdir()
    pid = 2**22 + 12345 if gone else os.getpid()
    (serving / "x.json").write_text(
        json.dumps({"pid": pid, "host": os.uname().nodename, "sha256": "abc", "loaded_at": 1.0})
    )
    assert len(hot_reload.serving_processes(tmp_path)) == (0 if gone else 1)
    assert (serving / "x.json").exists() is not gone
