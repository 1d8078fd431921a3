"""Just enough Markdown for the practice's article, with every character of it escaped.

Headings, paragraphs, lists, block quotes, rules, emphasis, code and links (http, https
and mailto only). Raw HTML in the source is shown as text, never passed through. Every
heading gets a stable `id` from its text (`heading_anchor`), which the assistant's
"From the article" links point to (practice/answers.py).
"""

from __future__ import annotations

import html
import re
from typing import Dict, List, Set

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)")
_SAFE_LINK = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def heading_anchor(text: str) -> str:
    """The `id` of a heading: lower case letters and digits joined by hyphens.

    "So what can you do if you suspect you have leaky gut?" becomes
    "so-what-can-you-do-if-you-suspect-you-have-leaky-gut"; apostrophes vanish
    ("it's" -> "its"). The same text always gives the same anchor.
    """
    plain = re.sub(r"[*`]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", text)
    plain = re.sub(r"['\u2019]", "", plain.lower())
    return _NOT_SLUG.sub("-", plain).strip("-") or "section"


def _unique(anchor: str, used: Set[str]) -> str:
    candidate, n = anchor, 1
    while candidate in used:
        n += 1
        candidate = f"{anchor}-{n}"
    used.add(candidate)
    return candidate


def heading_anchors(source: str) -> Dict[str, str]:
    """Each heading's text and its anchor, in the order the rendered page gives them."""
    used: Set[str] = set()
    anchors: Dict[str, str] = {}
    for line in _COMMENT.sub("", source).splitlines():
        heading = _HEADING.match(line)
        if heading:
            anchors.setdefault(heading.group(2), _unique(heading_anchor(heading.group(2)), used))
    return anchors


def render_inline(text: str) -> str:
    """Escape `text`, then turn code, links, bold and italics into their elements."""
    escaped = html.escape(text, quote=True)

    def link(match: re.Match) -> str:
        label, url = match.group(1), match.group(2)
        if not _SAFE_LINK.match(html.unescape(url)):
            return label
        return f'<a href="{url}" rel="noopener">{label}</a>'

    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    escaped = _LINK.sub(link, escaped)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", escaped)
    return escaped


def render_markdown(source: str) -> str:
    """The HTML of a Markdown document; only the elements listed in the module docstring."""
    out: List[str] = []
    paragraph: List[str] = []
    items: List[str] = []
    list_tag = ""
    used: Set[str] = set()

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append(f"<p>{render_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
            list_tag = ""

    for line in _COMMENT.sub("", source).splitlines():
        heading, bullet, numbered = _HEADING.match(line), _BULLET.match(line), _NUMBERED.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            anchor = _unique(heading_anchor(heading.group(2)), used)
            out.append(f'<h{level} id="{anchor}">{render_inline(heading.group(2))}</h{level}>')
        elif _RULE.match(line):
            flush()
            out.append("<hr>")
        elif bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or (list_tag and list_tag != tag):
                flush()
            list_tag = tag
            marker = bullet or numbered
            assert marker is not None  # one of the two matched to get here
            items.append(render_inline(marker.group(1)))
        elif line.lstrip().startswith(">"):
            flush()
            out.append(f"<blockquote><p>{render_inline(line.lstrip()[1:].strip())}</p></blockquote>")
        elif items:
            items[-1] += " " + render_inline(line.strip())
        else:
            paragraph.append(line.strip())
    flush()
    return "\n".join(out)
