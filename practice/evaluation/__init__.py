"""Runs the blind test sets through the assistant and scores each category on its own."""
