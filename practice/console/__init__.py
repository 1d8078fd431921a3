"""The coaches' review console: conversation list, transcripts, review marks, exports, dashboard.

A Sanic process of its own (`python -m practice.console`) reading Rasa's `events` table and
keeping its own `console_*` tables in the same database.
"""
