"""Where each answer comes from, read from content/answers.yml (the one source).

The response generator (practice/nlg.py) calls `annotate` on every response it fills:
an article answer gets `"kind": "answer"` and, when content/answers.yml names its
section, `"source": {"section", "url"}` pointing at that heading's anchor on the article
page (the ARTICLE_URL setting). Rasa keeps such extra keys in the bot event's metadata,
so the website channel and the transcript get them too. docs/ANSWERS.md is generated
from the same file (scripts/render_answers.py), so the links and the doc cannot disagree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from practice.settings import PROJECT_ROOT, get_settings
from practice.website.markdown import heading_anchor

ANSWERS_FILE = PROJECT_ROOT / "content" / "answers.yml"
# Every answer from the article is named so (domain.yml); the dialogue side keeps the form.
ANSWER_PREFIX = "utter_ask_"
ANSWER_KIND = "answer"


@dataclass(frozen=True)
class Answer:
    """One answering response: the heading it links to, others it uses, its passage."""

    response: str
    section: Optional[str]
    also: Tuple[str, ...]
    passage: str

    @property
    def anchor(self) -> Optional[str]:
        """The section's anchor on the article page (practice/website/markdown.py)."""
        return heading_anchor(self.section) if self.section else None


@dataclass(frozen=True)
class DialogueResponse:
    """A response that states no health fact: when it is sent and what it must say."""

    response: str
    when: str
    says: str


def _read(path: Path) -> Dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@functools.lru_cache(maxsize=4)
def load_answers(path: Path = ANSWERS_FILE) -> Dict[str, Answer]:
    """The answers of content/answers.yml by response name, in the file's order."""
    answers: Dict[str, Answer] = {}
    for entry in _read(path).get("answers") or []:
        answers[entry["response"]] = Answer(
            response=entry["response"],
            section=entry.get("section") or None,
            also=tuple(entry.get("also") or ()),
            passage=str(entry.get("passage") or ""),
        )
    return answers


def load_dialogue(path: Path = ANSWERS_FILE) -> List[DialogueResponse]:
    """The dialogue and safety responses of content/answers.yml, in order."""
    return [
        DialogueResponse(e["response"], str(e.get("when") or ""), str(e.get("says") or ""))
        for e in _read(path).get("dialogue") or []
    ]


def source_url(article_url: str, anchor: str) -> str:
    """The article page's URL with the section's anchor."""
    return f"{article_url.split('#', 1)[0]}#{anchor}"


def annotate(
    utter_action: str,
    response: Optional[Dict[str, Any]],
    article_url: Optional[str] = None,
) -> Optional[Dict[str, Any]]:
    """`response` with `kind` and `source` added when it is an answer from the article.

    A `kind` or `source` the response already carries (the dialogue may set "offer",
    "safety", "fallback", "notice") is kept as it is.
    """
    if not response or not utter_action.startswith(ANSWER_PREFIX):
        return response
    response.setdefault("kind", ANSWER_KIND)
    answer = load_answers().get(utter_action)
    if answer is not None and answer.anchor and "source" not in response:
        url = article_url if article_url is not None else get_settings().article_url
        response["source"] = {"section": answer.section, "url": source_url(url, answer.anchor)}
    return response
