"""The console's first account: created once on an empty database, never again."""

from __future__ import annotations

from pathlib import Path

from practice.console import auth
from practice.console.accounts import ensure_first_account
from practice.settings import load_settings
from practice.store.database import create_engine


def test_first_account_is_created_once_and_can_sign_in(tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"})
    created = ensure_first_account(settings)
    assert created is not None
    username, password = created
    assert len(password) >= 16
    assert ensure_first_account(settings) is None, "a second run creates nothing"
    engine = create_engine(settings.database_url)
    try:
        accounts = auth.list_accounts(engine)
        assert [(a.username, a.role) for a in accounts] == [(username, "staff")]
        assert auth.authenticate(engine, username, password, 5, 15.0).outcome == "ok"
    finally:
        engine.dispose()


def test_first_account_takes_the_configured_password(tmp_path: Path) -> None:
    settings = load_settings(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CONSOLE_PASSWORD": "a-long-seeded-password"}
    )
    assert ensure_first_account(settings) == ("admin", "a-long-seeded-password")
