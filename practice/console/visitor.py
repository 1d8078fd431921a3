"""What a stored `user` event is: the visitor's own words, a button they clicked, or a trigger.

Rasa stores three kinds of `user` events that look alike: text the visitor typed, the payload
of a button the server offered and the visitor clicked (an intent command such as
`/ask_apply`; the channels strip a typed leading `/` and keep the verbatim text in
`original_text`), and events the widget or the server triggered without the visitor (the
greeting when the widget opens: Rasa's `trigger_intent`, text `EXTERNAL: greet`, metadata
`is_external`). Only the first is visitor text; the first two mean the visitor did something.
"""

from __future__ import annotations

from typing import Any, Mapping

TYPED = "typed"
CLICKED = "clicked"
EXTERNAL = "external"
# rasa.shared.core.constants.EXTERNAL_MESSAGE_PREFIX and IS_EXTERNAL.
EXTERNAL_PREFIX = "EXTERNAL: "
IS_EXTERNAL = "is_external"


def origin(data: Mapping[str, Any]) -> str:
    """TYPED, CLICKED or EXTERNAL for a `user` event's stored data (its JSON, parsed)."""
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    text = data.get("text")
    if metadata.get(IS_EXTERNAL) or not isinstance(text, str) or not text.strip():
        return EXTERNAL
    if text.startswith(EXTERNAL_PREFIX):
        return EXTERNAL
    if text.lstrip().startswith("/") and "original_text" not in metadata:
        return CLICKED
    return TYPED


def safety_flagged(data: Mapping[str, Any]) -> bool:
    """True when the safety guard attached a non-empty `safety` list to the parse data."""
    parse_data = data.get("parse_data")
    if not isinstance(parse_data, Mapping):
        return False
    safety = parse_data.get("safety")
    return isinstance(safety, list) and len(safety) > 0
