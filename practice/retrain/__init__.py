"""Retraining from real conversations: the NLU inbox, the YAML round trip, the gate, promotion.

`python -m practice.retrain retrain|rollback|status|sync` (the Makefile's `make retrain`,
`make rollback`); the console's inbox pages live in `practice.console.views.retrain`.
See docs/RETRAINING.md.
"""
