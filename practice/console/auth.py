"""Console accounts: Argon2 password hashes, roles, lockout after failed logins, sessions."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from practice.console.db import accounts, sessions
from practice.store.database import Bind, transaction

ROLES = ("coach", "staff")
# Staff can do all a coach can, and more: a role's rank says what it may reach.
_RANK = {"coach": 1, "staff": 2}
MIN_PASSWORD_LENGTH = 10
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")

# OWASP's Argon2id minimum (19 MiB, 2 passes, 1 lane): ~50 ms a sign-in on this class of
# machine, where argon2-cffi's default (64 MiB, 4 lanes) takes ten times that on 2 cores.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both cases take the same time."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A username, role or password that cannot be used."""


@dataclass(frozen=True)
class Account:
    """A console user, without the password hash."""

    id: int
    username: str
    role: str
    active: bool
    failed_logins: int
    locked_until: Optional[float]
    last_login_at: Optional[float]


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt: `ok`, `invalid` or `locked`."""

    outcome: str
    account: Optional[Account] = None
    locked_until: Optional[float] = None


@dataclass(frozen=True)
class Session:
    """A signed-in user and the CSRF token their forms must carry."""

    account: Account
    csrf_token: str
    expires_at: float


def role_allows(role: str, required: Optional[str]) -> bool:
    """True when `role` may reach a page that needs `required` (None: anyone signed in)."""
    return required is None or _RANK.get(role, 0) >= _RANK.get(required, 99)


def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    return _hasher.hash(password)


def check_username(username: str) -> str:
    """The normalised username, or AccountError."""
    name = username.strip().lower()
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_CHARS:
        raise AccountError("username: 2-64 characters from a-z 0-9 . _ - @")
    return name


def check_password(password: str) -> str:
    """The password, or AccountError when it is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _account(row: sa.engine.Row) -> Account:
    return Account(
        row.id, row.username, row.role, bool(row.active), row.failed_logins, row.locked_until, row.last_login_at
    )


def create_account(bind: Bind, username: str, password: str, role: str) -> Account:
    """Create an account; AccountError if the name is taken or a value is unusable.

    On a connection it joins the caller's transaction (the console writes the audit entry in
    the same one).
    """
    name = check_username(username)
    if role not in ROLES:
        raise AccountError(f"role: one of {', '.join(ROLES)}")
    check_password(password)
    with transaction(bind) as connection:
        taken = connection.execute(sa.select(accounts.c.id).where(accounts.c.username == name)).first()
        if taken:
            raise AccountError(f"account {name!r} exists (use set-password to change it)")
        connection.execute(
            accounts.insert().values(
                username=name,
                password_hash=hash_password(password),
                role=role,
                active=True,
                created_at=time.time(),
                failed_logins=0,
            )
        )
        account = _get_account(connection, name)
    assert account is not None
    return account


def get_account(engine: Engine, username: str) -> Optional[Account]:
    """The account with this username, or None."""
    with engine.connect() as connection:
        return _get_account(connection, username)


def _get_account(connection: Connection, username: str) -> Optional[Account]:
    row = connection.execute(sa.select(accounts).where(accounts.c.username == username.strip().lower())).first()
    return _account(row) if row else None


def list_accounts(engine: Engine) -> list[Account]:
    """Every account, by username."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(accounts).order_by(accounts.c.username)).fetchall()
    return [_account(r) for r in rows]


def update_account(
    bind: Bind,
    username: str,
    *,
    password: Optional[str] = None,
    role: Optional[str] = None,
    active: Optional[bool] = None,
    unlock: bool = False,
) -> Account:
    """Change an account's password, role or active flag, or lift its lockout (on a
    connection, inside the caller's transaction)."""
    values: dict = {}
    if password is not None:
        values["password_hash"] = hash_password(check_password(password))
    if role is not None:
        if role not in ROLES:
            raise AccountError(f"role: one of {', '.join(ROLES)}")
        values["role"] = role
    if active is not None:
        values["active"] = active
    if unlock or password is not None:
        values.update(failed_logins=0, locked_until=None)
    name = username.strip().lower()
    with transaction(bind) as connection:
        found = connection.execute(accounts.update().where(accounts.c.username == name).values(**values)).rowcount
        if not found:
            raise AccountError(f"no account {name!r}")
        if password is not None or active is False or role is not None:
            # A changed password, role or a disabled account ends every open session.
            ids = sa.select(accounts.c.id).where(accounts.c.username == name)
            connection.execute(sessions.delete().where(sessions.c.account_id.in_(ids)))
        account = _get_account(connection, name)
    assert account is not None
    return account


def authenticate(
    engine: Engine, username: str, password: str, max_attempts: int, lockout_seconds: float, now: Optional[float] = None
) -> LoginResult:
    """Check a password; count failures and lock the account after `max_attempts` in a row."""
    now = time.time() if now is None else now
    name = username.strip().lower()
    with engine.begin() as connection:
        query = sa.select(accounts).where(accounts.c.username == name)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None or not row.active:
            _verify(_dummy_hash(), password)
            return LoginResult("invalid")
        if row.locked_until and row.locked_until > now:
            _verify(row.password_hash, password)  # as long as any other answer takes
            return LoginResult("locked", locked_until=row.locked_until)
        if not _verify(row.password_hash, password):
            failures = row.failed_logins + 1
            values: dict = {"failed_logins": failures}
            if failures >= max_attempts:
                values = {"failed_logins": 0, "locked_until": now + lockout_seconds}
            connection.execute(accounts.update().where(accounts.c.id == row.id).values(**values))
            if "locked_until" in values:
                return LoginResult("locked", _account(row), values["locked_until"])
            return LoginResult("invalid", _account(row))
        values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = hash_password(password)
        connection.execute(accounts.update().where(accounts.c.id == row.id).values(**values))
    account = get_account(engine, name)
    return LoginResult("ok", account)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(engine: Engine, account: Account, hours: float, now: Optional[float] = None) -> str:
    """Open a session; return the secret token for the cookie."""
    now = time.time() if now is None else now
    token = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(sessions.delete().where(sessions.c.expires_at < now))
        connection.execute(
            sessions.insert().values(
                token_hash=_token_hash(token),
                account_id=account.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + hours * 3600,
            )
        )
    return token


def load_session(engine: Engine, token: Optional[str], now: Optional[float] = None) -> Optional[Session]:
    """The live session for a cookie token, or None (unknown, expired or account disabled)."""
    if not token or len(token) > 200:
        return None
    now = time.time() if now is None else now
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(sessions.c.csrf_token, sessions.c.expires_at, accounts)
            .join(accounts, accounts.c.id == sessions.c.account_id)
            .where(sessions.c.token_hash == _token_hash(token))
        ).first()
    if row is None or row.expires_at < now or not row.active:
        return None
    return Session(_account(row), row.csrf_token, row.expires_at)


def end_session(engine: Engine, token: Optional[str]) -> None:
    """Forget a session (logout)."""
    if token:
        with engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))


def tokens_match(expected: Optional[str], given: Optional[str]) -> bool:
    """Constant-time comparison of a CSRF token."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
