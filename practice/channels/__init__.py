"""The public doors into the assistant: the widget's channel and the guarded REST channel."""
