"""Plays test conversations through a loaded assistant and records what each turn said.

The same model, NLU pipeline, dialogue policy and response generator as production
(with `practice.rasa_runtime`'s hot-path patches, which change no answer); conversations
live in an in-memory tracker store and custom actions go to a real action server started
for the run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

from practice.settings import PROJECT_ROOT

NLG_TYPE = "practice.nlg.PracticeNaturalLanguageGenerator"
# Actions Rasa runs on every turn by itself: not part of what the assistant said.
_HOUSEKEEPING = frozenset({"action_listen", "action_extract_slots", "action_session_start"})


@dataclass
class Turn:
    """One visitor message and what the assistant did and said in reply."""

    text: str
    parse: Dict[str, Any]
    actions: List[str] = field(default_factory=list)
    replies: List[Dict[str, Any]] = field(default_factory=list)

    def texts(self) -> str:
        """Every reply's text, joined."""
        return "\n".join(r.get("text") or "" for r in self.replies)

    def links(self) -> List[str]:
        """Every URL the turn offered, in its text or its buttons."""
        urls = [b.get("url") for r in self.replies for b in r.get("buttons") or [] if b.get("url")]
        return urls


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def action_server() -> Iterator[str]:
    """The project's action server on a free loopback port, for one run."""
    port = _free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None:
                raise RuntimeError("the action server exited at start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def load_agent(model: Path, action_url: str) -> Any:
    """The assistant as production loads it: our NLG, the action server, the runtime patches."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    from practice.rasa_runtime import performance

    configure_structlog(logging.WARNING)  # Rasa logs every message at debug level otherwise
    performance.install()
    return Agent.load(
        str(model),
        generator=EndpointConfig(type=NLG_TYPE),
        action_endpoint=EndpointConfig(url=action_url),
    )


async def play(agent: Any, messages: Sequence[str]) -> List[Turn]:
    """One new conversation: each message in turn, with what the assistant did after it."""
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    sender = uuid.uuid4().hex
    turns: List[Turn] = []
    for text in messages:
        channel = CollectingOutputChannel()
        await agent.handle_text(text, output_channel=channel, sender_id=sender)
        tracker = await agent.tracker_store.retrieve(sender)
        events = list(tracker.events)
        start = max(i for i, e in enumerate(events) if isinstance(e, UserUttered))
        user = events[start]
        turn = Turn(text=text, parse=dict(user.parse_data or {}))
        for event in events[start + 1 :]:
            if isinstance(event, ActionExecuted) and event.action_name not in _HOUSEKEEPING:
                turn.actions.append(event.action_name or "")
            elif isinstance(event, BotUttered):
                turn.replies.append({"text": event.text, **(event.data or {})})
        turns.append(turn)
    return turns


def play_all(agent: Any, conversations: Sequence[Sequence[str]]) -> List[List[Turn]]:
    """Every conversation, in order."""

    async def run() -> List[List[Turn]]:
        return [await play(agent, c) for c in conversations]

    return asyncio.run(run())


def newest_model(models: Optional[Path] = None) -> Path:
    """The served model (models/current.tar.gz), else the newest one."""
    folder = models or PROJECT_ROOT / "models"
    current = folder / "current.tar.gz"
    if current.exists():
        return current
    candidates = sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"No trained model in {folder}: run `make train` first")
    return candidates[-1]
