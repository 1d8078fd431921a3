"""Build the blank English spaCy pipeline with spaCy's lookup lemmatizer, offline."""

from __future__ import annotations

import sys
from pathlib import Path

import spacy


def build(target: Path) -> None:
    """Save a blank English pipeline with a lookup lemmatizer to `target`."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "build/spacy-en"))
