"""Use cases: one function per thing a person can do, shared by the CLI and the UI.

Every write runs in one unit of work that rolls back unless the whole use case succeeds,
so a refused action writes nothing. Rules come from `stages` (the ladder), `access` (who
may act) and `audit` (the hash chain); SQL stays in `store`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from incubator import audit
from incubator.access import USER_ROLES, Actor, Role
from incubator.stages import (
    NEW,
    CompanyState,
    Conflict,
    DomainError,
    DuplicateCompany,
    EventKind,
    InvalidInput,
    InvalidTransition,
    Lifecycle,
    Stage,
    UnknownCompany,
    allowed_moves,
    parse_reason,
    parse_stage,
    resolve,
)
from incubator.store import CompanyRow, Database, EventRow, KeyTaken, SpellRow, UnitOfWork, UserRow
from incubator.values import (
    CLOCK_SKEW,
    isoformat,
    normalize_uscc,
    now_utc,
    parse_instant,
    to_micros,
)

#: Called as progress(phase, done, total) during long work (import, export, audit).
Progress = Callable[[str, int, int], None]

MAX_KEY_LENGTH = 64
_KEY_RE = re.compile(r"^[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$")


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
    def of(cls, row: CompanyRow) -> CompanyView:
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
        from incubator.stages import allowed_triggers

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
    def of(cls, key: str, row: EventRow) -> EventView:
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


def _clean_key(key: str) -> str:
    key = key.strip()
    if not key:
        raise InvalidInput("a company key cannot be blank; e.g. JM-0042")
    if len(key) > MAX_KEY_LENGTH or not _KEY_RE.match(key):
        raise InvalidInput(
            f"company key {key!r} is not allowed: at most {MAX_KEY_LENGTH} printable characters"
        )
    return key


def _when(at: str | datetime | None, now: datetime) -> datetime:
    moment = now if at is None or at == "" else parse_instant(at)
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


def _ym(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


def _locked(uow: UnitOfWork, key: str) -> CompanyRow:
    row = uow.company(_clean_key(key), lock=True)
    if row is None:
        raise UnknownCompany(key.strip())
    return row


def _record(
    uow: UnitOfWork,
    row: CompanyRow,
    kind: EventKind,
    to_stage: str,
    moment: datetime,
    actor: Actor,
    note: str,
    reason: str | None,
    now: datetime,
) -> EventView:
    """Append one event to the company's chain and keep the company row and spells in step."""
    assert row.id is not None
    from_stage = None if kind is EventKind.ADMIT else row.stage
    fields = {
        "company_key": row.key,
        "seq": row.event_count + 1,
        "kind": kind.value,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "effective_at": moment,
        "recorded_at": now,
        "actor": actor.name,
        "note": note,
        "reason": reason,
    }
    prev_hash = row.head_hash
    digest = audit.chain_hash(prev_hash, fields, audit.audit_key())
    event = EventRow(
        company_id=row.id,
        seq=fields["seq"],
        kind=kind.value,
        from_stage=from_stage,
        to_stage=to_stage,
        effective_at=moment,
        recorded_at=now,
        actor=actor.name,
        note=note,
        reason=reason,
        prev_hash=prev_hash,
        hash=digest,
    )
    uow.add(event)
    if kind is not EventKind.ADMIT:
        spell = uow.open_spell(row.id)
        if spell is not None:
            spell.end_us = to_micros(moment)
            spell.end_ym = _ym(moment)
            spell.end_kind = kind.value
            spell.exit_reason = reason
            uow.add(spell)
    if to_stage != Stage.EXITED:
        uow.add(
            SpellRow(
                company_id=row.id,
                stage=to_stage,
                start_us=to_micros(moment),
                start_ym=_ym(moment),
                site=row.site,
                sector=row.sector,
                cohort=row.cohort,
            )
        )
    row.stage = to_stage
    row.entered_stage_at = moment
    row.last_event_at = moment
    row.event_count += 1
    row.head_hash = digest
    uow.add(row)
    return EventView.of(row.key, event)


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
    key = _clean_key(key)
    if not name or not name.strip():
        raise InvalidInput(f"{key} needs a name to be admitted")
    target = parse_stage(stage)
    code = normalize_uscc(uscc)
    sector, site = sector.strip(), site.strip()
    actor.require_write(site, f"admit {key}")
    now = now_utc()
    moment = _when(at, now)
    with db.unit(write=True) as uow:
        existing = uow.company(key, lock=True)
        if existing is not None:
            raise DuplicateCompany(key, existing.stage)
        with Lifecycle(CompanyState(key, NEW)) as life:
            life.fire(EventKind.ADMIT, target.value)
        row = CompanyRow(
            key=key,
            name=name,
            sector=sector,
            site=site,
            uscc=code,
            stage=NEW,
            entered_stage_at=moment,
            admitted_at=moment,
            last_event_at=moment,
            cohort=moment.year,
            event_count=0,
            head_hash=audit.GENESIS,
        )
        uow.add(row)
        try:
            uow.flush()
        except KeyTaken:
            raise DuplicateCompany(key, "the pipeline") from None
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
    now = now_utc()
    moment = _when(at, now)
    with db.unit(write=True) as uow:
        row = _locked(uow, key)
        actor.require_write(row.site, f"{kind.value} {row.key}")
        if seen_stage is not None and seen_stage != row.stage:
            raise Conflict(row.key, seen_stage, row.stage, allowed_moves(row.stage))
        with Lifecycle(CompanyState(row.key, row.stage)) as life:
            dest = life.fire(kind)
        _not_before(row.key, moment, row.last_event_at, now)
        view = _record(uow, row, kind, dest, moment, actor, note, reason, now)
        _commit(uow, row.key)
    return view


def _commit(uow: UnitOfWork, key: str) -> None:
    try:
        uow.commit()
    except KeyTaken:
        # The unique (company, seq) or key constraint caught a concurrent writer.
        raise Conflict(key, "the stage you saw", "a newer state", []) from None


# --- reads ---------------------------------------------------------------------------------


def show(db: Database, key: str) -> CompanyView:
    with db.unit() as uow:
        row = uow.company(_clean_key(key))
        if row is None:
            raise UnknownCompany(key.strip())
        return CompanyView.of(row)


def list_companies(
    db: Database,
    *,
    stage: str | None = None,
    site: str | None = None,
    sector: str | None = None,
) -> list[CompanyView]:
    stage_value = parse_stage(stage, ladder_only=False).value if stage else None
    with db.unit() as uow:
        return [
            CompanyView.of(r) for r in uow.companies(stage=stage_value, site=site, sector=sector)
        ]


def history(db: Database, key: str) -> list[EventView]:
    with db.unit() as uow:
        row = uow.company(_clean_key(key))
        if row is None:
            raise UnknownCompany(key.strip())
        assert row.id is not None
        return [EventView.of(row.key, e) for e in uow.events_of(row.id)]


def filter_options(db: Database) -> dict[str, list[Any]]:
    """Sites, sectors and cohorts present in the database (for filter pickers)."""
    with db.unit() as uow:
        sites, sectors, cohorts = uow.sites_and_sectors()
    return {"sites": sites, "sectors": sectors, "cohorts": cohorts}


def audit_log(db: Database, **filters: Any) -> list[dict[str, Any]]:
    with db.unit() as uow:
        return uow.audit_events(**filters)


# --- import and export ---------------------------------------------------------------------

CSV_COLUMNS = (
    "company_key",
    "company_name",
    "event",
    "from_stage",
    "to_stage",
    "effective_at",
    "actor",
    "note",
    "reason",
    "sector",
    "site",
    "uscc",
)
EXPORT_COLUMNS = (*CSV_COLUMNS, "recorded_at", "event_id", "hash")
#: Columns an import requires in the header; the others may be left out.
REQUIRED_COLUMNS = ("company_key", "event", "to_stage", "effective_at")


@dataclass
class ImportProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(DomainError):
    """A file with bad rows: nothing was written. `problems` lists every bad line."""

    def __init__(self, source: str, problems: list[ImportProblem]) -> None:
        self.problems = problems
        n = len(problems)
        super().__init__(
            f"{source} rejected, nothing imported: {n} bad row{'s' if n != 1 else ''}"
            + ("" if not problems else f" (first: {problems[0]})")
        )


@dataclass
class ImportResult:
    rows: int
    companies_new: int
    companies_updated: int
    events: int = field(default=0)


@dataclass
class _Parsed:
    line: int
    key: str
    name: str
    kind: EventKind
    from_stage: str | None
    to_stage: str | None
    at: datetime
    actor: str
    note: str
    reason: str | None
    sector: str
    site: str
    uscc: str | None


def _decode(data: bytes, source: str) -> str:
    if not data.strip():
        raise ImportRejected(source, [ImportProblem(1, "the file is empty; expected a header row")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            source,
            [
                ImportProblem(
                    line,
                    f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                    "save the file as UTF-8 CSV",
                )
            ],
        ) from None


def _parse_rows(text: str, source: str, actor: Actor) -> list[_Parsed]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRejected(source, [ImportProblem(1, "the file is empty")]) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportRejected(
            source,
            [
                ImportProblem(
                    1,
                    f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                    f"expected columns: {', '.join(CSV_COLUMNS)}",
                )
            ],
        )
    index = {name: header.index(name) for name in CSV_COLUMNS if name in header}
    width = len(header)
    parsed: list[_Parsed] = []
    problems: list[ImportProblem] = []
    line = reader.line_num
    stage_cache: dict[str, str] = {}
    kinds = {k.value: k for k in EventKind}

    def stage_of(value: str, *, exited: bool = False) -> str:
        if value not in stage_cache:
            stage_cache[value] = parse_stage(value, ladder_only=False).value
        result = stage_cache[value]
        if result == Stage.EXITED and not exited:
            raise InvalidInput(f"stage {value!r} is not a stage of the ladder")
        return result

    get_name, get_from = index.get("company_name"), index.get("from_stage")
    get_actor, get_note, get_reason = index.get("actor"), index.get("note"), index.get("reason")
    get_sector, get_site, get_uscc = index.get("sector"), index.get("site"), index.get("uscc")
    i_key, i_kind, i_to, i_at = (index[c] for c in REQUIRED_COLUMNS)

    for record in reader:
        start, line = line + 1, reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) != width:
            problems.append(
                ImportProblem(start, f"{len(record)} fields where the header has {width}")
            )
            continue

        def col(i: int | None, record: list[str] = record) -> str:
            return record[i] if i is not None else ""

        try:
            key = _clean_key(record[i_key])
            kind_text = record[i_kind].strip().lower()
            kind = kinds.get(kind_text)
            if kind is None:
                raise InvalidInput(
                    f"unknown event {record[i_kind]!r}; allowed: admit, advance, exit"
                )
            at_text = record[i_at]
            try:
                at = datetime.fromisoformat(at_text)
                at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
            except ValueError:
                at = parse_instant(at_text)
            from_text = col(get_from).strip()
            to_text = record[i_to].strip()
            from_stage = stage_of(from_text) if from_text else None
            reason = None
            if kind is EventKind.EXIT:
                reason = parse_reason(col(get_reason)).value
                to_stage = stage_of(to_text, exited=True) if to_text else Stage.EXITED.value
                if to_stage != Stage.EXITED:
                    raise InvalidInput(f"an exit goes to exited, not {to_text!r}")
            else:
                if not to_text:
                    raise InvalidInput(f"to_stage is required on {kind.value}")
                to_stage = stage_of(to_text)
                if col(get_reason).strip():
                    raise InvalidInput(f"a reason is only allowed on exit, not on {kind.value}")
            name = col(get_name)
            uscc = None
            if kind is EventKind.ADMIT:
                if not name.strip():
                    raise InvalidInput(f"company_name is required on admit ({key})")
                if from_stage:
                    raise InvalidInput("an admit has no from_stage; leave it empty")
                uscc = normalize_uscc(col(get_uscc))
            by = col(get_actor).strip() or actor.name
            parsed.append(
                _Parsed(
                    start,
                    key,
                    name,
                    kind,
                    from_stage,
                    to_stage,
                    at,
                    by,
                    col(get_note),
                    reason,
                    col(get_sector).strip(),
                    col(get_site).strip(),
                    uscc,
                )
            )
        except DomainError as exc:
            problems.append(ImportProblem(start, str(exc)))
    if problems:
        raise ImportRejected(source, problems)
    if not parsed:
        raise ImportRejected(source, [ImportProblem(1, "the file has a header but no rows")])
    return parsed


def import_events(
    db: Database,
    data: bytes | str | Path | IO[bytes],
    *,
    actor: Actor,
    source: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import an event-log CSV (DESIGN §5): all rows or none.

    Rows are validated in memory and replayed through the ladder's machine per company, in
    `effective_at` order (file order breaks ties); any bad row rejects the whole file with
    a report of every bad line. A valid file is written in bulk in one transaction.
    """
    actor.require_admin("import event logs")
    if isinstance(data, Path):
        source = source or str(data)
        try:
            raw = data.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {data}: {exc.strerror}") from None
    elif isinstance(data, str):
        raw = data.encode()
    elif isinstance(data, bytes):
        raw = data
    else:
        raw = data.read()
    source = source or "the file"
    parsed = _parse_rows(_decode(raw, source), source, actor)
    total = len(parsed)
    if progress:
        progress("validated", total, total)

    by_company: dict[str, list[_Parsed]] = {}
    for p in parsed:
        by_company.setdefault(p.key, []).append(p)
    now = now_utc()
    key = audit.audit_key()

    with db.unit(write=True) as uow:
        existing = uow.company_states(by_company)
        problems: list[ImportProblem] = []
        new_companies: list[dict[str, Any]] = []
        plans: dict[str, tuple[CompanyRow | None, list[_Parsed]]] = {}
        for company_key, rows in by_company.items():
            rows.sort(key=lambda p: p.at)  # stable: file order breaks ties
            row = existing.get(company_key)
            good, state, last = _replay(company_key, row, rows, now, problems)
            if good:
                plans[company_key] = (row, good)
            if row is None and good and state is not None:
                first = good[0]
                new_companies.append(
                    {
                        "key": company_key,
                        "name": first.name,
                        "sector": first.sector,
                        "site": first.site,
                        "uscc": first.uscc,
                        "stage": state,
                        "entered_stage_at": last,
                        "admitted_at": first.at,
                        "last_event_at": last,
                        "cohort": first.at.year,
                        "event_count": 0,
                        "head_hash": audit.GENESIS,
                    }
                )
        for company_key, (row, _rows) in plans.items():
            site = row.site if row is not None else _rows[0].site
            if not actor.may_write_site(site):
                problems.append(
                    ImportProblem(
                        _rows[0].line,
                        f"{actor.name} cannot write companies of site {site} ({company_key})",
                    )
                )
        if problems:
            problems.sort(key=lambda p: p.line)
            raise ImportRejected(source, problems)

        ids = uow.insert_companies(new_companies)
        if progress:
            progress("companies", len(new_companies), total)
        events: list[dict[str, Any]] = []
        spells: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        closes: list[dict[str, Any]] = []
        done = 0
        for company_key, (row, rows) in plans.items():
            if row is None:
                company_id, seq, head = ids[company_key], 0, audit.GENESIS
                site, sector, cohort = rows[0].site, rows[0].sector, rows[0].at.year
                stage: str = NEW
            else:
                assert row.id is not None
                company_id, seq, head = row.id, row.event_count, row.head_hash
                site, sector, cohort, stage = row.site, row.sector, row.cohort, row.stage
            open_spell: dict[str, Any] | None = None
            for p in rows:
                seq += 1
                dest = p.to_stage or Stage.EXITED.value
                from_stage = None if p.kind is EventKind.ADMIT else stage
                fields = {
                    "company_key": company_key,
                    "seq": seq,
                    "kind": p.kind.value,
                    "from_stage": from_stage,
                    "to_stage": dest,
                    "effective_at": p.at,
                    "recorded_at": now,
                    "actor": p.actor,
                    "note": p.note,
                    "reason": p.reason,
                }
                digest = audit.chain_hash(head, fields, key)
                fields.pop("company_key")
                fields.update(company_id=company_id, prev_hash=head, hash=digest)
                events.append(fields)
                head = digest
                us, ym = to_micros(p.at), _ym(p.at)
                if p.kind is not EventKind.ADMIT:
                    if open_spell is not None:
                        open_spell.update(
                            end_us=us, end_ym=ym, end_kind=p.kind.value, exit_reason=p.reason
                        )
                    elif row is not None:
                        closes.append(
                            {
                                "b_company_id": company_id,
                                "end_us": us,
                                "end_ym": ym,
                                "end_kind": p.kind.value,
                                "exit_reason": p.reason,
                            }
                        )
                open_spell = None
                if dest != Stage.EXITED:
                    open_spell = {
                        "company_id": company_id,
                        "stage": dest,
                        "start_us": us,
                        "start_ym": ym,
                        "end_us": None,
                        "end_ym": None,
                        "end_kind": None,
                        "exit_reason": None,
                        "site": site,
                        "sector": sector,
                        "cohort": cohort,
                    }
                    spells.append(open_spell)
                stage = dest
            updates.append(
                {
                    "b_id": company_id,
                    "stage": stage,
                    "entered_stage_at": rows[-1].at,
                    "last_event_at": rows[-1].at,
                    "event_count": seq,
                    "head_hash": head,
                }
            )
            done += len(rows)
            if progress and done % 20_000 < len(rows):
                progress("chained", done, total)
        if progress:
            progress("chained", total, total)
        uow.close_spells(closes)
        uow.insert_events(events)
        if progress:
            progress("events", total, total)
        uow.insert_spells(spells)
        uow.update_companies(updates)
        uow.commit()
    return ImportResult(
        rows=total,
        companies_new=len(new_companies),
        companies_updated=len(plans) - len(new_companies),
        events=len(events),
    )


def _replay(
    key: str,
    row: CompanyRow | None,
    rows: list[_Parsed],
    now: datetime,
    problems: list[ImportProblem],
) -> tuple[list[_Parsed], str | None, datetime | None]:
    """Replay one company's rows through the machine; report bad rows and skip them."""
    stage = row.stage if row is not None else NEW
    last = row.last_event_at if row is not None else None
    good: list[_Parsed] = []
    for p in rows:
        try:
            if p.at > now + CLOCK_SKEW:
                raise InvalidInput(f"effective_at {isoformat(p.at)} lies in the future")
            if last is not None and p.at < last:
                raise InvalidInput(
                    f"effective_at {isoformat(p.at)} is before {key}'s previous event "
                    f"at {isoformat(last)}"
                )
            if p.kind is EventKind.ADMIT and stage != NEW:
                where = "in the database" if row is not None and not good else "earlier in the file"
                raise DuplicateCompany(key, f"{stage}, admitted {where}")
            if p.kind is not EventKind.ADMIT and stage == NEW:
                raise UnknownCompany(key)
            if p.from_stage is not None and p.from_stage != stage:
                raise InvalidInput(
                    f"from_stage is {p.from_stage} but {key} is in {stage} at that point"
                )
            dest = resolve(stage, p.kind.value, p.to_stage if p.kind is EventKind.ADMIT else None)
            if dest is None:
                wanted = f"{p.kind.value} to {p.to_stage}" if p.to_stage else p.kind.value
                raise InvalidTransition(key, stage, allowed_moves(stage), wanted)
            if p.to_stage is not None and p.to_stage != dest:
                raise InvalidTransition(
                    key, stage, allowed_moves(stage), f"{p.kind.value} to {p.to_stage}"
                )
        except UnknownCompany:
            problems.append(
                ImportProblem(
                    p.line,
                    f"{key} is not in the database and has no earlier admit row in this file",
                )
            )
            continue
        except DomainError as exc:
            problems.append(ImportProblem(p.line, str(exc)))
            continue
        stage, last = dest, p.at
        good.append(p)
    return good, (stage if good else None), last


def export_events(db: Database, out: IO[str], *, progress: Progress | None = None) -> int:
    """Write the whole event log as CSV (DESIGN §5, plus recorded_at, event_id and hash)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    with db.unit() as uow:
        total = uow.count_events()
        for r in uow.iter_event_rows():
            writer.writerow(
                (
                    r["company_key"],
                    r["company_name"],
                    r["kind"],
                    r["from_stage"] or "",
                    r["to_stage"] or "",
                    isoformat(r["effective_at"]),
                    r["actor"],
                    r["note"],
                    r["reason"] or "",
                    r["sector"],
                    r["site"],
                    r["uscc"] or "",
                    isoformat(r["recorded_at"]),
                    r["event_id"],
                    r["hash"],
                )
            )
            n += 1
            if progress and n % 20_000 == 0:
                progress("exported", n, total)
    if progress:
        progress("exported", n, n)
    return n


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
    """Recompute every company's hash chain and compare it with the stored one."""
    key = audit.audit_key()
    with db.unit() as uow:
        heads = {r.key: (r.head_hash, r.event_count) for r in uow.companies()}
        total = uow.count_events()
        checked = 0
        current: str | None = None
        running = audit.GENESIS
        expected_seq = 0

        def close(company: str) -> AuditResult | None:
            head, count = heads.pop(company)
            if running != head or expected_seq != count:
                return AuditResult(
                    False,
                    checked,
                    0,
                    company,
                    expected_seq,
                    f"chain head does not match: the company records {count} events ending in "
                    f"{head[:12]}…, the log has {expected_seq} ending in {running[:12]}… "
                    "(an event was deleted or added outside the tracker)",
                )
            return None

        for r in uow.iter_event_rows():
            company = r["company_key"]
            if company != current:
                if current is not None and (failure := close(current)):
                    return failure
                current, running, expected_seq = company, audit.GENESIS, 0
            expected_seq += 1
            if r["seq"] != expected_seq or r["prev_hash"] != running:
                return AuditResult(
                    False,
                    checked,
                    0,
                    company,
                    r["seq"],
                    f"event id {r['event_id']} breaks the chain (expected event #{expected_seq} "
                    "after the previous hash); an event was removed or reordered",
                )
            digest = audit.chain_hash(running, r, key)
            if digest != r["hash"]:
                return AuditResult(
                    False,
                    checked,
                    0,
                    company,
                    r["seq"],
                    f"event id {r['event_id']} ({r['kind']} at {isoformat(r['effective_at'])}) "
                    "does not match its hash: its recorded fields were changed",
                )
            running = digest
            checked += 1
            if progress and checked % 20_000 == 0:
                progress("verified", checked, total)
        if current is not None and (failure := close(current)):
            return failure
        for company, (_head, count) in sorted(heads.items()):
            return AuditResult(
                False,
                checked,
                0,
                company,
                None,
                f"the company records {count} events but the log has none",
            )
        if progress:
            progress("verified", checked, total)
        companies = uow.count_companies()
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
