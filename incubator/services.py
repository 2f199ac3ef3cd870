"""Use cases: one function per thing a person can do, shared by the CLI and the UI.

Every write runs in one unit of work that rolls back unless the whole use case succeeds,
so a refused action writes nothing. Rules come from `stages` (the ladder), `access` (who
may act) and `audit` (the hash chain); SQL stays in `store`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from incubator import audit
from incubator.access import USER_ROLES, Actor, Role
from incubator.eventlog import (  # noqa: F401  (re-exported: the entrypoints' one door)
    CSV_COLUMNS,
    EXPORT_COLUMNS,
    ImportProblem,
    ImportRejected,
    ImportResult,
    Progress,
    export_events,
    import_events,
)
from incubator.stages import (
    LADDER,
    NEW,
    CompanyState,
    Conflict,
    DomainError,
    DuplicateCompany,
    EventKind,
    InvalidInput,
    Stage,
    UnknownCompany,
    allowed_moves,
    allowed_triggers,
    driving,
    parse_reason,
    parse_stage,
)
from incubator.store import (
    CompanyRecord,
    Database,
    EventRecord,
    KeyTaken,
    UnitOfWork,
    UserRow,
)
from incubator.values import (
    CLOCK_SKEW,
    clean_key,
    clean_text,
    isoformat,
    normalize_uscc,
    now_utc,
    parse_instant,
    to_micros,
    year_month,
)

# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyView:
    key: str
    name: str
    stage: str
    sector: str
    site: str
    uscc: str | None
    entered_stage_at: datetime
    admitted_at: datetime
    cohort: int
    events: int

    @classmethod
    def of(cls, row: CompanyRecord) -> CompanyView:
        return cls(
            key=row.key,
            name=row.name,
            stage=row.stage,
            sector=row.sector,
            site=row.site,
            uscc=row.uscc,
            entered_stage_at=row.entered_stage_at,
            admitted_at=row.admitted_at,
            cohort=row.cohort,
            events=row.event_count,
        )

    def days_in_stage(self, as_of: datetime | None = None) -> float:
        return ((as_of or now_utc()) - self.entered_stage_at).total_seconds() / 86_400

    def allowed(self) -> list[EventKind]:
        """The moves the machine allows now (what `may_<trigger>` answers)."""
        return allowed_triggers(self.stage)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["entered_stage_at"] = isoformat(self.entered_stage_at)
        doc["admitted_at"] = isoformat(self.admitted_at)
        return doc


@dataclass(frozen=True)
class EventView:
    company_key: str
    seq: int
    kind: str
    from_stage: str | None
    to_stage: str
    effective_at: datetime
    recorded_at: datetime
    actor: str
    note: str
    reason: str | None
    hash: str

    @classmethod
    def of(cls, key: str, row: EventRecord) -> EventView:
        return cls(
            company_key=key,
            seq=row.seq,
            kind=row.kind,
            from_stage=row.from_stage,
            to_stage=row.to_stage,
            effective_at=row.effective_at,
            recorded_at=row.recorded_at,
            actor=row.actor,
            note=row.note,
            reason=row.reason,
            hash=row.hash,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "effective_at": isoformat(self.effective_at),
            "recorded_at": isoformat(self.recorded_at),
            "actor": self.actor,
            "note": self.note,
            "reason": self.reason,
        }

    def describe(self) -> str:
        move = f"{self.from_stage or '—'} → {self.to_stage}"
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.company_key}: {self.kind} {move}{why} at {isoformat(self.effective_at)}"


# --- helpers -------------------------------------------------------------------------------


def _when(at: datetime | None, now: datetime) -> datetime:
    """The effective time: `at`, or now when not given; never in the future."""
    moment = now if at is None else at
    if moment > now + CLOCK_SKEW:
        raise InvalidInput(
            f"effective time {isoformat(moment)} lies in the future; allowed: up to now "
            f"({isoformat(now)})"
        )
    return moment


def _not_before(key: str, moment: datetime, previous: datetime, now: datetime) -> None:
    if moment < previous:
        raise InvalidInput(
            f"effective time {isoformat(moment)} is before {key}'s previous event at "
            f"{isoformat(previous)}; allowed: from {isoformat(previous)} up to now ({isoformat(now)})"
        )


def _locked(uow: UnitOfWork, key: str) -> CompanyRecord:
    row = uow.company(clean_key(key), lock=True)
    if row is None:
        raise UnknownCompany(key.strip())
    return row


def _record(
    uow: UnitOfWork,
    company: CompanyRecord,
    kind: EventKind,
    to_stage: str,
    moment: datetime,
    actor: Actor,
    note: str,
    reason: str | None,
    now: datetime,
) -> EventView:
    """Append one event to the company's chain; keep the company row and spells in step.

    Runs under the company's lock, so the chain head read here is still the head."""
    from_stage = None if kind is EventKind.ADMIT else company.stage
    seq = company.event_count + 1
    event: dict[str, Any] = {
        "seq": seq,
        "kind": kind.value,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "effective_at": moment,
        "recorded_at": now,
        "actor": actor.name,
        "note": note,
        "reason": reason,
    }
    digest = audit.chain_hash(
        company.head_hash, {**event, "company_key": company.key}, audit.audit_key()
    )
    try:
        uow.insert_event(
            {**event, "company_id": company.id, "prev_hash": company.head_hash, "hash": digest}
        )
    except KeyTaken:
        raise _raced(company.key) from None
    us, ym = to_micros(moment), year_month(moment)
    if kind is not EventKind.ADMIT:
        end = {"end_us": us, "end_ym": ym, "end_kind": kind.value, "exit_reason": reason}
        uow.close_spell(company.id, end)
    if to_stage != Stage.EXITED:
        uow.open_spell_of(
            {
                "company_id": company.id,
                "stage": to_stage,
                "start_us": us,
                "start_ym": ym,
                "site": company.site,
                "sector": company.sector,
                "cohort": company.cohort,
            }
        )
    uow.update_company(
        company.id,
        {
            "stage": to_stage,
            "entered_stage_at": moment,
            "last_event_at": moment,
            "event_count": seq,
            "head_hash": digest,
        },
    )
    return EventView(
        company.key, seq, kind.value, from_stage, to_stage, moment, now, actor.name, note,
        reason, digest,
    )  # fmt: skip


# --- writes --------------------------------------------------------------------------------


def admit(
    db: Database,
    key: str,
    *,
    name: str,
    stage: str,
    actor: Actor,
    at: str | datetime | None = None,
    sector: str = "",
    site: str = "",
    uscc: str | None = None,
    note: str = "",
) -> EventView:
    """Admit a company into the ladder at `stage` (any rung; the first event of a company)."""
    key = clean_key(key)
    if not name or not name.strip():
        raise InvalidInput(f"{key} needs a name to be admitted")
    target = parse_stage(stage)
    code = normalize_uscc(uscc)
    for text, what in (
        (name, "the name"),
        (note, "the note"),
        (sector, "the sector"),
        (site, "the site"),
    ):
        clean_text(text, what)
    sector, site = sector.strip(), site.strip()
    actor.require_write(site, f"admit {key}")
    now = now_utc()
    moment = _when(parse_instant(at) if at else None, now)
    with db.unit(write=True) as uow:
        existing = uow.company(key, lock=True)
        if existing is not None:
            raise DuplicateCompany(key, existing.stage)
        with driving(CompanyState(key, NEW)) as life:
            life.fire(EventKind.ADMIT, target.value)
        values: dict[str, Any] = {
            "key": key,
            "name": name,
            "sector": sector,
            "site": site,
            "uscc": code,
            "stage": NEW,
            "entered_stage_at": moment,
            "admitted_at": moment,
            "last_event_at": moment,
            "cohort": moment.year,
            "event_count": 0,
            "head_hash": audit.GENESIS,
        }
        try:
            company_id = uow.insert_company(values)
        except KeyTaken:
            raise DuplicateCompany(key, "the pipeline") from None
        row = CompanyRecord(id=company_id, **values)
        view = _record(uow, row, EventKind.ADMIT, target.value, moment, actor, note, None, now)
        _commit(uow, key)
    return view


def advance(
    db: Database,
    key: str,
    *,
    actor: Actor,
    seen: str | None = None,
    note: str = "",
    at: str | datetime | None = None,
) -> EventView:
    """Move a company exactly one stage forward."""
    return _move(db, key, EventKind.ADVANCE, actor=actor, seen=seen, note=note, at=at)


def exit_company(
    db: Database,
    key: str,
    *,
    reason: str,
    actor: Actor,
    seen: str | None = None,
    note: str = "",
    at: str | datetime | None = None,
) -> EventView:
    """Take a company out of the pipeline, with one of the exit reasons."""
    why = parse_reason(reason)
    return _move(
        db, key, EventKind.EXIT, actor=actor, seen=seen, note=note, at=at, reason=why.value
    )


def _move(
    db: Database,
    key: str,
    kind: EventKind,
    *,
    actor: Actor,
    seen: str | None,
    note: str,
    at: str | datetime | None,
    reason: str | None = None,
) -> EventView:
    seen_stage = parse_stage(seen, ladder_only=False).value if seen else None
    clean_text(note, "the note")
    explicit = parse_instant(at) if at else None
    with db.unit(write=True) as uow:
        row = _locked(uow, key)
        # "now" is read under the lock, so a default time never precedes the event that the
        # writer before us recorded.
        now = now_utc()
        moment = _when(explicit, now)
        actor.require_write(row.site, f"{kind.value} {row.key}")
        if seen_stage is not None and seen_stage != row.stage:
            raise Conflict(row.key, seen_stage, row.stage, allowed_moves(row.stage))
        with driving(CompanyState(row.key, row.stage)) as life:
            dest = life.fire(kind)
        _not_before(row.key, moment, row.last_event_at, now)
        view = _record(uow, row, kind, dest, moment, actor, note, reason, now)
        _commit(uow, row.key)
    return view


def _commit(uow: UnitOfWork, key: str) -> None:
    try:
        uow.commit()
    except KeyTaken:
        raise _raced(key) from None


def _raced(key: str) -> Conflict:
    """A unique constraint caught a concurrent writer that the lock did not stop."""
    return Conflict.raced(key)


# --- reads ---------------------------------------------------------------------------------


def show(db: Database, key: str) -> CompanyView:
    with db.unit() as uow:
        row = uow.company(clean_key(key))
        if row is None:
            raise UnknownCompany(key.strip())
        return CompanyView.of(row)


def list_companies(
    db: Database,
    *,
    stage: str | None = None,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
) -> list[CompanyView]:
    """Companies ordered by key; `stage` may also be `exited`."""
    stage_value = parse_stage(stage, ladder_only=False).value if stage else None
    with db.unit() as uow:
        rows = uow.companies(stage=stage_value, site=site, sector=sector, cohort=cohort)
    return [CompanyView.of(r) for r in rows]


@dataclass(frozen=True)
class BoardColumn:
    """One stage of the pipeline board: how many companies are there now and the ones that
    have been there longest (at most `per_stage`)."""

    stage: Stage
    total: int
    companies: list[CompanyView]

    @property
    def more(self) -> int:
        return self.total - len(self.companies)


def board(
    db: Database,
    *,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
    search: str = "",
    per_stage: int = 50,
) -> list[BoardColumn]:
    """The pipeline board, one column per ladder stage, longest in stage first."""
    with db.unit() as uow:
        totals = uow.count_by_stage(site=site, sector=sector, cohort=cohort, search=search)
        return [
            BoardColumn(
                stage,
                totals.get(stage.value, 0),
                [
                    CompanyView.of(r)
                    for r in uow.companies(
                        stage=stage.value,
                        site=site,
                        sector=sector,
                        cohort=cohort,
                        search=search,
                        longest_in_stage_first=True,
                        limit=per_stage,
                    )  # fmt: skip
                ],
            )
            for stage in LADDER
        ]


def search_companies(db: Database, query: str, *, limit: int = 50) -> tuple[list[CompanyView], int]:
    """Companies whose key or name contains `query` (case-insensitive), by key: the first
    `limit` of them and how many match in all."""
    with db.unit() as uow:
        found = uow.companies(search=query, limit=limit)
        total = sum(uow.count_by_stage(search=query).values())
    return [CompanyView.of(r) for r in found], total


def history(db: Database, key: str) -> list[EventView]:
    with db.unit() as uow:
        row = uow.company(clean_key(key))
        if row is None:
            raise UnknownCompany(key.strip())
        return [EventView.of(row.key, e) for e in uow.events_of(row.id)]


def filter_options(db: Database) -> dict[str, list[Any]]:
    """Sites, sectors and cohorts present in the database (for filter pickers)."""
    with db.unit() as uow:
        sites, sectors, cohorts = uow.sites_and_sectors()
    return {"sites": sites, "sectors": sectors, "cohorts": cohorts}


def audit_log(db: Database, **filters: Any) -> list[dict[str, Any]]:
    with db.unit() as uow:
        return uow.audit_events(**filters)


# --- audit ---------------------------------------------------------------------------------


@dataclass
class AuditResult:
    ok: bool
    events: int
    companies: int
    company_key: str | None = None
    seq: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.events} events in {self.companies} companies verified"
        where = f"{self.company_key}" + (f" event #{self.seq}" if self.seq else "")
        return f"FAILED: {where}: {self.problem}"


def verify_audit(db: Database, *, progress: Progress | None = None) -> AuditResult:
    """Recompute every company's hash chain and compare it with the stored one: each event's
    hash, its link to the previous one, and the company's chain head and event count (which
    catch a deleted last event)."""
    with db.unit() as uow:
        heads = uow.chain_heads()
        total = uow.count_events()
        with closing(uow.iter_event_rows()) as rows:
            return _check_chains(rows, heads, audit.audit_key(), total, progress)


def _check_chains(
    rows: Iterable[dict[str, Any]],
    heads: dict[str, tuple[str, int]],
    key: bytes | None,
    total: int,
    progress: Progress | None,
) -> AuditResult:
    checked, companies = 0, len(heads)

    def failed(company: str, seq: int | None, problem: str) -> AuditResult:
        return AuditResult(False, checked, companies, company, seq, problem)

    def head_mismatch(company: str, running: str, count: int) -> AuditResult | None:
        head, recorded = heads.pop(company)
        if running == head and count == recorded:
            return None
        return failed(
            company,
            None,
            f"chain head does not match: the company records {recorded} events ending in "
            f"{head[:12]}…, the log has {count} ending in {running[:12]}… "
            "(an event was deleted or added outside the tracker)",
        )

    current: str | None = None
    running, seq = audit.GENESIS, 0
    for r in rows:
        company = r["company_key"]
        if company != current:
            if current is not None and (failure := head_mismatch(current, running, seq)):
                return failure
            current, running, seq = company, audit.GENESIS, 0
        seq += 1
        if r["seq"] != seq or r["prev_hash"] != running:
            return failed(
                company,
                r["seq"],
                f"event id {r['event_id']} breaks the chain (expected event #{seq} after the "
                "previous hash); an event was removed or reordered",
            )
        digest = audit.chain_hash(running, r, key)
        if digest != r["hash"]:
            return failed(
                company,
                r["seq"],
                f"event id {r['event_id']} ({r['kind']} at {isoformat(r['effective_at'])}) does "
                "not match its hash: its recorded fields were changed",
            )
        running = digest
        checked += 1
        if progress and checked % 20_000 == 0:
            progress("verifying", checked, total)
    if current is not None and (failure := head_mismatch(current, running, seq)):
        return failure
    if heads:
        company, (_head, recorded) = min(heads.items())
        return failed(company, None, f"the company records {recorded} events but the log has none")
    if progress:
        progress("verifying", checked, total)
    return AuditResult(True, checked, companies)


# --- users ---------------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 10
_USER_RE = re.compile(r"^[\w.@+-]{1,120}$")


@dataclass(frozen=True)
class UserView:
    name: str
    role: str
    site: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "site": self.site,
            "created_at": isoformat(self.created_at),
        }


class AuthenticationFailed(DomainError):
    pass


def add_user(
    db: Database, name: str, *, role: str, password: str, actor: Actor, site: str | None = None
) -> UserView:
    """Create a user account (admins only; the CLI acts as the database owner)."""
    from argon2 import PasswordHasher

    actor.require_admin("manage users")
    name = name.strip()
    if not _USER_RE.match(name):
        raise InvalidInput(
            f"user name {name!r} is not allowed; use 1–120 letters, digits and . _ @ + -"
        )
    try:
        role_value = Role(role.strip().lower())
    except ValueError:
        role_value = Role.OWNER
    if role_value not in USER_ROLES:
        raise InvalidInput(
            f"unknown role {role!r}; allowed: {', '.join(r.value for r in USER_ROLES)}"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password is too short ({len(password)} characters); "
            f"at least {MIN_PASSWORD_LENGTH} are required"
        )
    site = site.strip() if site and site.strip() else None
    now = now_utc()
    with db.unit(write=True) as uow:
        if uow.user(name) is not None:
            raise InvalidInput(f"user {name!r} already exists; user names are unique")
        row = UserRow(
            name=name,
            role=role_value.value,
            site=site,
            password_hash=PasswordHasher().hash(password),
            created_at=now,
        )
        uow.add(row)
        try:
            uow.commit()
        except KeyTaken:
            raise InvalidInput(f"user {name!r} already exists; user names are unique") from None
    return UserView(name, role_value.value, site, now)


def list_users(db: Database) -> list[UserView]:
    with db.unit() as uow:
        return [UserView(u.name, u.role, u.site, u.created_at) for u in uow.users()]


def authenticate(db: Database, name: str, password: str) -> Actor:
    """The actor for a user name and password; AuthenticationFailed otherwise."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    with db.unit() as uow:
        row = uow.user(name.strip())
    hasher = PasswordHasher()
    if row is None:
        raise AuthenticationFailed("wrong user name or password")
    try:
        hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationFailed("wrong user name or password") from None
    return Actor(name=row.name, role=Role(row.role), site=row.site)


# --- settings ------------------------------------------------------------------------------


def get_setting(db: Database, key: str) -> str | None:
    with db.unit() as uow:
        return uow.setting(key)


def put_setting(db: Database, key: str, value: str, *, actor: Actor) -> None:
    actor.require_admin(f"change the setting {key}")
    with db.unit(write=True) as uow:
        uow.put_setting(key, value)
        uow.commit()
