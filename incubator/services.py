"""Use cases: one function per thing a person can do, shared by the CLI and the UI.

Every write runs in one unit of work that rolls back unless the whole use case succeeds,
so a refused action writes nothing. Rules come from `stages` (the ladder), `evidence` (the
gates on its moves), `access` (who may act) and `audit` (the hash chain); SQL stays in
`store`. The evidence use cases (facts, gate checks, the policy) live in `facts`, the other
areas' in `accounts`, `auditing` and `eventlog`; all are re-exported here, the entrypoints'
one door.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from incubator import audit
from incubator.access import Actor
from incubator.access import read_all as _read_all
from incubator.access import read_company as _read_company
from incubator.access import read_found as _read_found
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
from incubator.chains import (
    actor_name,
    append_record,
    commit,
    find_company,
    lock_company,
    raced,
)
from incubator.csvfiles import read_bytes
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
from incubator.evidence import (  # noqa: F401  (re-exported: the entrypoints' one door)
    FOUNDED,
    CompanyFacts,
    Evidence,
    GateOutcome,
    GateRefused,
    PolicyError,
    clean_override,
    new_founding,
    parse_day,
)
from incubator.factlog import (  # noqa: F401  (re-exported: the entrypoints' one door)
    FactImportResult,
    export_facts,
    export_facts_workbook,
    import_facts,
    is_facts_file,
)
from incubator.facts import (  # noqa: F401  (re-exported: the entrypoints' one door)
    POLICY_SETTING,
    FactsView,
    GateView,
    PolicyView,
    RecordView,
    current_policy,
    facts,
    gate_check,
    gate_checks,
    move_evidence,
    policy_set,
    policy_show,
    record_figures,
    record_financing,
    record_founding,
    record_milestone,
    record_qualification,
    records,
    revoke_qualification,
    write_record,
)
from incubator.messages import message
from incubator.reports import (  # noqa: F401  (re-exported: the entrypoints' one door)
    TorchReport,
    kpi,
    list_targets,
    set_target,
    torch_report,
)
from incubator.sites import (  # noqa: F401  (re-exported: the entrypoints' one door)
    SiteFigures,
    SiteKind,
    SiteLevel,
    SiteView,
    add_site,
    list_sites,
    register_sites,
    require_registered,
    set_figures,
    set_site,
    site_names,
)
from incubator.stages import (
    LADDER,
    NEW,
    CompanyState,
    Conflict,
    DuplicateCompany,
    EventKind,
    InvalidInput,
    Stage,
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
    #: The date the business was registered, when known (a `founded` record).
    founded_on: date | None = None

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
            founded_on=row.founded_on,
        )

    def days_in_stage(self, as_of: datetime | None = None) -> float:
        return ((as_of or now_utc()) - self.entered_stage_at).total_seconds() / 86_400

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["entered_stage_at"] = isoformat(self.entered_stage_at)
        doc["admitted_at"] = isoformat(self.admitted_at)
        doc["founded_on"] = self.founded_on.isoformat() if self.founded_on else None
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
    #: The gate's outcome (DESIGN §8): `{"stage", "mode", "passed", "met", "unmet",
    #: "override"}`, or None when no gate applied (ungated steps, exits, imported history).
    gate: dict[str, Any] | None = None

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
            gate=_gate_doc(row.gate),
        )

    @property
    def override(self) -> str | None:
        """The reason the gate was overridden, if it was."""
        return self.gate.get("override") if self.gate else None

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
            "gate": self.gate,
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


#: The write primitives under their old names (see `incubator.chains`).
_find, _locked, _record_fact, _commit, _actor_name, _raced = (
    find_company, lock_company, append_record, commit, actor_name, raced,
)  # fmt: skip


def _refuse_case_twin(uow: UnitOfWork, key: str) -> None:
    """DuplicateCompany when a company's key differs from the new `key` only by case: keys are
    unique whatever their case (`jm-0042` would find `JM-0042`)."""
    folded = fold_key(key)
    for other in sorted(k for k in uow.keys_ignoring_case(key) if fold_key(k) == folded):
        row = uow.company(other)
        if row is not None:
            raise DuplicateCompany(key, row.stage, other=other)


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
    gate: dict[str, Any] | None = None,
    *,
    commit: bool = False,
) -> EventView:
    """Append one event to the company's chain; keep the company row and spells in step.

    Runs under the company's lock, so the chain head read here is still the head. `key` is
    the audit key checked by `writing_key`; `gate` the gate's outcome, recorded in the event
    and its hash. With `commit` the unit of work commits with it (the event is its last
    write; on PostgreSQL that saves a round trip)."""
    from_stage = None if kind is EventKind.ADMIT else company.stage
    seq = company.event_count + 1
    gate_text = audit.payload_json(gate) if gate is not None else None
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
        "gate": gate_text,
    }
    digest = audit.chain_hash(company.head_hash, {**event, "company_key": company.key}, key)
    us, ym = to_micros(moment), year_month(moment)
    close = (
        None
        if kind is EventKind.ADMIT
        else {"end_us": us, "end_ym": ym, "end_kind": kind.value, "exit_reason": reason}
    )
    spell = (
        None
        if to_stage == Stage.EXITED
        else {
            "stage": to_stage, "start_us": us, "start_ym": ym, "site": company.site,
            "sector": company.sector, "cohort": company.cohort,
        }
    )  # fmt: skip
    try:
        uow.record_event(
            {**event, "company_id": company.id, "prev_hash": company.head_hash, "hash": digest},
            close,
            spell,
            {
                "stage": to_stage,
                "entered_stage_at": moment,
                "last_event_at": moment,
                "event_count": seq,
                "head_hash": digest,
            },
            commit=commit,
        )
    except KeyTaken:
        raise _raced(company.key) from None
    return EventView(
        company.key, seq, kind.value, from_stage, to_stage, moment, now, actor, note,
        reason, digest, _gate_doc(gate_text),
    )  # fmt: skip


#: The keys of a recorded gate outcome, in the order DESIGN §8 shows them.
_GATE_KEYS = ("stage", "mode", "passed", "met", "unmet", "override")


def _gate_doc(text: str | None) -> dict[str, Any] | None:
    """A stored gate outcome (canonical JSON, keys sorted) in §8's order."""
    if text is None:
        return None
    stored = json.loads(text)
    return {k: stored[k] for k in _GATE_KEYS if k in stored} | stored


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
    founded: str | date | None = None,
    override: str | None = None,
) -> EventView:
    """Admit a company into the ladder at `stage` (any rung; the first event of a company).

    `founded` (the date its business was registered) is recorded as a fact. Admitting into a
    gated stage passes its gate (DESIGN §8) on the USCC and founding date given, or
    `override` (a reason of 10+ characters) lets it in; the event records the outcome."""
    key = clean_key(key)
    try:
        name = clean_name(name)
        clean_note(note)
        target = parse_stage(stage)
        code = normalize_uscc(uscc)
        sector = clean_label(sector, "field.sector")
        site = clean_label(site, "field.site")
        by = _actor_name(actor)
        reason = clean_override(override)
        now = now_utc()
        moment = _effective(parse_instant(at) if at else None, now, None)
        founding = new_founding(founded, evidence=None, now=now) if founded else None
    except InvalidInput as exc:
        raise InvalidInput("admit.refused", key=key, cause=exc) from None
    actor.require_write(site, message("action.admit", key=key))
    with db.unit(write=True) as uow:
        hmac_key = writing_key(uow)
        existing = uow.company(key, lock=True)
        if existing is not None:
            raise DuplicateCompany(key, existing.stage)
        _refuse_case_twin(uow, key)
        try:
            require_registered(uow, site)
        except InvalidInput as exc:
            raise InvalidInput("admit.refused", key=key, cause=exc) from None
        founded_on = date.fromisoformat(founding["founded_on"]) if founding else None
        evidence = Evidence(
            current_policy(uow),
            moment.astimezone(UTC).date(),
            CompanyFacts(key, uscc=code, founded_on=founded_on),
            reason,
        )
        with driving(CompanyState(key, NEW)) as life:
            life.fire(EventKind.ADMIT, target.value, evidence=evidence)
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
        if founding is not None:
            write_record(uow, row, FOUNDED, founding, by, "", now, hmac_key)
        view = _record(
            uow, row, EventKind.ADMIT, target.value, moment, by, note, None, now, hmac_key,
            evidence.recorded(),
        )  # fmt: skip
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
    override: str | None = None,
) -> EventView:
    """Move a company exactly one stage forward.

    Entering a gated stage passes its gate (DESIGN §8) on the company's facts as of the
    move's date, or is refused (`GateRefused`, naming each unmet criterion with the company's
    own figure) unless `override` gives a reason of 10+ characters; the event records the
    gate's outcome."""
    return _move(
        db, key, EventKind.ADVANCE, actor=actor, seen=seen, note=note, at=at, override=override
    )


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
    founded: str | date | None = None,
) -> CompanyView:
    """Change a company's name, sector, site or USCC (None: keep; an empty USCC clears it),
    or record its founding date (`founded`, a `founded` record).

    Appends a profile record (and a founding record) to the company's record chain and
    updates the company row and its spells (which copy site and sector) in one transaction.
    A manager may change only companies of their site, and move one to another site only if
    they manage both."""
    key = lookup_key(key)
    try:
        founding = new_founding(founded, evidence=None, now=now_utc()) if founded else None
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
        if not changes and founding is None:
            raise InvalidInput("profile.nothing")
    except InvalidInput as exc:
        raise InvalidInput("profile.refused", key=key, cause=exc) from None
    with db.unit(write=True) as uow:
        hmac_key = writing_key(uow)
        row = _locked(uow, key)
        actor.require_write(row.site, message("action.change", key=row.key))
        changed = {f: v for f, v in changes.items() if getattr(row, f) != v}
        if founding is not None and row.founded_on == date.fromisoformat(founding["founded_on"]):
            founding = None
        if not changed and founding is None:
            raise InvalidInput("profile.unchanged", key=row.key)
        if "site" in changed:
            actor.require_write(
                changed["site"], message("action.move_site", key=row.key, site=changed["site"])
            )
            try:
                require_registered(uow, changed["site"])
            except InvalidInput as exc:
                raise InvalidInput("profile.refused", key=row.key, cause=exc) from None
        now = now_utc()
        if changed:
            _record_fact(uow, row, audit.PROFILE, changed, by, note, now, hmac_key)
            uow.update_company(row.id, changed)
        for field, value in changed.items():
            setattr(row, field, value)
        if "site" in changed or "sector" in changed:
            uow.relabel_spells(row.id, site=row.site, sector=row.sector)
        if founding is not None:
            write_record(uow, row, FOUNDED, founding, by, note, now, hmac_key)
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
    override: str | None = None,
) -> EventView:
    with db.unit(write=True) as uow:
        # The company of exactly this key is read (and locked) with the settings that
        # `writing_key` checks, in one go; a key given in another case is looked up after.
        try:
            exact = uow.company_to_move(lookup_key(key))
        except InvalidInput:
            exact = None  # refused by `_locked`, after the audit key is checked
        hmac_key = writing_key(uow)
        row = exact if exact is not None else _locked(uow, key)
        try:
            seen_stage = parse_stage(seen, ladder_only=False).value if seen else None
            why = parse_reason(reason).value if kind is EventKind.EXIT else None
            clean_note(note)
            by = _actor_name(actor)
            overridden = clean_override(override)
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
        evidence = move_evidence(uow, row, moment, overridden)
        with driving(CompanyState(row.key, row.stage)) as life:
            dest = life.fire(kind, evidence=evidence)
        return _record(
            uow, row, kind, dest, moment, by, note, why, now, hmac_key, evidence.recorded(),
            commit=True,
        )  # fmt: skip


# --- reads ---------------------------------------------------------------------------------


def show(db: Database, key: str, *, actor: Actor | None = None) -> CompanyView:
    """The company `key` names (its case need not match; see `_find`)."""
    _read_company(actor, key)
    with db.unit() as uow:
        row = _find(uow, key)
    _read_found(actor, row.key)
    return CompanyView.of(row)


def list_companies(
    db: Database,
    *,
    actor: Actor | None = None,
    stage: str | None = None,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
) -> list[CompanyView]:
    """Companies ordered by key; `stage` may also be `exited`."""
    _read_all(actor, message("action.list_companies"))
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
    actor: Actor | None = None,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
    search: str = "",
    per_stage: int = 50,
) -> list[BoardColumn]:
    """The pipeline board, one column per ladder stage, longest in stage first."""
    _read_all(actor, message("action.list_companies"))
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


def search_companies(
    db: Database, query: str, *, actor: Actor | None = None, limit: int = 50
) -> tuple[list[CompanyView], int]:
    """Companies whose key or name contains `query` (case-insensitive), by key: the first
    `limit` of them and how many match in all."""
    _read_all(actor, message("action.list_companies"))
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


def history(db: Database, key: str, *, actor: Actor | None = None) -> list[EventView]:
    _read_company(actor, key)
    with db.unit() as uow:
        row = _find(uow, key)
        _read_found(actor, row.key)
        return [EventView.of(row.key, e) for e in uow.events_of(row.id)]


def filter_options(db: Database, *, actor: Actor | None = None) -> dict[str, list[Any]]:
    """Sites, sectors and cohorts present in the database (for filter pickers)."""
    _read_all(actor, message("action.list_companies"))
    with db.unit() as uow:
        sites, sectors, cohorts = uow.sites_and_sectors()
    return {"sites": sites, "sectors": sectors, "cohorts": cohorts}


def audit_log(db: Database, *, reader: Actor | None = None, **filters: Any) -> list[dict[str, Any]]:
    """The newest events matching the filters (see `UnitOfWork.audit_events`): `company`
    matches part of a key or name in any case, `actor` one actor exactly, `overrides_only`
    the moves whose gate was overridden; `gate` is the stored gate outcome (JSON text).
    `reader` (not `actor`, which is a filter) is who reads: a company user is refused."""
    _read_all(reader, message("action.read_audit"))
    _check_filters(company=filters.get("company"), actor=filters.get("actor"))
    with db.unit() as uow:
        return uow.audit_events(**filters)


def record_log(
    db: Database, *, reader: Actor | None = None, **filters: Any
) -> list[dict[str, Any]]:
    """The newest company records — profile changes and evidence (facts) — matching the
    filters (see `UnitOfWork.audit_records`: `company_key`, `company`, `actor`, `kind`),
    newest first; `fields` is each record's payload as a mapping. `reader` is who reads: a
    company user is refused."""
    _read_all(reader, message("action.read_audit"))
    _check_filters(company=filters.get("company"), actor=filters.get("actor"))
    with db.unit() as uow:
        found = uow.audit_records(**filters)
    for row in found:
        row["fields"] = json.loads(row.pop("payload"))
    return found


# --- import --------------------------------------------------------------------------------


def import_file(
    db: Database,
    data: bytes | str | Path | IO[bytes],
    *,
    actor: Actor,
    source: str | None = None,
    progress: Progress | None = None,
) -> ImportResult | FactImportResult:
    """Import a CSV file of either kind, told apart by its header: a facts file (it has a
    `fact` column: `import_facts`) or an event log (`import_events`)."""
    if source is None and isinstance(data, Path):
        source = str(data)
    if isinstance(data, Path) and not is_facts_file(_head(data)):
        # an event log is read from the file in pieces (`import_events`), never whole
        return import_events(db, data, actor=actor, source=source, progress=progress)
    raw = read_bytes(data)
    load = import_facts if is_facts_file(raw) else import_events
    return load(db, raw, actor=actor, source=source, progress=progress)


def _head(path: Path) -> bytes:
    """The first 64 KiB of a file, enough for its header (b"" if it cannot be read: the
    import then names the problem)."""
    try:
        with path.open("rb") as handle:
            return handle.read(64 * 1024)
    except OSError:
        return b""


# --- settings ------------------------------------------------------------------------------


def get_setting(db: Database, key: str) -> str | None:
    with db.unit() as uow:
        return uow.setting(key)


def put_setting(db: Database, key: str, value: str, *, actor: Actor) -> None:
    actor.require_admin(message("action.change_setting", setting=key))
    with db.unit(write=True) as uow:
        uow.put_setting(key, value)
        uow.commit()
