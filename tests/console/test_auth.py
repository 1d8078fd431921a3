"""Accounts: Argon2 hashes, lockout, sessions, roles, and the accounts command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from practice.console import auth, db
from practice.settings import PROJECT_ROOT
from practice.store.database import create_engine

PASSWORD = "a long enough password"


@pytest.fixture
def engine(tmp_path: Path):
    """A fresh SQLite database with the console's tables."""
    engine = create_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    db.ensure_schema(engine)
    yield engine
    engine.dispose()


def test_passwords_are_stored_as_argon2_hashes(engine) -> None:
    auth.create_account(engine, "Sam", PASSWORD, "coach")
    with engine.connect() as connection:
        stored = connection.execute(sa.select(db.accounts.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    "username, password, role",
    [
        ("x", PASSWORD, "coach"),  # too short a name
        ("sam smith", PASSWORD, "coach"),  # space
        ("sam", "short", "coach"),
        ("sam", PASSWORD, "admin"),
    ],
)
def test_unusable_accounts_are_refused(engine, username: str, password: str, role: str) -> None:
    with pytest.raises(auth.AccountError):
        auth.create_account(engine, username, password, role)


def test_a_taken_username_is_refused(engine) -> None:
    auth.create_account(engine, "sam", PASSWORD, "coach")
    with pytest.raises(auth.AccountError, match="exists"):
        auth.create_account(engine, "SAM", PASSWORD, "staff")


def test_lockout_after_repeated_failures_then_unlock(engine) -> None:
    auth.create_account(engine, "sam", PASSWORD, "coach")
    now = 1_000_000.0

    def attempt(password: str, at: float) -> str:
        return auth.authenticate(engine, "sam", password, 3, 900, now=at).outcome

    assert [attempt("wrong", now + i) for i in range(3)] == ["invalid", "invalid", "locked"]
    assert attempt(PASSWORD, now + 10) == "locked"  # even the right password waits
    assert attempt(PASSWORD, now + 2 + 901) == "ok"  # the lock runs out
    assert [attempt("wrong", now + 1000 + i) for i in range(3)][-1] == "locked"
    auth.update_account(engine, "sam", unlock=True)
    assert attempt(PASSWORD, now + 1010) == "ok"


def test_a_success_resets_the_failure_count(engine) -> None:
    auth.create_account(engine, "sam", PASSWORD, "coach")
    for _ in range(2):
        auth.authenticate(engine, "sam", "wrong", 3, 900)
    assert auth.authenticate(engine, "sam", PASSWORD, 3, 900).outcome == "ok"
    assert auth.authenticate(engine, "sam", "wrong", 3, 900).outcome == "invalid"


def test_unknown_and_disabled_users_are_invalid(engine) -> None:
    assert auth.authenticate(engine, "nobody", PASSWORD, 3, 900).outcome == "invalid"
    auth.create_account(engine, "sam", PASSWORD, "coach")
    auth.update_account(engine, "sam", active=False)
    assert auth.authenticate(engine, "sam", PASSWORD, 3, 900).outcome == "invalid"


def test_sessions_expire_and_end_on_password_change(engine) -> None:
    account = auth.create_account(engine, "sam", PASSWORD, "coach")
    token = auth.start_session(engine, account, hours=1, now=1000.0)
    session = auth.load_session(engine, token, now=1000.0 + 3599)
    assert session is not None and session.account.username == "sam" and session.csrf_token
    assert auth.load_session(engine, token, now=1000.0 + 3601) is None
    assert auth.load_session(engine, token + "x", now=1001.0) is None
    fresh = auth.start_session(engine, account, hours=1)
    auth.update_account(engine, "sam", password="another long password")
    assert auth.load_session(engine, fresh) is None
    with engine.connect() as connection:
        stored = connection.execute(sa.select(db.sessions.c.token_hash)).scalars().all()
    assert fresh not in stored  # only hashes of tokens are kept


def test_staff_reach_coach_pages_but_not_the_reverse() -> None:
    assert auth.role_allows("staff", "coach") and auth.role_allows("staff", "staff")
    assert auth.role_allows("coach", "coach") and not auth.role_allows("coach", "staff")
    assert not auth.role_allows("visitor", "coach")
    assert auth.role_allows("coach", None)


def _accounts(tmp_path: Path, *args: str, stdin: str = "", password: str = ""):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "HOME": str(tmp_path)}
    if password:
        env["CONSOLE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "practice.console.accounts", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=60,
    )


def test_accounts_command_reads_the_password_from_stdin_or_the_environment(tmp_path: Path) -> None:
    made = _accounts(tmp_path, "create", "--username", "kim", "--role", "staff", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    made = _accounts(tmp_path, "create", "--username", "lee", "--role", "coach", password="from the environment")
    assert made.returncode == 0, made.stderr
    again = _accounts(tmp_path, "create", "--username", "kim", "--role", "staff", stdin=PASSWORD)
    assert again.returncode == 1 and "exists" in again.stderr
    quiet = _accounts(tmp_path, "create", "--username", "kim", "--role", "staff", "--if-missing")
    assert quiet.returncode == 0
    assert _accounts(tmp_path, "list").stdout.splitlines() == ["kim\tstaff", "lee\tcoach"]
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        assert auth.authenticate(engine, "kim", PASSWORD, 5, 60).outcome == "ok"
        assert auth.authenticate(engine, "lee", "from the environment", 5, 60).outcome == "ok"
    finally:
        engine.dispose()
    short = _accounts(tmp_path, "set-password", "--username", "kim", stdin="short\n")
    assert short.returncode == 1 and "at least" in short.stderr
