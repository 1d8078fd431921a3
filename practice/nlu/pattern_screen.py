"""Which of many regular expressions a text could match, found without searching most of them.

The safety layer searches ~460 patterns in every sentence and every pair of neighbouring
sentences of a message, as written and without accents; almost every search finds nothing.
Two screens rule a pattern out of a whole message at once, and both are exact: a pattern
they rule out matches none of the message's passages, so the first pattern and passage that
match (the evidence a signal reports) stay the same.

- Required words: every match of `\\b(severe|sharp) (stomach|belly) pain` contains
  "severe" or "sharp", read from the pattern's parse tree. A message in which none of them
  occurs, compared case-blind the way `re.IGNORECASE` compares, cannot match it.
- The joined text: the passages are the message's sentences and pairs of sentences, and each
  is a piece of the sentences joined by single spaces. A pattern whose only zero-width tests
  are `\\b`, `\\B`, positive lookarounds and one-character negative lookarounds that a space
  passes matches that joined text wherever it matches one of the pieces, so one search of
  the joined text stands for all of them. Patterns with `^`, `$` or a wider negative
  lookaround ("(?!.*on purpose)") can match a piece and not the whole; they keep the
  search passage by passage.
"""

from __future__ import annotations

import _sre
import sre_compile
import sre_constants as sre
import sre_parse
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Pattern, Sequence, Tuple

# Joins the case-blind forms of the texts a message is read as; no required word holds it.
SEPARATOR = "\x00"
# re.IGNORECASE compares characters by their simple lower case, and counts some further
# characters as equal ("s" and the long "ſ", "i" and the dotless "ı"): sre_compile's table.
_ALSO_EQUAL: Dict[int, Tuple[int, ...]] = sre_compile._ignorecase_fixes  # type: ignore[attr-defined]
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_ONE_CHARACTER = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)


class _CaseBlind(Dict[int, int]):
    """str.translate's table: each character to the one all its IGNORECASE equals map to."""

    def __missing__(self, code: int) -> int:
        lower = _sre.unicode_tolower(code)
        self[code] = folded = min((lower, *_ALSO_EQUAL.get(lower, ())))
        return folded


_CASE_BLIND = _CaseBlind()


def case_blind(text: str) -> str:
    """`text` with every character replaced by the one `re.IGNORECASE` treats it as.

    Two characters an IGNORECASE pattern counts as equal come out the same, so a pattern's
    required word (case-blind too) occurs here whenever the pattern matches `text`. ASCII
    text is just lower-cased.
    """
    return text.lower() if text.isascii() else text.translate(_CASE_BLIND)


def _best(*found: Optional[FrozenSet[str]]) -> Optional[FrozenSet[str]]:
    """The most selective set of required words: the longest shortest word, then fewest."""
    known = [words for words in found if words]
    return max(known, key=lambda words: (min(map(len, words)), -len(words)), default=None)


def _required(items: Iterable[Tuple[Any, Any]]) -> Optional[FrozenSet[str]]:
    """Strings one of which every match of the parsed `items` contains (None: none known).

    A run of literal characters is required; so is what a group, a repetition of at least
    one, a positive lookaround or every branch of an alternation requires. Negative
    lookarounds, optional parts and character classes require nothing.
    """
    best: Optional[FrozenSet[str]] = None
    run: List[str] = []
    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        best = _best(best, frozenset(["".join(run)]) if run else None)
        run = []
        if op is sre.SUBPATTERN:
            best = _best(best, _required(av[-1]))
        elif op is sre.BRANCH:
            branches = [words for words in map(_required, av[1]) if words]
            if len(branches) == len(av[1]):
                best = _best(best, frozenset().union(*branches))
        elif op in _REPEATS and av[0] >= 1:
            best = _best(best, _required(av[2]))
        elif op is sre.ASSERT:
            best = _best(best, _required(av[1]))
    return _best(best, frozenset(["".join(run)]) if run else None)


def _a_space_passes(negated: sre_parse.SubPattern) -> bool:
    """Whether `(?!x)`/`(?<!x)` with this `x` answers beside a space as at a text's end: `x`
    is one character, not a space (what follows and precedes a passage in the joined text)."""
    if negated.getwidth() != (1, 1) or len(negated.data) != 1 or negated.data[0][0] not in _ONE_CHARACTER:
        return False
    return sre_compile.compile(negated).fullmatch(" ") is None


def _joinable(items: Iterable[Tuple[Any, Any]]) -> bool:
    """Whether a match in a passage implies one in the passages joined by single spaces."""
    for op, av in items:
        if op is sre.AT:
            ok = av in (sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY)
        elif op is sre.ASSERT_NOT:
            ok = _a_space_passes(av[1])
        elif op is sre.ASSERT:
            ok = _joinable(av[1])
        elif op is sre.SUBPATTERN:
            ok = _joinable(av[-1])
        elif op is sre.BRANCH:
            ok = all(_joinable(branch) for branch in av[1])
        elif op in _REPEATS:
            ok = _joinable(av[2])
        else:
            ok = op in _ONE_CHARACTER or op is sre.GROUPREF
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class Screen:
    """What one pattern needs of a text: one of `words` (case-blind; None: nothing known), and
    whether a search of the joined passages can stand for a search of each (`joinable`)."""

    words: Optional[FrozenSet[str]]
    joinable: bool

    @classmethod
    def of(cls, pattern: Pattern[str]) -> "Screen":
        """The screen of a compiled pattern, read from its parse tree."""
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
        words = _required(parsed.data)
        if words is not None:
            folded = {case_blind(word) for word in words}
            # A word that contains another is found whenever it is: keep the shorter.
            words = frozenset(w for w in folded if not any(o != w and o in w for o in folded))
            if any(SEPARATOR in word for word in words):
                words = None
        return cls(words, _joinable(parsed.data))


class ScreenText:
    """The case-blind form of the texts a message is read as, and the three-character pieces
    in it, shared by every pattern list that screens the message."""

    def __init__(self, texts: Iterable[str]) -> None:
        """Join the texts' case-blind forms (each once) and collect their pieces."""
        self.text = SEPARATOR.join(dict.fromkeys(case_blind(text) for text in texts))
        self.pieces = {self.text[i : i + PIECE] for i in range(len(self.text) - PIECE + 1)}


# A required word can only occur where its first three characters do: a set lookup per
# word's start picks the few words worth an `in` test out of ~1,500.
PIECE = 3


class ScreenedPatterns:
    """Patterns in order, with an index from each required word to the patterns needing it."""

    def __init__(self, patterns: Sequence[Pattern[str]]) -> None:
        """Read every pattern's screen once."""
        self.patterns = tuple(patterns)
        self.screens = tuple(Screen.of(p) for p in self.patterns)
        self._unscreened = frozenset(i for i, s in enumerate(self.screens) if s.words is None)
        needing: Dict[str, List[int]] = {}
        for index, screen in enumerate(self.screens):
            for word in screen.words or ():
                needing.setdefault(word, []).append(index)
        self._short = [(word, tuple(n)) for word, n in needing.items() if len(word) < PIECE]
        self._by_start: Dict[str, List[Tuple[str, Tuple[int, ...]]]] = {}
        for word, indices in needing.items():
            if len(word) >= PIECE:
                self._by_start.setdefault(word[:PIECE], []).append((word, tuple(indices)))

    def possible(self, searched: ScreenText) -> List[int]:
        """The indices, in order, of the patterns whose required words occur in `searched`."""
        text = searched.text
        found = [n for word, n in self._short if word in text]
        for start in searched.pieces.intersection(self._by_start):
            found.extend(n for word, n in self._by_start[start] if word in text)
        return sorted(self._unscreened.union(*found))

    def candidates(self, searched: ScreenText, joined: Sequence[str] = ()) -> List[Pattern[str]]:
        """The patterns, in order, that may match a passage of a message: their required
        words occur in `searched`, whose text holds every passage case-blind, and (when
        `joined` is given and the pattern allows it) they match one of the `joined` texts,
        of which every passage is a piece."""
        return [
            self.patterns[i]
            for i in self.possible(searched)
            if not (joined and self.screens[i].joinable) or any(self.patterns[i].search(j) for j in joined)
        ]
