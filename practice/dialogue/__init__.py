"""The dialogue: what the assistant says on a turn, planned from NLU and the conversation."""

from practice.dialogue.policy import TurnPolicy

__all__ = ["TurnPolicy"]
