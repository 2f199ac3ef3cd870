"""Accounts and sessions (DESIGN §6, §11): users, passwords, sign-in with throttling, and the
server-side sessions of the web app.

Use cases, like `services`: each write runs in one unit of work that rolls back unless the
whole use case succeeds, and the SQL stays in `store`.

- Sessions: a random token that only the browser holds (in an httpOnly cookie); the database
  keeps its SHA-256. A session ends after 8 hours without use or 7 days after sign-in, when
  its user signs out, changes or is given a new password (their other sessions), or is
  disabled (all of them).
- Throttling: 5 failed sign-ins for one user name within 15 minutes lock that name for 15
  minutes, whether or not the user exists; `unlock_user` lifts it. Every attempt is recorded
  as a failure before the password is checked (and forgotten when it succeeds), so parallel
  attempts cannot slip past the limit. A failed attempt costs one argon2 verification either
  way (unknown names are checked against a dummy hash), so its timing does not tell whether
  the user exists.
- Passwords: at least 10 characters, not only blanks, not the user name.
- The last enabled admin can be neither disabled nor demoted.

Every function that depends on the time takes `now` (default: the clock), so tests move time
instead of waiting.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incubator.access import USER_ROLES, Actor, Role
from incubator.chains import find_company
from incubator.messages import Message, message
from incubator.sites import require_registered
from incubator.stages import DomainError, InvalidInput
from incubator.store import Database, KeyTaken, UnitOfWork, UserRecord, UserRow
from incubator.values import clean_label, clean_text, isoformat, now_utc

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(days=7)
#: A session's last use is written at most this often (every page run checks the session).
TOUCH_EVERY = timedelta(minutes=1)
FAILURES_TO_LOCK = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
MAX_USER_NAME = 120
_USER_RE = re.compile(r"^[\w.@+-]{1,120}$")
#: The one refusal of a failed sign-in: it never tells whether the user exists.
WRONG_CREDENTIALS = "auth.failed"


class AuthenticationFailed(DomainError):
    """A sign-in that did not succeed (the message never tells whether the user exists)."""


class SignInLocked(AuthenticationFailed):
    """Too many failed sign-ins for a user name (known or not)."""

    def __init__(self, name: str, until: datetime) -> None:
        self.name, self.until = name, until
        super().__init__("auth.locked", name=name, until=until)


class AccountDisabled(AuthenticationFailed):
    """The right password for a disabled account."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__("auth.disabled", name=name)


class UnknownUser(DomainError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__("user.unknown", name=name)


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    name: str
    role: str
    site: str | None
    created_at: datetime
    disabled_at: datetime | None = None
    #: The company a `company` user speaks for (its key), None for the other roles.
    company: str | None = None
    last_sign_in_at: datetime | None = None
    password_changed_at: datetime | None = None
    locked_until: datetime | None = None
    sessions: int = 0

    @property
    def status(self) -> str:
        """`disabled`, `locked` (too many failed sign-ins) or `active`."""
        if self.disabled_at is not None:
            return "disabled"
        return "locked" if self.locked_until is not None else "active"

    @classmethod
    def of(
        cls, row: UserRecord, locked_until: datetime | None = None, sessions: int = 0
    ) -> UserView:
        return cls(
            name=row.name,
            role=row.role,
            site=row.site,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            last_sign_in_at=row.last_sign_in_at,
            password_changed_at=row.password_changed_at,
            company=row.company,
            locked_until=locked_until,
            sessions=sessions,
        )

    def to_json(self) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return isoformat(moment) if moment is not None else None

        return {
            "name": self.name,
            "role": self.role,
            "site": self.site,
            "company": self.company,
            "status": self.status,
            "created_at": isoformat(self.created_at),
            "last_sign_in_at": when(self.last_sign_in_at),
            "password_changed_at": when(self.password_changed_at),
            "disabled_at": when(self.disabled_at),
            "locked_until": when(self.locked_until),
            "sessions": self.sessions,
        }


@dataclass(frozen=True)
class SignedIn:
    """A new session: the token goes to the browser (and nowhere else)."""

    token: str
    actor: Actor
    expires_at: datetime


@dataclass(frozen=True)
class SessionView:
    """A live session: who it is, and until when it lasts at most."""

    actor: Actor
    expires_at: datetime
    idle_until: datetime


# --- rules (pure) --------------------------------------------------------------------------


def clean_user_name(name: str) -> str:
    """A user name as stored: trimmed, NFC, of letters, digits and . _ @ + - (1–120)."""
    name = unicodedata.normalize("NFC", clean_text(name, "field.user_name").strip())
    if not _USER_RE.fullmatch(name):
        raise InvalidInput("user.bad_name", name=name)
    return name


def check_password(name: str, password: str) -> None:
    """InvalidInput unless `password` may be the password of `name` (DESIGN §11). The
    message never shows the password."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("password.not_utf8") from None
    if "\x00" in password:
        raise InvalidInput("password.nul")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password.too_short", n=len(password), least=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password.too_long", n=len(password), most=MAX_PASSWORD_LENGTH)
    if not password.strip():
        raise InvalidInput("password.blank", least=MIN_PASSWORD_LENGTH)
    if password.strip().casefold() == name.strip().casefold():
        raise InvalidInput("password.is_name")


def parse_role(role: str) -> Role:
    try:
        value = Role(role.strip().lower())
    except ValueError:
        value = Role.OWNER
    if value not in USER_ROLES:
        raise InvalidInput("user.unknown_role", role=role, allowed=list(USER_ROLES))
    return value


def locked_until(failures: list[datetime], now: datetime) -> datetime | None:
    """When a name with these failed sign-ins (oldest first) is unlocked, or None if it is
    not locked at `now`: 5 failures within 15 minutes lock it for 15 minutes after the
    last of them."""
    if len(failures) < FAILURES_TO_LOCK:
        return None
    last = failures[-1]
    until = last + LOCK_TIME
    if now >= until:
        return None
    recent = [f for f in failures if f >= last - FAILURE_WINDOW]
    return until if len(recent) >= FAILURES_TO_LOCK else None


def _attempt_key(name: str) -> str:
    """The name a sign-in attempt is counted under (any text, even one no user may have)."""
    return unicodedata.normalize("NFC", name.strip())[:MAX_USER_NAME]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _hasher() -> Any:
    """argon2id with the library's default cost (tests make it cheaper; see conftest)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: Any) -> str:
    """A hash of a password nobody has, made with the same parameters as real ones: unknown
    user names are verified against it, so that they cost as much as known ones."""
    cost = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if cost not in _dummy_hashes:
        _dummy_hashes[cost] = str(hasher.hash(secrets.token_urlsafe(24)))
    return _dummy_hashes[cost]


def _verify(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


def _require_user(uow: UnitOfWork, name: str, *, lock: bool = False) -> UserRecord:
    row = uow.user_record(name.strip(), lock=lock)
    if row is None:
        raise UnknownUser(name.strip())
    return row


def _require_known_site(uow: UnitOfWork, site: str) -> None:
    """A user's site must be a registry site (a typo would tie a manager to none)."""
    require_registered(uow, site)


def _bound_company(uow: UnitOfWork, role: Role, company: str | None) -> str | None:
    """The key a user of `role` is bound to: a company user must name an existing company
    (found in any letter case, stored as its key); no other role may name one."""
    if role is not Role.COMPANY:
        if company:
            raise InvalidInput("user.company_not_company_role", role=role, company=company)
        return None
    if not company:
        raise InvalidInput("user.company_needed")
    return find_company(uow, company).key


def _locked_for_admin_change(uow: UnitOfWork, name: str) -> tuple[UserRecord, list[str]]:
    """The account `name` and the enabled admins, with their rows locked (admins first, in
    one order, so that two admins demoting each other at once wait for each other)."""
    admins = uow.enabled_admins(lock=True)
    return _require_user(uow, name, lock=True), admins


def _keep_an_admin(row: UserRecord, admins: list[str], what: Message) -> None:
    """Refuse to leave the database without an enabled admin."""
    if row.role != Role.ADMIN.value or row.disabled_at is not None:
        return
    if not [n for n in admins if n != row.name]:
        raise InvalidInput("user.last_admin", what=what, name=row.name)


# --- users ---------------------------------------------------------------------------------


def add_user(
    db: Database,
    name: str,
    *,
    role: str,
    password: str,
    actor: Actor,
    site: str | None = None,
    company: str | None = None,
) -> UserView:
    """Create a user account (admins only; the CLI acts as the database owner). A `company`
    user names the key of an existing company (`company`) and has no site."""
    actor.require_admin(message("action.manage_users"))
    name = clean_user_name(name)
    role_value = parse_role(role)
    check_password(name, password)
    site = clean_label(site or "", "field.site") or None
    company = clean_label(company or "", "field.company") or None
    if role_value is Role.COMPANY and site is not None:
        raise InvalidInput("user.company_site", site=site)
    password_hash = _hasher().hash(password)
    now = now_utc()
    with db.unit(write=True) as uow:
        if uow.user(name) is not None:
            raise InvalidInput("user.exists", name=name)
        if site is not None:
            _require_known_site(uow, site)
        company = _bound_company(uow, role_value, company)
        uow.add(
            UserRow(
                name=name,
                role=role_value.value,
                site=site,
                company=company,
                password_hash=password_hash,
                created_at=now,
                password_changed_at=now,
            )
        )
        try:
            uow.commit()
        except KeyTaken:
            raise InvalidInput("user.exists", name=name) from None
    return UserView(name, role_value.value, site, now, password_changed_at=now, company=company)


def list_users(
    db: Database, *, actor: Actor | None = None, now: datetime | None = None
) -> list[UserView]:
    """Every account with its status (active, disabled, locked) and last sign-in."""
    if actor is not None:
        actor.require_read_all(message("action.list_users"))
    now = now or now_utc()
    with db.unit() as uow:
        rows = uow.users()
        failures = uow.sign_in_failures([r.name for r in rows], now - FAILURE_WINDOW - LOCK_TIME)
        sessions = uow.open_sessions_by_user(now)
    return [
        UserView.of(r, locked_until(failures.get(r.name, []), now), sessions.get(r.id, 0))
        for r in rows
    ]


def get_user(db: Database, name: str, *, now: datetime | None = None) -> UserView:
    now = now or now_utc()
    with db.unit() as uow:
        row = _require_user(uow, name)
        failures = uow.sign_in_failures([row.name], now - FAILURE_WINDOW - LOCK_TIME)
        sessions = uow.open_sessions_by_user(now)
    return UserView.of(row, locked_until(failures.get(row.name, []), now), sessions.get(row.id, 0))


def set_user(
    db: Database,
    name: str,
    *,
    actor: Actor,
    role: str | None = None,
    site: str | None = None,
    company: str | None = None,
) -> UserView:
    """Change a user's role, site and/or company (admins only). `site=""` means all sites;
    None leaves it as it is. A `company` user is bound to an existing company (`company`,
    kept when the role stays `company`); another role has none. The last enabled admin
    cannot be demoted."""
    actor.require_admin(message("action.manage_users"))
    if role is None and site is None and company is None:
        raise InvalidInput("user.nothing_to_change")
    role_value = parse_role(role) if role is not None else None
    new_site = (clean_label(site, "field.site") or None) if site is not None else None
    new_company = (clean_label(company, "field.company") or None) if company is not None else None
    with db.unit(write=True) as uow:
        row, admins = _locked_for_admin_change(uow, name)
        values: dict[str, Any] = {}
        if role_value is not None and role_value.value != row.role:
            if role_value is not Role.ADMIN:
                _keep_an_admin(
                    row, admins, message("action.make_role", name=row.name, role=role_value)
                )
            values["role"] = row.role = role_value.value
        if site is not None and new_site != row.site:
            if new_site is not None:
                _require_known_site(uow, new_site)
            values["site"] = row.site = new_site
        final_role = Role(row.role)
        wanted = new_company if company is not None else row.company
        if final_role is not Role.COMPANY and company is None:
            wanted = None  # leaving the company role unbinds the company
        bound = _bound_company(uow, final_role, wanted)
        if final_role is Role.COMPANY and row.site is not None:
            raise InvalidInput("user.company_site", site=row.site)
        if bound != row.company:
            values["company"] = row.company = bound
        if values:
            uow.update_user(row.id, values)
            uow.commit()
    return UserView.of(row)


def disable_user(db: Database, name: str, *, actor: Actor, now: datetime | None = None) -> int:
    """Disable an account (admins only): it cannot sign in and its sessions end at once.
    The last enabled admin cannot be disabled. Returns how many sessions were ended."""
    actor.require_admin(message("action.manage_users"))
    now = now or now_utc()
    with db.unit(write=True) as uow:
        row, admins = _locked_for_admin_change(uow, name)
        if row.disabled_at is not None:
            raise InvalidInput("user.disabled_already", name=row.name)
        _keep_an_admin(row, admins, message("action.disable_user", name=row.name))
        uow.update_user(row.id, {"disabled_at": now})
        ended = uow.end_sessions(now, user_id=row.id)
        uow.commit()
    return ended


def enable_user(db: Database, name: str, *, actor: Actor) -> UserView:
    """Enable a disabled account again (admins only)."""
    actor.require_admin(message("action.manage_users"))
    with db.unit(write=True) as uow:
        row = _require_user(uow, name, lock=True)
        if row.disabled_at is None:
            raise InvalidInput("user.enabled_already", name=row.name)
        uow.update_user(row.id, {"disabled_at": None})
        uow.commit()
        row.disabled_at = None
    return UserView.of(row)


def unlock_user(db: Database, name: str, *, actor: Actor, now: datetime | None = None) -> bool:
    """Lift the sign-in lock of a user name (admins only; any name, since unknown names are
    locked too). Returns whether it was locked."""
    actor.require_admin(message("action.manage_users"))
    now = now or now_utc()
    key = _attempt_key(name)
    with db.unit(write=True) as uow:
        uow.lock_sign_in_name(key)
        failures = uow.sign_in_failures([key], now - FAILURE_WINDOW - LOCK_TIME).get(key, [])
        was_locked = locked_until(failures, now) is not None
        uow.clear_sign_in_failures(key)
        uow.commit()
    return was_locked


# --- passwords -----------------------------------------------------------------------------


def reset_password(
    db: Database,
    name: str,
    password: str,
    *,
    actor: Actor,
    keep_token: str | None = None,
    now: datetime | None = None,
) -> int:
    """Give a user a new password (admins only). Every session of that user ends, except
    `keep_token` (an admin resetting their own password stays signed in there). Returns
    how many sessions were ended."""
    actor.require_admin(message("action.manage_users"))
    now = now or now_utc()
    with db.unit() as uow:
        user_name = _require_user(uow, name).name
    check_password(user_name, password)
    return _store_password(db, user_name, _hasher().hash(password), now, keep_token)


def change_password(
    db: Database,
    actor: Actor,
    current: str,
    new: str,
    *,
    keep_token: str | None = None,
    now: datetime | None = None,
) -> int:
    """A signed-in user changes their own password, giving the current one. Their other
    sessions end; `keep_token` (the session they do it from) stays. Returns how many
    sessions were ended."""
    now = now or now_utc()
    with db.unit() as uow:
        row = _require_user(uow, actor.name)
    if not _verify(row.password_hash, current):
        raise InvalidInput("password.wrong_current")
    check_password(row.name, new)
    if current == new:
        raise InvalidInput("password.unchanged")
    return _store_password(db, row.name, _hasher().hash(new), now, keep_token)


def _store_password(
    db: Database, name: str, password_hash: str, now: datetime, keep_token: str | None
) -> int:
    with db.unit(write=True) as uow:
        row = _require_user(uow, name, lock=True)
        uow.update_user(row.id, {"password_hash": password_hash, "password_changed_at": now})
        keep = _token_hash(keep_token) if keep_token else None
        ended = uow.end_sessions(now, user_id=row.id, keep_hash=keep)
        uow.commit()
    return ended


# --- signing in and sessions ---------------------------------------------------------------


def sign_in(db: Database, name: str, password: str, *, now: datetime | None = None) -> SignedIn:
    """Check a user name and password and open a session.

    AuthenticationFailed ("wrong user name or password") when either is wrong, SignInLocked
    while the name is locked, AccountDisabled for the right password of a disabled account.
    """
    now = now or now_utc()
    key = _attempt_key(name)
    if not key or not password:
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    # 1. The throttle: refuse a locked name, else count this attempt as a failure until it
    #    succeeds (one transaction per name at a time, so parallel attempts count too).
    with db.unit(write=True) as uow:
        uow.lock_sign_in_name(key)
        since = now - FAILURE_WINDOW - LOCK_TIME
        until = locked_until(uow.sign_in_failures([key], since).get(key, []), now)
        if until is not None:
            raise SignInLocked(key, until)
        uow.add_sign_in_failure(key, now)
        uow.prune_sign_in_failures(since)
        row = uow.user_record(key)
        uow.commit()
    # 2. One argon2 verification, against a dummy hash when there is no such user.
    stored = row.password_hash if row is not None else _dummy_hash(_hasher())
    matches = _verify(stored, password)
    if row is None or not matches:
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    if row.disabled_at is not None:
        raise AccountDisabled(row.name)
    # 3. Success: forget the failures, open the session.
    token = secrets.token_urlsafe(32)
    with db.unit(write=True) as uow:
        current = uow.user_record(row.name, lock=True)
        if current is None or current.password_hash != row.password_hash:
            raise AuthenticationFailed(WRONG_CREDENTIALS)  # changed meanwhile
        if current.disabled_at is not None:
            raise AccountDisabled(row.name)
        uow.clear_sign_in_failures(key)
        uow.insert_session(
            {
                "token_hash": _token_hash(token),
                "user_id": current.id,
                "created_at": now,
                "last_seen_at": now,
                "expires_at": now + SESSION_MAX,
                "ended_at": None,
            }
        )
        uow.update_user(current.id, {"last_sign_in_at": now})
        uow.commit()
    actor = Actor(
        name=current.name, role=Role(current.role), site=current.site, company=current.company
    )
    return SignedIn(token, actor, now + SESSION_MAX)


def check_session(db: Database, token: str | None, *, now: datetime | None = None) -> SessionView:
    """The live session of `token`, with its user as they are now (role and site changes
    apply at once). AuthenticationFailed when there is none: never was, signed out, idle
    for 8 hours, older than 7 days, or its user is disabled. Records the use (at most once
    a minute)."""
    now = now or now_utc()
    if not isinstance(token, str) or not token or len(token) > 200:
        raise AuthenticationFailed("auth.not_signed_in")
    digest = _token_hash(token)
    with db.unit() as uow:
        found = uow.session_of(digest)
    if (
        found is None
        or found.ended_at is not None
        or found.disabled_at is not None
        or now >= found.expires_at
        or now >= found.last_seen_at + SESSION_IDLE
    ):
        raise AuthenticationFailed("auth.session_ended")
    last_seen = found.last_seen_at
    if now - last_seen >= TOUCH_EVERY:
        with db.unit(write=True) as uow:
            uow.touch_session(found.id, now)
            uow.commit()
        last_seen = now
    actor = Actor(name=found.name, role=Role(found.role), site=found.site, company=found.company)
    return SessionView(actor, found.expires_at, min(found.expires_at, last_seen + SESSION_IDLE))


def session_actor(db: Database, token: str | None, *, now: datetime | None = None) -> Actor | None:
    """The signed-in actor of `token`, or None when it has no live session."""
    try:
        return check_session(db, token, now=now).actor
    except AuthenticationFailed:
        return None


def sign_out(db: Database, token: str | None, *, now: datetime | None = None) -> bool:
    """End the session of `token` on the server (every tab that uses it is signed out on
    its next run). Returns whether a live session was ended."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return False
    now = now or now_utc()
    with db.unit(write=True) as uow:
        ended = uow.end_sessions(now, token_hash=_token_hash(token))
        uow.commit()
    return ended > 0
