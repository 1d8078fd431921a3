"""Alembic's environment: runs the revisions on the connection `upgrade` hands over.

Started only through `practice.store.migrations` (the console, the accounts command,
retraining, or `python -m practice.store.migrations`), never by the `alembic` command.
"""

from __future__ import annotations

from alembic import context

from practice.store.migrations import VERSION_TABLE, include_object
from practice.store.migrations.models import project_metadata


def run() -> None:
    """Run the pending revisions in the caller's transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the migrations with `python -m practice.store.migrations`")
    context.configure(
        connection=connection,
        target_metadata=project_metadata(),
        include_object=include_object,
        version_table=VERSION_TABLE,
        # SQLite cannot alter a column: new revisions are written as batch operations,
        # which copy the table where the database needs it.
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
