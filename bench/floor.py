"""The floor: TF-IDF + a linear model on our NLU data behind a bare aiohttp endpoint.

It answers the REST channel's request shape with the first text of `utter_<intent>`, so the
benchmark sees the cost of classification alone: no dialogue state, no tracker store.

`python -m bench.floor --port 5099` serves it (the benchmark starts it on a free port).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import yaml
from aiohttp import web
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# "[fibre](food)" and "[fibre]{...}" become "fibre".
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def nlu_examples(data: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs from every `nlu:` block of `data` or of the YAML files under it."""
    pairs: List[Tuple[str, str]] = []
    for path in [data] if data.is_file() else sorted(data.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or []:
            intent = block.get("intent")
            if not intent:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip()
                if text.startswith("- "):
                    pairs.append((ENTITY_MARKUP.sub(r"\1", text[2:]).strip(), intent))
    return pairs


def build_classifier(pairs: Iterable[Tuple[str, str]]) -> Pipeline:
    """Word and character TF-IDF features, one logistic regression, fitted on `pairs`."""
    texts, intents = zip(*pairs, strict=False)
    model = Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        ("words", TfidfVectorizer(lowercase=True, ngram_range=(1, 2))),
                        (
                            "chars",
                            TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(2, 4)),
                        ),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(max_iter=1000, random_state=42)),
        ]
    )
    return model.fit(list(texts), list(intents))


def first_texts(domain_file: Path) -> Dict[str, str]:
    """Response name to the first text variation in the domain."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    replies: Dict[str, str] = {}
    for name, variations in (domain.get("responses") or {}).items():
        for variation in variations or []:
            if isinstance(variation, dict) and variation.get("text"):
                replies[name] = variation["text"]
                break
    return replies


def make_app(model: Pipeline, replies: Dict[str, str]) -> web.Application:
    """An app with the REST channel's route and a health route."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        intent = model.predict([str(body.get("message", ""))])[0]
        text = replies.get(f"utter_{intent}", intent)
        return web.json_response([{"recipient_id": body.get("sender"), "text": text}])

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/", health)
    return app


def main() -> None:
    """Train on the project's data, then serve on loopback."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / "data")
    parser.add_argument("--domain", type=Path, default=PROJECT_ROOT / "domain.yml")
    args = parser.parse_args()
    model = build_classifier(nlu_examples(args.data))
    web.run_app(
        make_app(model, first_texts(args.domain)),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
