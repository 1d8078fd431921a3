"""Held-out intent accuracy of a trained model and of the floor, next to their speed.

    python -m bench.accuracy MODEL.tar.gz     prints {"accuracy": ..., "examples": ...}

The held-out set is tests/nlu/holdout.yml (phrasings never used in training); a message
counts as right when the top intent is the expected one (a fallback counts as wrong).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from practice.settings import PROJECT_ROOT

HOLDOUT = PROJECT_ROOT / "tests" / "nlu" / "holdout.yml"


def holdout_examples(path: Path = HOLDOUT) -> List[Tuple[str, str]]:
    """(text, intent) pairs of the held-out set (it has the training data's shape)."""
    from bench.floor import nlu_examples

    return nlu_examples(path) if path.exists() else []


def model_accuracy(model: Path, env: Dict[str, str]) -> Dict[str, float]:
    """Accuracy of `model` on the held-out set, measured in a child process."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.accuracy", str(model)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def floor_accuracy(data_dir: Path = PROJECT_ROOT / "data") -> Dict[str, float]:
    """Accuracy of the floor classifier trained on `data_dir`."""
    from bench.floor import build_classifier, nlu_examples

    examples = holdout_examples()
    if not examples:
        return {}
    model = build_classifier(nlu_examples(data_dir))
    predicted = model.predict([text for text, _ in examples])
    right = sum(p == intent for p, (_, intent) in zip(predicted, examples, strict=True))
    return {"accuracy": right / len(examples), "examples": len(examples)}


def main() -> None:
    """Load the model with the server's fixes and score the held-out set."""
    from practice.rasa_runtime import performance

    performance.preload()
    performance.install()
    from rasa.core.agent import Agent

    examples = holdout_examples()
    agent = Agent.load(sys.argv[1])

    async def score() -> int:
        right = 0
        for text, intent in examples:
            parsed = await agent.parse_message(text)
            right += parsed["intent"]["name"] == intent
        return right

    right = asyncio.run(score())
    print(json.dumps({"accuracy": right / max(1, len(examples)), "examples": len(examples)}))


if __name__ == "__main__":
    main()
