"""Plays a half of a blind test set once per test session, through the served model."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Sequence, Tuple

from practice.evaluation.conversations import Turn, action_server, load_agent, newest_model, play_all
from practice.evaluation.scoring import conversations_of, load_cases
from practice.evaluation.targets import set_path

# `make test` runs the development halves; `make test-sealed` the sealed ones (once per round).
HALF = os.environ.get("BLIND_HALF", "dev")


def play_half(name: str) -> Tuple[List[Dict[str, Any]], List[List[Turn]]]:
    """The cases of one half and what the assistant did in each."""
    cases = load_cases(set_path(name, HALF))
    with action_server() as url:
        agent = load_agent(newest_model(), url)
        played = play_all(agent, conversations_of(cases))
    return cases, played


def failures(ids: Sequence[str], limit: int = 12) -> str:
    """A short list of failing case ids for an assertion message."""
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
