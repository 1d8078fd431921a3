"""The tables the project's code declares, gathered for the migrations to compare with.

The console's tables are declared in `practice/console/db.py`, the NLU inbox's in
`practice/retrain/store.py`; both also declare Rasa's `events`, which is left out here.
"""

from __future__ import annotations

import sqlalchemy as sa

from practice.console import db
from practice.retrain import store
from practice.store.events import EVENTS_TABLE


def project_metadata() -> sa.MetaData:
    """One MetaData holding every table the project owns (console_*), none of Rasa's."""
    gathered = sa.MetaData()
    for source in (db.metadata, store.metadata):
        for table in source.sorted_tables:
            if table.name != EVENTS_TABLE:
                table.to_metadata(gathered)
    return gathered
