"""The YAML round trip: new examples go into Rasa NLU files without disturbing anything else.

Rasa NLU files are written by people: comments, blank lines, the order of intents and of
examples all carry meaning. A YAML library round trip (even ruamel's) may re-indent or
re-wrap, so new examples are inserted as lines at the end of the intent's `examples: |`
block; every other byte of the file stays as it was. A file gets exactly the lines added,
and nothing at all when every addition is already there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Sequence, Set, Tuple

import yaml

from practice.retrain.text import clean_example, normalise

_ITEM = re.compile(r"^(?P<indent>[ ]*)- (?P<key>[a-z_]+):\s*(?P<value>.*?)\s*(#.*)?$")
_EXAMPLES = re.compile(r"^(?P<indent>[ ]+)examples:\s*\|[-+0-9]*\s*(#.*)?$")
_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_ENTITY = re.compile(r"\[(?P<text>[^\]\n]+)\](\([^)\n]*\)|\{[^}\n]*\})")
EMPTY_NLU_FILE = 'version: "3.1"\n\nnlu:\n'


@dataclass
class Addition:
    """What one `add_examples` call did: which texts went in, which were skipped and why."""

    added: List[Tuple[str, str]] = field(default_factory=list)
    skipped: List[Tuple[str, str, str]] = field(default_factory=list)


def example_text(line_text: str) -> str:
    """An example as Rasa reads it: entity markup `[text](entity)` reduced to its text."""
    return _ENTITY.sub(lambda m: m.group("text"), line_text)


def read_examples(path: Path) -> List[Tuple[str, str]]:
    """Every (intent, text) example of one Rasa NLU YAML file, in file order."""
    if not path.exists():
        return []
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: List[Tuple[str, str]] = []
    for item in content.get("nlu") or []:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        examples = item.get("examples") or ""
        for line in str(examples).splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.append((str(item["intent"]), example_text(line[2:].strip())))
    return found


def read_example_files(paths: Iterable[Path]) -> List[Tuple[str, str]]:
    """The examples of several files (directories are searched for *.yml / *.yaml)."""
    found: List[Tuple[str, str]] = []
    for path in paths:
        files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            found.extend(read_examples(file))
    return found


def _line_indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _newline_of(lines: Sequence[str]) -> str:
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith("\n"):
            return "\n"
    return "\n"


def _find_examples_block(lines: Sequence[str], intent: str) -> Tuple[int, str] | None:
    """(index after which to insert, indent of an example line) for the intent's block."""
    for start, line in enumerate(lines):
        item = _ITEM.match(line.rstrip("\r\n"))
        if not item or item.group("key") != "intent":
            continue
        if item.group("value").strip("'\"") != intent:
            continue
        item_indent = len(item.group("indent"))
        for index in range(start + 1, len(lines)):
            text = lines[index].rstrip("\r\n")
            if text.strip() and _line_indent(text) <= item_indent:
                break  # the next item or key: this intent has no examples block
            block = _EXAMPLES.match(text)
            if block:
                return _block_end(lines, index, len(block.group("indent")))
    return None


def _block_end(lines: Sequence[str], key_index: int, key_indent: int) -> Tuple[int, str]:
    last = key_index
    example_indent = " " * (key_indent + 2)
    seen_content = False
    for index in range(key_index + 1, len(lines)):
        text = lines[index].rstrip("\r\n")
        if not text.strip():
            continue
        if _line_indent(text) <= key_indent:
            break
        if not seen_content:
            example_indent = " " * _line_indent(text)
            seen_content = True
        last = index
    return last, example_indent


def _nlu_list_end(lines: Sequence[str]) -> int | None:
    """The index of the last line belonging to the top-level `nlu:` list, if there is one."""
    start = next((i for i, line in enumerate(lines) if re.match(r"^nlu\s*:", line)), None)
    if start is None:
        return None
    last = start
    for index in range(start + 1, len(lines)):
        text = lines[index].rstrip("\r\n")
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if _TOP_KEY.match(text):
            break
        last = index
    return last


def _item_indents(lines: Sequence[str]) -> Tuple[str, str, str]:
    """The indents this file uses for `- intent:`, `examples: |` and example lines."""
    for index, line in enumerate(lines):
        item = _ITEM.match(line.rstrip("\r\n"))
        if item and item.group("key") == "intent":
            found = _find_examples_block(lines, item.group("value").strip("'\""))
            if found is None:
                continue
            item_indent = item.group("indent")
            key_line = next(
                (lines[i] for i in range(index + 1, len(lines)) if _EXAMPLES.match(lines[i].rstrip("\r\n"))),
                None,
            )
            key_indent = " " * _line_indent(key_line) if key_line else item_indent + "  "
            return item_indent, key_indent, found[1]
    return "", "  ", "    "


def add_examples(
    source: str,
    additions: Mapping[str, Sequence[str]],
    known: Set[str] | None = None,
) -> Tuple[str, Addition]:
    """Insert each intent's new example texts into a Rasa NLU YAML text.

    `known` holds normalised texts that must not be added again (examples of other files);
    the file's own examples are always included. Texts already known, repeated within the
    call, or not storable verbatim are skipped and reported. When nothing is added, the
    returned text is `source` itself.
    """
    result = Addition()
    seen: Set[str] = set(known or ())
    if source.strip():
        seen |= {normalise(text) for _, text in _examples_of_text(source)}
    lines = source.splitlines(keepends=True)
    newline = _newline_of(lines)
    wanted: Dict[str, List[str]] = {}
    for intent, texts in additions.items():
        for raw in texts:
            text = clean_example(raw)
            if text is None:
                result.skipped.append((intent, raw, "cannot be stored verbatim"))
                continue
            key = normalise(text)
            if key in seen:
                result.skipped.append((intent, raw, "already in the data"))
                continue
            seen.add(key)
            wanted.setdefault(intent, []).append(text)
            result.added.append((intent, text))
    if not wanted:
        return source, result

    if not lines:
        lines = EMPTY_NLU_FILE.splitlines(keepends=True)
    if not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    new_blocks: List[Tuple[str, List[str]]] = []
    for intent, texts in wanted.items():
        found = _find_examples_block(lines, intent)
        if found is None:
            new_blocks.append((intent, texts))
            continue
        after, indent = found
        if not lines[after].endswith(("\n", "\r")):
            lines[after] += newline
        lines[after + 1 : after + 1] = [f"{indent}- {text}{newline}" for text in texts]
    if new_blocks:
        lines = _append_blocks(lines, new_blocks, newline)
    updated = "".join(lines)
    _check(updated, result.added)
    return updated, result


def _append_blocks(lines: List[str], blocks: Sequence[Tuple[str, List[str]]], newline: str) -> List[str]:
    item_indent, key_indent, example_indent = _item_indents(lines)
    text: List[str] = []
    for intent, texts in blocks:
        text.append(newline)
        text.append(f"{item_indent}- intent: {intent}{newline}")
        text.append(f"{key_indent}examples: |{newline}")
        text.extend(f"{example_indent}- {example}{newline}" for example in texts)
    end = _nlu_list_end(lines)
    if end is None:
        return lines + [f"{newline}nlu:{newline}"] + text[1:]
    return lines[: end + 1] + text + lines[end + 1 :]


def _examples_of_text(source: str) -> List[Tuple[str, str]]:
    content = yaml.safe_load(source) or {}
    found: List[Tuple[str, str]] = []
    for item in content.get("nlu") or []:
        if isinstance(item, dict) and "intent" in item:
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append((str(item["intent"]), example_text(line[2:].strip())))
    return found


def _check(updated: str, added: Sequence[Tuple[str, str]]) -> None:
    """Refuse to return a text where the new examples do not read back under their intents."""
    present = {(intent, normalise(text)) for intent, text in _examples_of_text(updated)}
    missing = [(i, t) for i, t in added if (i, normalise(t)) not in present]
    if missing:
        raise ValueError(f"examples did not read back after insertion: {missing[:3]}")


def add_examples_to_file(path: Path, additions: Mapping[str, Sequence[str]], known: Set[str] | None = None) -> Addition:
    """`add_examples` on a file, written back only when something was added."""
    source = path.read_text(encoding="utf-8") if path.exists() else ""
    updated, result = add_examples(source, additions, known)
    if updated != source:
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(updated)
    return result
