"""Just enough Markdown for the practice's article, with every character of it escaped.

Headings, paragraphs, lists, block quotes, rules, emphasis, code and links (http, https
and mailto only). Raw HTML in the source is shown as text, never passed through.
"""

from __future__ import annotations

import html
import re
from typing import List

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)")
_SAFE_LINK = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)


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
            out.append(f"<h{level}>{render_inline(heading.group(2))}</h{level}>")
        elif _RULE.match(line):
            flush()
            out.append("<hr>")
        elif bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or (list_tag and list_tag != tag):
                flush()
            list_tag = tag
            items.append(render_inline((bullet or numbered).group(1)))
        elif line.lstrip().startswith(">"):
            flush()
            out.append(
                f"<blockquote><p>{render_inline(line.lstrip()[1:].strip())}</p></blockquote>"
            )
        elif items:
            items[-1] += " " + render_inline(line.strip())
        else:
            paragraph.append(line.strip())
    flush()
    return "\n".join(out)
