"""Use cases: one function per thing a person can do, shared by the CLI and the UI.

Every write runs in one unit of work that rolls back unless the whole use case succeeds,
so a refused action writes nothing. Rules come from `stages` (the ladder), `access` (who
may act) and `audit` (the hash chain); SQL stays in `store`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from incubator import audit
from incubator.access import Actor
from incubator.accounts import (  # noqa: F401  (re-exported: the entrypoints' one door)
    AccountDisabled,
    AuthenticationFailed,
    SessionView,
    SignedIn,
    SignInLocked,
    UnknownUser,
    UserView,
    add_user,
    change_password,
    check_session,
    disable_user,
    enable_user,
    get_user,
    list_users,
    reset_password,
    session_actor,
    set_user,
    sign_in,
    sign_out,
    unlock_user,
)
from incubator.auditing import (  # noqa: F401  (re-exported: the entrypoints' one door)
    AuditFailed,
    AuditKeyMismatch,
    AuditResult,
    verify_audit,
    write_checkpoint,
    writing_key,
)
from incubator.eventlog import (  # noqa: F401  (re-exported: the entrypoints' one door)
    CSV_COLUMNS,
    EXPORT_COLUMNS,
    ImportProblem,
    ImportRejected,
    ImportResult,
    Progress,
    export_events,
    export_ocel,
    export_workbook,
    export_xes,
    import_events,
)
from incubator.messages import message
from incubator.stages import (
    LADDER,
    NEW,
    AmbiguousKey,
    CompanyState,
    Conflict,
    DuplicateCompany,
    EventKind,
    InvalidInput,
    Stage,
    UnknownCompany,
    allowed_move_list,
    driving,
    parse_reason,
    parse_stage,
    stage_param,
)
from incubator.store import (
    CompanyRecord,
    Database,
    EventRecord,
    KeyTaken,
    UnitOfWork,
)
from incubator.values import (
    CLOCK_SKEW,
    check_cohort,
    check_event_time,
    clean_key,
    clean_label,
    clean_name,
    clean_note,
    clean_text,
    fold_key,
    isoformat,
    lookup_key,
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


# --- helpers -------------------------------------------------------------------------------


def _effective(at: datetime | None, now: datetime, previous: datetime | None) -> datetime:
    """The effective time of a new event: `at`, or now when not given (but never before the
    previous event, which may lie up to the clock skew ahead); never in the future, never
    before 1980-01-01."""
    if previous is not None and previous > now + CLOCK_SKEW:
        raise InvalidInput("time.previous_in_future", previous=previous)
    if at is None:
        return now if previous is None else max(now, previous)
    check_event_time(at, now)
    if previous is not None and at < previous:
        raise InvalidInput("time.before_previous", at=at, previous=previous, now=now)
    return at


def _actor_name(actor: Actor) -> str:
    return clean_label(actor.name, "field.actor", required=True)


def _find(uow: UnitOfWork, key: str, *, lock: bool = False) -> CompanyRecord:
    """The company `key` names: the one with exactly this key, else the one whose key is the
    same ignoring case (`jm-0042` finds `JM-0042`). UnknownCompany when none; AmbiguousKey,
    naming them, when several keys differ from it only by case."""
    given = lookup_key(key)
    row = uow.company(given, lock=lock)
    if row is not None:
        return row
    folded = fold_key(given)
    matches = sorted(k for k in uow.keys_ignoring_case(given) if fold_key(k) == folded)
    if not matches:
        raise UnknownCompany(given)
    if len(matches) > 1:
        raise AmbiguousKey(given, matches)
    row = uow.company(matches[0], lock=lock)
    if row is None:  # deleted in between (a read unit of work sees one snapshot)
        raise UnknownCompany(given)
    return row


def _refuse_case_twin(uow: UnitOfWork, key: str) -> None:
    """DuplicateCompany when a company's key differs from the new `key` only by case: keys are
    unique whatever their case (`jm-0042` would find `JM-0042`)."""
    folded = fold_key(key)
    for other in sorted(k for k in uow.keys_ignoring_case(key) if fold_key(k) == folded):
        row = uow.company(other)
        if row is not None:
            raise DuplicateCompany(key, row.stage, other=other)


def _locked(uow: UnitOfWork, key: str) -> CompanyRecord:
    return _find(uow, key, lock=True)


def _record(
    uow: UnitOfWork,
    company: CompanyRecord,
    kind: EventKind,
    to_stage: str,
    moment: datetime,
    actor: str,
    note: str,
    reason: str | None,
    now: datetime,
    key: bytes | None,
) -> EventView:
    """Append one event to the company's chain; keep the company row and spells in step.

    Runs under the company's lock, so the chain head read here is still the head. `key` is
    the audit key checked by `writing_key`."""
    from_stage = None if kind is EventKind.ADMIT else company.stage
    seq = company.event_count + 1
    event: dict[str, Any] = {
        "seq": seq,
        "kind": kind.value,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "effective_at": moment,
        "recorded_at": now,
        "actor": actor,
        "note": note,
        "reason": reason,
    }
    digest = audit.chain_hash(company.head_hash, {**event, "company_key": company.key}, key)
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
        company.key, seq, kind.value, from_stage, to_stage, moment, now, actor, note,
        reason, digest,
    )  # fmt: skip


def _record_fact(
    uow: UnitOfWork,
    company: CompanyRecord,
    kind: str,
    fields: dict[str, Any],
    actor: str,
    note: str,
    now: datetime,
    key: bytes | None,
) -> None:
    """Append one record to the company's fact chain and move the row's fact head (the
    caller updates the columns the record changes). Runs under the company's lock."""
    seq = company.fact_count + 1
    payload = audit.payload_json(fields)
    digest = audit.fact_hash(
        company.fact_head, company.key, seq, kind, payload, now, actor, note, key
    )
    try:
        uow.insert_fact(
            {
                "company_id": company.id, "seq": seq, "kind": kind, "payload": payload,
                "recorded_at": now, "actor": actor, "note": note,
                "prev_hash": company.fact_head, "hash": digest,
            }
        )  # fmt: skip
    except KeyTaken:
        raise _raced(company.key) from None
    uow.update_company(company.id, {"fact_count": seq, "fact_head": digest})
    company.fact_count, company.fact_head = seq, digest


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
    try:
        name = clean_name(name)
        clean_note(note)
        target = parse_stage(stage)
        code = normalize_uscc(uscc)
        sector = clean_label(sector, "field.sector")
        site = clean_label(site, "field.site")
        by = _actor_name(actor)
        now = now_utc()
        moment = _effective(parse_instant(at) if at else None, now, None)
    except InvalidInput as exc:
        raise InvalidInput("admit.refused", key=key, cause=exc) from None
    actor.require_write(site, message("action.admit", key=key))
    with db.unit(write=True) as uow:
        hmac_key = writing_key(uow)
        existing = uow.company(key, lock=True)
        if existing is not None:
            raise DuplicateCompany(key, existing.stage)
        _refuse_case_twin(uow, key)
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
            "fact_count": 0,
            "fact_head": audit.GENESIS,
        }
        try:
            company_id = uow.insert_company(values)
        except KeyTaken:
            raise DuplicateCompany(key, message("where.pipeline")) from None
        row = CompanyRecord(id=company_id, **values)
        profile = {"name": name, "sector": sector, "site": site, "uscc": code}
        _record_fact(uow, row, audit.PROFILE, profile, by, "", now, hmac_key)
        view = _record(
            uow, row, EventKind.ADMIT, target.value, moment, by, note, None, now, hmac_key
        )
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
    return _move(db, key, EventKind.EXIT, actor=actor, seen=seen, note=note, at=at, reason=reason)


def set_profile(
    db: Database,
    key: str,
    *,
    actor: Actor,
    name: str | None = None,
    sector: str | None = None,
    site: str | None = None,
    uscc: str | None = None,
    note: str = "",
) -> CompanyView:
    """Change a company's name, sector, site or USCC (None: keep; an empty USCC clears it).

    Appends a profile record to the company's record chain and updates the company row and
    its spells (which copy site and sector) in one transaction. A manager may change only
    companies of their site, and move one to another site only if they manage both."""
    key = lookup_key(key)
    try:
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = clean_name(name)
        if sector is not None:
            changes["sector"] = clean_label(sector, "field.sector")
        if site is not None:
            changes["site"] = clean_label(site, "field.site")
        if uscc is not None:
            changes["uscc"] = normalize_uscc(uscc)
        clean_note(note)
        by = _actor_name(actor)
        if not changes:
            raise InvalidInput("profile.nothing")
    except InvalidInput as exc:
        raise InvalidInput("profile.refused", key=key, cause=exc) from None
    with db.unit(write=True) as uow:
        hmac_key = writing_key(uow)
        row = _locked(uow, key)
        actor.require_write(row.site, message("action.change", key=row.key))
        changed = {f: v for f, v in changes.items() if getattr(row, f) != v}
        if not changed:
            raise InvalidInput("profile.unchanged", key=row.key)
        if "site" in changed:
            actor.require_write(
                changed["site"], message("action.move_site", key=row.key, site=changed["site"])
            )
        now = now_utc()
        _record_fact(uow, row, audit.PROFILE, changed, by, note, now, hmac_key)
        uow.update_company(row.id, changed)
        for field, value in changed.items():
            setattr(row, field, value)
        if "site" in changed or "sector" in changed:
            uow.relabel_spells(row.id, site=row.site, sector=row.sector)
        _commit(uow, row.key)
    return CompanyView.of(row)


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
    with db.unit(write=True) as uow:
        hmac_key = writing_key(uow)
        row = _locked(uow, key)
        try:
            seen_stage = parse_stage(seen, ladder_only=False).value if seen else None
            why = parse_reason(reason).value if kind is EventKind.EXIT else None
            clean_note(note)
            by = _actor_name(actor)
            # "now" is read under the lock, so a default time never precedes the event that
            # the writer before us recorded.
            now = now_utc()
            moment = _effective(parse_instant(at) if at else None, now, row.last_event_at)
        except InvalidInput as exc:
            raise InvalidInput(
                "move.refused", kind=kind, key=row.key, stage=stage_param(row.stage), cause=exc
            ) from None
        actor.require_write(row.site, message("action.move", kind=kind, key=row.key))
        if seen_stage is not None and seen_stage != row.stage:
            raise Conflict(row.key, seen_stage, row.stage, allowed_move_list(row.stage))
        with driving(CompanyState(row.key, row.stage)) as life:
            dest = life.fire(kind)
        view = _record(uow, row, kind, dest, moment, by, note, why, now, hmac_key)
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
    """The company `key` names (its case need not match; see `_find`)."""
    with db.unit() as uow:
        return CompanyView.of(_find(uow, key))


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
    _check_filters(site=site, sector=sector, cohort=cohort)
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
    _check_filters(site=site, sector=sector, cohort=cohort, search=search)
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
    _check_filters(search=query)
    with db.unit() as uow:
        found = uow.companies(search=query, limit=limit)
        total = sum(uow.count_by_stage(search=query).values())
    return [CompanyView.of(r) for r in found], total


def _check_filters(cohort: int | None = None, **texts: str | None) -> None:
    """Refuse filter values no database can compare (NUL, stray bytes) and impossible cohorts."""
    for what, value in texts.items():
        if value:
            clean_text(value, f"field.filter.{what}")
    if cohort is not None:
        check_cohort(cohort)


def history(db: Database, key: str) -> list[EventView]:
    with db.unit() as uow:
        row = _find(uow, key)
        return [EventView.of(row.key, e) for e in uow.events_of(row.id)]


def filter_options(db: Database) -> dict[str, list[Any]]:
    """Sites, sectors and cohorts present in the database (for filter pickers)."""
    with db.unit() as uow:
        sites, sectors, cohorts = uow.sites_and_sectors()
    return {"sites": sites, "sectors": sectors, "cohorts": cohorts}


def audit_log(db: Database, **filters: Any) -> list[dict[str, Any]]:
    """The newest events matching the filters (see `UnitOfWork.audit_events`): `company`
    matches part of a key or name in any case, `actor` one actor exactly."""
    _check_filters(company=filters.get("company"), actor=filters.get("actor"))
    with db.unit() as uow:
        return uow.audit_events(**filters)


# --- settings ------------------------------------------------------------------------------


def get_setting(db: Database, key: str) -> str | None:
    with db.unit() as uow:
        return uow.setting(key)


def put_setting(db: Database, key: str, value: str, *, actor: Actor) -> None:
    actor.require_admin(message("action.change_setting", setting=key))
    with db.unit(write=True) as uow:
        uow.put_setting(key, value)
        uow.commit()
