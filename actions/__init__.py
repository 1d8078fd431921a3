"""The practice's custom actions, one module per concern (loaded by the rasa-sdk action server)."""

from actions.fallback import ActionTwoStrikeFallback

__all__ = ["ActionTwoStrikeFallback"]
