"""Import and export of the event log: the CSV (DESIGN §5), and the xlsx, XES and OCEL exports.

An import is all-or-nothing. Rows are parsed and checked, grouped per company, sorted by
`effective_at` (file order breaks ties) and replayed through the ladder's machine; a file
with any bad row is rejected with every bad line listed. A good file is chained (audit
hashes), planned into rows for the company, event, company record and spell tables (a new
company also gets its first profile record), and written in bulk in one transaction.

The file is read in pieces, a batch of whole companies at a time (`BATCH_COMPANIES`), and
each batch is checked, chained and staged before the next is read: memory holds a batch, the
keys seen and the companies the file extends, not the file (a file that lists a company's
rows apart is read again and checked as one batch).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from incubator import audit, csvfiles, processmining
from incubator.access import Actor
from incubator.auditing import key_for_writing, writing_key
from incubator.csvfiles import (  # noqa: F401  (ImportProblem, Progress: re-exported)
    CsvRecords,
    ImportProblem,
    ImportRejected,
    Progress,
    column,
    conflict,
    decode,
    name_of_source,
    problem,
    read_bytes,
    still_as_read,
)
from incubator.messages import Message, message
from incubator.processmining import LogEvent, Summary
from incubator.sites import unknown_site
from incubator.stages import (
    NEW,
    DomainError,
    DuplicateCompany,
    EventKind,
    InvalidInput,
    InvalidTransition,
    allowed_move_list,
    parse_reason,
    parse_stage,
    resolve,
    stage_param,
)
from incubator.store import BulkLoad, CompanyRecord, Database, KeyTaken, Staged
from incubator.values import (
    CLOCK_SKEW,
    EARLIEST_EVENT,
    clean_key,
    clean_label,
    clean_name,
    clean_note,
    fold_key,
    isoformat,
    lookup_key,
    normalize_uscc,
    now_utc,
    parse_instant,
    to_micros,
)

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

COMPANY_COLUMNS = (
    "id", "key", "name", "sector", "site", "uscc", "stage", "entered_stage_at",
    "admitted_at", "last_event_at", "cohort", "event_count", "head_hash", "fact_count",
    "fact_head",
)  # fmt: skip
EVENT_COLUMNS = (
    "company_id", "seq", "kind", "from_stage", "to_stage", "effective_at", "recorded_at",
    "actor", "note", "reason", "prev_hash", "hash",
)  # fmt: skip
FACT_COLUMNS = (
    "company_id", "seq", "kind", "payload", "recorded_at", "actor", "note", "prev_hash", "hash",
)  # fmt: skip
SPELL_COLUMNS = (
    "company_id", "stage", "start_us", "start_ym", "end_us", "end_ym", "end_kind",
    "exit_reason", "site", "sector", "cohort",
)  # fmt: skip
#: An existing company's new state (matched on id) and its open spell's end (on company_id).
EXTEND_COLUMNS = ("id", "stage", "entered_stage_at", "last_event_at", "event_count", "head_hash")
CLOSE_COLUMNS = ("company_id", "end_us", "end_ym", "end_kind", "exit_reason")


@dataclass
class ImportResult:
    rows: int
    companies_new: int
    companies_updated: int
    events: int


@dataclass(slots=True)
class Row:
    """One parsed, individually valid CSV row."""

    line: int
    key: str
    name: str
    kind: str  # an EventKind value
    from_stage: str | None
    to_stage: str
    at: datetime
    actor: str
    note: str
    reason: str | None
    sector: str
    site: str
    uscc: str | None


# --- parsing -------------------------------------------------------------------------------


#: Event names an import reads: the values, and their Chinese names (入驻, 晋级, 退出).
_KINDS = {k.value: k.value for k in EventKind} | {k.localised("zh"): k.value for k in EventKind}
_ADMIT, _ADVANCE, _EXIT, _EXITED = "admit", "advance", "exit", "exited"


class _Parser:
    """Turns CSV records into `Row`s; raises a DomainError naming what is wrong."""

    def __init__(self, positions: list[int], default_actor: str) -> None:
        self.at_index = positions  # of CSV_COLUMNS in a record (`CsvRecords.positions`)
        self.default_actor = clean_label(default_actor, "field.importer", required=True)
        self.stages: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.new_keys: set[str] = set()  # keys of admit rows, checked against the key rules
        self.labels: dict[str, str] = {}

    def stage(self, text: str) -> str:
        stage = self.stages.get(text)
        if stage is None:
            stage = self.stages[text] = parse_stage(text, ladder_only=False).value
        return stage

    def row(self, line: int, record: list[str]) -> Row:
        key, name, kind_text, from_text, to_text, at_text, actor, note, reason_text, sector, site, uscc_text = (
            record[i] for i in self.at_index
        )  # fmt: skip
        key = self.keys.get(key) or self.keys.setdefault(key, lookup_key(key))
        kind = _KINDS.get(kind_text) or _KINDS.get(kind_text.strip().lower())
        if kind is None:
            raise InvalidInput("import.unknown_event", value=kind_text, allowed=list(EventKind))
        at = _parse_at(at_text)
        if at < EARLIEST_EVENT:
            raise InvalidInput("import.before_earliest", at=at, earliest=EARLIEST_EVENT.date())
        if note:
            clean_note(note)
        from_text, to_text = from_text.strip(), to_text.strip()
        from_stage = self.stage(from_text) if from_text else None
        if from_stage == _EXITED:
            raise InvalidInput("import.from_exited")
        reason = None
        if kind == _EXIT:
            reason = parse_reason(reason_text).value
            if to_text and self.stage(to_text) != _EXITED:
                raise InvalidInput("import.exit_to", value=to_text)
            to_stage = _EXITED
        else:
            if not to_text:
                raise InvalidInput("import.to_required", kind=EventKind(kind))
            to_stage = self.stage(to_text)
            if reason_text.strip():
                raise InvalidInput("import.reason_not_exit", kind=EventKind(kind))
        uscc = None
        if kind == _ADMIT:
            if key not in self.new_keys:
                self.new_keys.add(clean_key(key))
            if not name.strip():
                raise InvalidInput("import.name_required", key=key)
            name = clean_name(name, column("company_name"))
            if from_stage:
                raise InvalidInput("import.admit_from")
            uscc = normalize_uscc(uscc_text)
        label = self.label
        return Row(
            line, key, name, kind, from_stage, to_stage, at,
            label(actor, "actor") or self.default_actor, note, reason,
            label(sector, "sector"), label(site, "site"), uscc,
        )  # fmt: skip

    def label(self, value: str, what: str) -> str:
        """`clean_label`, once per distinct value (a file has few actors, sites, sectors)."""
        found = self.labels.get(value)
        if found is None:
            found = self.labels[value] = clean_label(value, column(what))
        return found


def _parse_at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return parse_instant(text)  # the slow path, which names what is wrong


def parse(
    text: str, source: str | Message, default_actor: str, progress: Progress | None = None
) -> tuple[list[Row], list[ImportProblem]]:
    """The file's good rows and a problem for each bad one; ImportRejected if the file as a
    whole cannot be read (empty, missing columns)."""
    records = CsvRecords(
        text,
        source,
        columns=CSV_COLUMNS,
        ignored=EXPORT_COLUMNS[len(CSV_COLUMNS) :],
        required=REQUIRED_COLUMNS,
        progress=progress,
    )
    return records.parse(_Parser(records.positions(CSV_COLUMNS), default_actor).row)


# --- replay --------------------------------------------------------------------------------


def replay(
    key: str, existing: CompanyRecord | None, rows: list[Row], now: datetime
) -> tuple[list[Row], list[ImportProblem]]:
    """Replay one company's rows (already in time order) through the machine.

    A bad row is reported and left out, and the rows after it are checked as if it were not
    there, so that the report names every row that would have to change.
    """
    stage = existing.stage if existing is not None else NEW
    last = existing.last_event_at if existing is not None else None
    good: list[Row] = []
    problems: list[ImportProblem] = []
    for row in rows:
        try:
            if row.kind == _ADMIT and stage != NEW:
                where = "where.admitted_in_file" if good else "where.admitted_in_database"
                raise DuplicateCompany(key, message(where, stage=stage_param(stage)))
            if row.at > now + CLOCK_SKEW:
                raise InvalidInput("import.in_future", at=row.at)
            if last is not None and row.at < last:
                raise InvalidInput("import.before_previous", at=row.at, key=key, last=last)
            if row.kind != _ADMIT and stage == NEW:
                raise InvalidInput("import.not_admitted", key=key)
            if row.from_stage is not None and row.from_stage != stage:
                raise InvalidInput(
                    "import.from_mismatch",
                    from_stage=stage_param(row.from_stage),
                    key=key,
                    stage=stage_param(stage),
                )
            target = row.to_stage if row.kind == _ADMIT else None
            dest = resolve(stage, row.kind, target)
            if dest is None or dest != row.to_stage:
                wanted = message(
                    "wanted.kind_to", kind=EventKind(row.kind), to=stage_param(row.to_stage)
                )
                raise InvalidTransition(key, stage, allowed_move_list(stage), wanted)
        except DomainError as exc:
            problems.append(ImportProblem(row.line, exc))
            continue
        stage, last = dest, row.at
        good.append(row)
    return good, problems


# --- planning and writing ------------------------------------------------------------------


@dataclass
class _Plan:
    """Every row an import writes, in database form, laid out before the write lock is taken.
    A new company is named by a placeholder id (-1, -2, ...; see `store.BulkLoad`)."""

    companies: list[tuple[Any, ...]]  # COMPANY_COLUMNS
    events: list[tuple[Any, ...]]  # EVENT_COLUMNS
    spells: list[tuple[Any, ...]]  # SPELL_COLUMNS
    facts: list[tuple[Any, ...]]  # FACT_COLUMNS: new companies' first profile record
    extended: list[tuple[Any, ...]]  # EXTEND_COLUMNS: existing companies' new state
    closes: list[tuple[Any, ...]]  # CLOSE_COLUMNS: existing companies' open spell's end


def _check(
    by_company: dict[str, list[Row]],
    existing: dict[str, CompanyRecord],
    actor: Actor,
    now: datetime,
    problems: list[ImportProblem],
    registered: Sequence[str] = (),
) -> dict[str, tuple[CompanyRecord | None, list[Row]]]:
    """Replay every company's rows against its state; add each bad row to `problems`. A new
    company's site must be one of the `registered` sites (or none)."""
    plans: dict[str, tuple[CompanyRecord | None, list[Row]]] = {}
    known = set(registered)
    for key, company_rows in by_company.items():
        company_rows.sort(key=_when)  # stable: file order breaks ties
        found = existing.get(key)
        good, bad = replay(key, found, company_rows, now)
        problems += bad
        if good:
            site = found.site if found is not None else good[0].site
            if found is None and site and site not in known:
                problems.append(ImportProblem(good[0].line, unknown_site(site, registered)))
            if not actor.is_admin and not actor.may_write_site(site):
                problems.append(
                    problem(good[0].line, "import.other_site", name=actor.name, site=site, key=key)
                )
            plans[key] = (found, good)
    return plans


def _refuse_case_twins(
    plans: dict[str, tuple[CompanyRecord | None, list[Row]]],
    taken: list[str],
    problems: list[ImportProblem],
    owners: dict[str, tuple[str, int | None]] | None = None,
) -> None:
    """A new company whose key differs only by case from a key in the database, or from
    another new key earlier in the file, is a bad row: keys are unique whatever their case.
    `owners` (folded key: key and its first line, None for the database's) carries what
    earlier batches of the file found."""
    if owners is None:
        owners = {}
    for k in taken:
        owners.setdefault(fold_key(k), (k, None))
    new = [(rows[0].line, key) for key, (found, rows) in plans.items() if found is None]
    for line, key in sorted(new):
        other = owners.setdefault(fold_key(key), (key, line))
        if other[0] != key:
            where = (
                message("where.in_file_line", line=other[1])
                if other[1]
                else message("where.in_database")
            )
            problems.append(ImportProblem(line, DuplicateCompany(key, where, other=other[0])))


def _chain(
    db: Database,
    plans: dict[str, tuple[CompanyRecord | None, list[Row]]],
    now: datetime,
    progress: Progress | None,
    total: int,
    hmac_key: bytes | None,
    placeholders: Iterator[int] | None = None,
    done: int = 0,
) -> _Plan:
    """Hash-chain every company's new events (and a new company's profile record) and lay
    out the rows to write. New companies take the next `placeholders` (-1, -2, ...); `done`
    rows were chained before (progress reports count on from it)."""
    now_iso = now.isoformat(timespec="microseconds")
    db_time = db.db_time
    recorded = db_time(now, now_iso)
    sqlite = db.dialect == "sqlite"
    # The canonical JSON of `audit.canonical_event` and `audit.canonical_fact`, written out
    # here for speed (an import hashes every event): the same bytes, which `audit verify`
    # checks. Times, kinds and stages are ASCII without quotes or backslashes.
    quote = _quote
    now_q = quote(now_iso)
    quoted: dict[str | None, str] = {}  # actors, stages, reasons: quoted once
    sha256 = hashlib.sha256
    spells: list[list[Any]] = []
    if placeholders is None:
        placeholders = itertools.count(-1, -1)
    plan = _Plan([], [], [], [], [], [])
    events_append, spells_append = plan.events.append, spells.append
    for key, (existing, rows) in plans.items():
        if existing is None:
            first = rows[0]
            company_id, seq, head, stage = next(placeholders), 0, audit.GENESIS, NEW
            site, sector, cohort = first.site, first.sector, first.at.year
        else:
            company_id, seq, head = existing.id, existing.event_count, existing.head_hash
            site, sector, cohort, stage = (
                existing.site,
                existing.sector,
                existing.cohort,
                existing.stage,
            )
        key_q = quote(key)
        open_spell: list[Any] | None = None
        stored: Any = None
        admitted: Any = None
        for row in rows:
            seq += 1
            kind, at, to_stage, reason, actor = (
                row.kind,
                row.at,
                row.to_stage,
                row.reason,
                row.actor,
            )
            from_stage = None if kind == _ADMIT else stage
            at_iso = at.isoformat(timespec="microseconds")
            if sqlite and at_iso.endswith("+00:00"):
                stored = f"{at_iso[:10]} {at_iso[11:26]}"
            else:
                stored = db_time(at, at_iso)
            if admitted is None:
                admitted = stored
            actor_q = quoted.get(actor) or quoted.setdefault(actor, quote(actor))
            from_q = quoted.get(from_stage) or quoted.setdefault(
                from_stage, _json_or_null(from_stage)
            )
            reason_q = quoted.get(reason) or quoted.setdefault(reason, _json_or_null(reason))
            note_q = quote(row.note) if row.note else '""'
            document = (
                f'{{"actor":{actor_q},"company_key":{key_q},"effective_at":"{at_iso}",'
                f'"from_stage":{from_q},"kind":"{kind}","note":{note_q},"reason":{reason_q},'
                f'"recorded_at":{now_q},"seq":{seq},"to_stage":"{to_stage}"}}'
            ).encode()
            if hmac_key:
                digest = audit.link(head, document, hmac_key)
            else:
                digest = sha256(head.encode() + document).hexdigest()
            events_append(
                (
                    company_id, seq, kind, from_stage, to_stage, stored, recorded, actor,
                    row.note, reason, head, digest,
                )
            )  # fmt: skip
            head = digest
            us, ym = to_micros(at), at.year * 12 + at.month - 1
            if kind != _ADMIT:
                if open_spell is not None:
                    open_spell[4:8] = (us, ym, kind, reason)
                elif existing is not None:
                    plan.closes.append((company_id, us, ym, kind, reason))
            open_spell = None
            if to_stage != _EXITED:
                open_spell = [
                    company_id, to_stage, us, ym, None, None, None, None, site, sector, cohort,
                ]  # fmt: skip
                spells_append(open_spell)
            stage = to_stage
        last = stored
        if existing is None:
            first = rows[0]
            uscc = first.uscc
            profile = (
                f'{{"name":{quote(first.name)},"sector":{quote(sector)},"site":{quote(site)},'
                f'"uscc":{"null" if uscc is None else quote(uscc)}}}'
            )
            actor_q = quoted.get(first.actor) or quoted.setdefault(first.actor, quote(first.actor))
            fact_document = (
                f'{{"actor":{actor_q},"company_key":{key_q},"kind":"{audit.PROFILE}",'
                f'"note":"","payload":{profile},"recorded_at":{now_q},"seq":1}}'
            ).encode()
            fact_head = audit.link(audit.GENESIS, fact_document, hmac_key)
            plan.facts.append(
                (
                    company_id, 1, audit.PROFILE, profile, recorded, first.actor, "",
                    audit.GENESIS, fact_head,
                )
            )  # fmt: skip
            plan.companies.append(
                (
                    company_id, key, first.name, sector, site, uscc, stage, last, admitted, last,
                    cohort, seq, head, 1, fact_head,
                )
            )  # fmt: skip
        else:
            plan.extended.append((company_id, stage, last, last, seq, head))
        done += len(rows)
        if progress and done % 10_000 < len(rows):
            progress("chaining", done, total)
    plan.spells = [tuple(s) for s in spells]
    return plan


#: json.dumps' C encoder of a string for ensure_ascii=False (`audit._encode_str`).
_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _json_or_null(value: str | None) -> str:
    return "null" if value is None else _quote(value)


#: Companies checked, chained and staged together: an import holds one batch's rows at a time.
BATCH_COMPANIES = 4_000


class _NotGrouped(Exception):
    """The file lists a company's rows apart, with other companies' rows between them."""


class _Import:
    """One reading of an event-log file: its rows come in batches of whole companies (each
    company's rows together), each checked against the companies' states read just before;
    while no bad row has been found, each batch is also chained and staged, so that only
    the batch in hand is held. After a bad row, the rest of the file is only checked, for
    the report."""

    def __init__(
        self,
        db: Database,
        load: BulkLoad,
        actor: Actor,
        problems: list[ImportProblem],
        progress: Progress | None,
        total: int,
    ) -> None:
        self.db, self.load, self.actor, self.problems = db, load, actor, problems
        self.progress, self.total = progress, total
        with load.unit() as uow:
            self.hmac_key = key_for_writing(uow)  # a wrong key is refused before any work
            self.registered = uow.site_names()
        self.existing: dict[str, CompanyRecord] = {}  # the companies the file extends
        self.owners: dict[str, tuple[str, int | None]] = {}  # `_refuse_case_twins`'
        self.placeholders = itertools.count(-1, -1)
        self.staged: list[Staged | None] = [None] * len(_TABLES)
        self.new = self.extended = self.events = self.rows = 0

    def batch(self, by_company: dict[str, list[Row]]) -> None:
        with self.load.unit() as uow:
            existing = uow.company_states(by_company)
            in_use = uow.keys_lowered_in(k.lower() for k in by_company if k not in existing)
        # after the read: the events the batch extends were recorded before it
        now = now_utc()
        self.existing.update(existing)
        plans = _check(by_company, existing, self.actor, now, self.problems, self.registered)
        _refuse_case_twins(plans, in_use, self.problems, self.owners)
        if self.problems:
            return  # nothing will be written: the rest of the file is only checked
        plan = _chain(
            self.db, plans, now, self.progress, self.total, self.hmac_key, self.placeholders,
            self.rows,
        )  # fmt: skip
        _stage(self.load, plan, self.staged, self.progress)
        self.rows += len(plan.events)
        self.new += len(plan.companies)
        self.extended += len(plan.extended)
        self.events += len(plan.events)

    def new_keys(self) -> list[str]:
        return [key for key, line in self.owners.values() if line is not None]


@csvfiles.young_garbage_only()
def import_events(
    db: Database,
    data: bytes | str | Path | IO[bytes],
    *,
    actor: Actor,
    source: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import an event-log CSV (DESIGN §5): all rows or none. Admins only.

    Rows without an actor are recorded with the importing actor's name.

    Everything slow happens before the write lock (DESIGN §10): the file is read in pieces,
    a batch of companies at a time (each company's rows together, as an export lists them):
    the states of the batch's companies are read in a short read transaction, every row is
    replayed, chained and laid out, and the rows are staged (`store.BulkLoad.append`), so
    the import holds one batch, not the file. The write transaction then checks that the
    companies the file extends are unchanged, decides the new companies' ids and copies the
    rows in. A company that changed meanwhile (an advance, an exit, an admit of a key the
    file admits) makes the import a conflict that writes nothing; importing the file again
    checks it against the new state. A file that lists a company's rows apart is read again
    and checked as one batch (holding its rows).
    """
    actor.require_admin(message("action.import"))
    source_name = name_of_source(data, source)
    opener = csvfiles.binary(data)
    try:
        return _import(db, opener, source_name, actor, progress, grouped=True)
    except _NotGrouped:
        return _import(db, opener, source_name, actor, progress, grouped=False)


def _import(
    db: Database,
    opener: Callable[[], IO[bytes]],
    source_name: str | Message,
    actor: Actor,
    progress: Progress | None,
    *,
    grouped: bool,
) -> ImportResult:
    """One reading of the file; `_NotGrouped` if `grouped` and a company's rows are apart."""
    with opener() as raw:
        lines = csvfiles.scan(raw, source_name)
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        records = CsvRecords(
            text,
            source_name,
            columns=CSV_COLUMNS,
            ignored=EXPORT_COLUMNS[len(CSV_COLUMNS) :],
            required=REQUIRED_COLUMNS,
            progress=progress,
            lines=lines,
        )
        parse_row = _Parser(records.positions(CSV_COLUMNS), actor.name).row
        problems = records.problems  # the file's own, and every bad row's
        with db.bulk_load() as load:
            work = _Import(db, load, actor, problems, progress, lines)
            batch: dict[str, list[Row]] = {}
            seen: set[str] = set()
            key: str | None = None
            rows: list[Row] = []
            for line, record in records:
                try:
                    row = parse_row(line, record)
                except DomainError as exc:
                    problems.append(ImportProblem(line, exc))
                    continue
                if row.key != key:
                    key = row.key
                    if grouped:
                        if key in seen:
                            raise _NotGrouped
                        seen.add(key)
                        if len(batch) >= BATCH_COMPANIES:
                            work.batch(batch)
                            batch = {}
                    rows = batch.setdefault(key, [])
                rows.append(row)
            if batch:
                work.batch(batch)
            del batch, rows, seen
            if problems:
                problems.sort(key=lambda p: p.line)
                raise ImportRejected(source_name, problems)
            staged = [s for s in work.staged if s is not None]
            taken = False
            with load.unit(write=True) as uow:
                writing_key(uow)  # checked again, and recorded on the database's first write
                still_as_read(uow, work.existing, source_name)
                load.reserve_company_ids(uow, work.new)
                try:
                    csvfiles.copy(load, uow, staged, progress)
                    uow.commit()
                except KeyTaken:
                    taken = True
            if taken:  # a key the file admits was admitted meanwhile
                with load.unit() as uow:
                    admitted = uow.company_versions(work.new_keys())
                first = min(admitted, default=None)
                what = message("conflict.was_admitted", key=first) if first else None
                raise conflict(source_name, what)
            if progress:
                progress("writing", len(staged), len(staged))
            load.checkpoint()
    return ImportResult(
        rows=work.events + len(problems),
        companies_new=work.new,
        companies_updated=work.extended,
        events=work.events,
    )


#: The tables a plan's rows go to, in the order they are written: new companies and their
#: first records, then the existing companies' spell ends and new states, then events and
#: spells: (table, columns, the plan's field, the columns an update matches on, open only).
_TABLES: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...], bool], ...] = (
    ("company", COMPANY_COLUMNS, "companies", (), False),
    ("company_fact", FACT_COLUMNS, "facts", (), False),
    ("spell", CLOSE_COLUMNS, "closes", ("company_id",), True),  # the open spell only
    ("company", EXTEND_COLUMNS, "extended", ("id",), False),
    ("stage_event", EVENT_COLUMNS, "events", (), False),
    ("spell", SPELL_COLUMNS, "spells", (), False),
)


def _stage(
    load: BulkLoad, plan: _Plan, staged: list[Staged | None], progress: Progress | None
) -> None:
    """Stage a batch's rows after the earlier batches' (`staged`: one per `_TABLES` entry,
    None until it has rows)."""
    for i, (table, columns, field, match, open_only) in enumerate(_TABLES):
        rows = getattr(plan, field)
        if not rows:
            continue
        batch = staged[i]
        if batch is None:
            staged[i] = load.stage(table, columns, rows, match=match, open_only=open_only)
        else:
            load.append(batch, rows)
    if progress:
        progress("staging", len(_TABLES), len(_TABLES))


def _when(row: Row) -> datetime:
    return row.at


def event_log_rows(
    db: Database, *, progress: Progress | None = None
) -> Generator[tuple[Any, ...], None, None]:
    """The whole event log, one tuple of EXPORT_COLUMNS per event, company by company in
    chain order; times as ISO 8601 text in UTC. Close the generator when done early (it
    holds a transaction and, on PostgreSQL, a server-side cursor)."""
    n = 0
    with db.unit() as uow:
        total = uow.count_events()
        with closing(uow.iter_event_rows()) as rows:
            for r in rows:
                yield (
                    r["company_key"], r["company_name"], r["kind"], r["from_stage"] or "",
                    r["to_stage"] or "", isoformat(r["effective_at"]), r["actor"], r["note"],
                    r["reason"] or "", r["sector"], r["site"], r["uscc"] or "",
                    isoformat(r["recorded_at"]), r["event_id"], r["hash"],
                )  # fmt: skip
                n += 1
                if progress and n % 20_000 == 0:
                    progress("exporting", n, total)
    if progress:
        progress("exporting", n, n)


def export_events(
    db: Database, out: IO[str], *, progress: Progress | None = None, bom: bool = False
) -> int:
    """Write the whole event log as CSV (DESIGN §5, plus recorded_at, event_id and hash),
    byte-exact for a round trip: values are written as stored, so a spreadsheet program that
    opens the file may read a value starting with =, +, - or @ as a formula (use
    `export_workbook` for spreadsheets). `bom` starts the file with a UTF-8 byte-order mark,
    which Excel needs to read UTF-8; the import accepts it."""
    with closing(event_log_rows(db, progress=progress)) as rows:
        return csvfiles.write_csv(out, EXPORT_COLUMNS, rows, bom=bom)


def export_workbook(db: Database, out: IO[bytes], *, progress: Progress | None = None) -> int:
    """Write the whole event log as an .xlsx workbook for spreadsheet users: the columns of
    the CSV export, every text a text cell (never a formula), times as ISO 8601 text; more
    than 1,048,575 events continue on further sheets ("events 2", ...)."""
    from incubator import workbook  # openpyxl only for the commands that write workbooks

    with closing(event_log_rows(db, progress=progress)) as rows:
        return workbook.write_rows(
            out, [workbook.Sheet("events", EXPORT_COLUMNS, rows)], progress=progress
        )


def export_xes(db: Database, out: IO[bytes], *, progress: Progress | None = None) -> Summary:
    """Write the whole event log as XES (IEEE 1849-2016) for process-mining tools: one trace
    per company, one event per move (`processmining.write_xes`)."""
    with closing(event_log_rows(db, progress=progress)) as rows:
        return processmining.write_xes(out, map(LogEvent._make, rows))


def export_ocel(db: Database, out: IO[str], *, progress: Progress | None = None) -> Summary:
    """Write the whole event log as OCEL 2.0 JSON for object-centric process mining: company
    and site objects, one event per move (`processmining.write_ocel`)."""
    with closing(event_log_rows(db, progress=progress)) as rows:
        return processmining.write_ocel(out, map(LogEvent._make, rows))
