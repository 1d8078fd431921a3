"""What makes two visitor messages "the same": normalisation and a cheap similarity."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from rapidfuzz import fuzz

_ENTITY_MARKUP = re.compile(r"\[[^\]\n]*\](\(|\{|\[)")
_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Case, accents' compatibility forms, punctuation and spacing folded away."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("\u2019", "").replace("\u2018", "").replace("'", "")
    text = _NOT_WORD.sub(" ", text).replace("_", " ")
    return _SPACES.sub(" ", text).strip()


def text_key(text: str) -> str:
    """A short stable key for the normalised text (what deduplication compares)."""
    return hashlib.sha1(normalise(text).encode("utf-8")).hexdigest()


def clean_example(text: str) -> str | None:
    """The text as one training-example line, or None when it cannot be stored verbatim.

    Line breaks and control characters become spaces (an example is one line of a YAML
    block); text that looks like Rasa's entity markup (`[word](entity)`) is refused, because
    Rasa would read it as an annotation rather than as what the visitor typed.
    """
    chars = [" " if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029\ufeff" else ch for ch in text]
    cleaned = _SPACES.sub(" ", "".join(chars)).strip()
    if not cleaned or not normalise(cleaned) or _ENTITY_MARKUP.search(cleaned):
        return None
    return cleaned


def similar(a: str, b: str, threshold: float = 0.85) -> bool:
    """True when two normalised texts are near-duplicates (typo, one extra word, word order)."""
    if a == b:
        return True
    if not a or not b:
        return False
    words_a, words_b = set(a.split()), set(b.split())
    jaccard = len(words_a & words_b) / len(words_a | words_b)
    if jaccard >= threshold:
        return True
    shorter, longer = sorted((len(a), len(b)))
    if shorter / longer < threshold:
        return False
    # Characters in common in order (indel similarity, 2·matches / total length): a typo or
    # an extra word keeps it high. RapidFuzz computes it in C++, stopping at the cut-off.
    return fuzz.ratio(a, b, score_cutoff=threshold * 100) > 0
