"""Import and export of company facts as CSV (DESIGN §8): one file, one row per record, its
kind in the `fact` column (`founded`, `qualification`, `revocation`, `financing`,
`milestone`, `figures`), flat named columns for the fields (docs/evidence.md#the-facts-csv).

An import is all-or-nothing, like the event log's (`eventlog`, and the pieces both share in
`csvfiles`). Each row is read alone (its kind known, no value in a column its kind does not
use), then each company's rows are validated **in file order** by the same builders as the
commands (`evidence.new_*`) against the company's facts as they will be when the row applies
— a revocation needs its grant before it, in the database or earlier in the file. A file
with any bad row is rejected with every bad line listed. A good file is hash-chained onto
each company's record chain, with the derived tables (`qualification`, `financing_round`,
`milestone`, `annual_figures`, `company.founded_on`) laid out beside it, and written in bulk
in one transaction: everything slow happens before the write lock, which only checks that
the companies are unchanged and copies the rows in. Facts are not gated and do not move
companies.

    services.import_facts(db, Path("facts.csv"), actor=actor, source="facts.csv")
    services.export_facts(db, out)          # every record, company by company
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from incubator import audit, csvfiles
from incubator.access import Actor
from incubator.auditing import key_for_writing, writing_key
from incubator.chains import find_company
from incubator.csvfiles import (
    CsvRecords,
    ImportProblem,
    ImportRejected,
    Progress,
    column,
    decode,
    header_names,
    name_of_source,
    problem,
    read_bytes,
    still_as_read,
)
from incubator.eventlog import EXPORT_COLUMNS as EVENT_COLUMNS
from incubator.evidence import (
    FACT_KINDS,
    FIGURE_NAMES,
    FIGURES,
    FIGURES_COLUMNS,
    FINANCING,
    FINANCING_COLUMNS,
    FOUNDED,
    MILESTONE,
    MILESTONE_COLUMNS,
    QUALIFICATION,
    QUALIFICATION_COLUMNS,
    REVOCATION,
    BadRecord,
    CompanyFacts,
    Derived,
    Payload,
    derive,
    fold,
    new_figures,
    new_financing,
    new_founding,
    new_milestone,
    new_qualification,
    new_revocation,
    parse_payload,
)
from incubator.messages import Message, message
from incubator.stages import (
    AmbiguousKey,
    DomainError,
    InvalidInput,
    PermissionDenied,
    UnknownCompany,
)
from incubator.store import BulkLoad, CompanyRecord, Database, Staged, StoreError
from incubator.values import clean_label, clean_note, isoformat, lookup_key, now_utc

#: The columns a facts file may have: the company, the record's kind (`fact`), the fields of
#: every kind (each kind uses some of them, `USES`), and what every record keeps.
CSV_COLUMNS = (
    "company_key", "fact", "date", "kind", "level", "number", "expires_on", "reason",
    "amount", "round", "investor", "year", *FIGURE_NAMES, "evidence", "note", "actor",
)  # fmt: skip
#: The export adds when each record was written, its number in the company's chain and its
#: audit hash; an import accepts and ignores them.
EXPORT_COLUMNS = (*CSV_COLUMNS, "recorded_at", "record", "hash")
REQUIRED_COLUMNS = ("company_key", "fact")
#: The columns of a record's own fields, by kind; `date` is the founding date, the grant
#: date, the revocation date, the round's or the milestone's date.
USES: dict[str, tuple[str, ...]] = {
    FOUNDED: ("date",),
    QUALIFICATION: ("date", "kind", "level", "number", "expires_on"),
    REVOCATION: ("date", "kind", "reason"),
    FINANCING: ("date", "amount", "round", "investor"),
    MILESTONE: ("date", "kind"),
    FIGURES: ("year", *FIGURE_NAMES),
}
_FIELD_COLUMNS = tuple(c for c in CSV_COLUMNS[2:] if c not in ("evidence", "note", "actor"))
#: Columns only a facts file has: a header with them (or `fact`) is a facts file.
_OWN_COLUMNS = frozenset(CSV_COLUMNS) - {"company_key", "note", "actor", "reason"}


class FactName(str):
    """A record kind in a message: `qualification` (Chinese: 资质认定)."""

    def localised(self, lang: str) -> str:
        return message(f"fact.{self}").render(lang) if lang == "zh" else str(self)


#: The names the `fact` column accepts: the kinds, and their Chinese names (资质认定, ...).
_FACTS = {k: k for k in FACT_KINDS} | {message(f"fact.{k}").render("zh"): k for k in FACT_KINDS}


def is_facts_file(data: bytes) -> bool:
    """Whether a file's header is that of a facts file (it has a `fact` column, or more of
    the facts file's own columns than an event log's) rather than an event log."""
    names = set(header_names(data))
    if "fact" in names or "event" in names:
        return "fact" in names and "event" not in names
    return len(names & _OWN_COLUMNS) > len(names & set(EVENT_COLUMNS))


@dataclass
class FactImportResult:
    """A facts import: `records` written for `companies` companies, counted by kind."""

    records: int
    companies: int
    kinds: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Row:
    """One parsed CSV row: its kind and the raw text of the fields its kind uses."""

    line: int
    key: str
    fact: str
    fields: dict[str, str]
    evidence: str | None
    note: str
    actor: str


# --- reading -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, positions: list[int], default_actor: str) -> None:
        self.at = dict(zip(CSV_COLUMNS, positions, strict=True))
        self.default_actor = clean_label(default_actor, "field.importer", required=True)
        self.keys: dict[str, str] = {}
        self.labels: dict[str, str] = {}

    def row(self, line: int, record: list[str]) -> Row:
        at = self.at
        given = record[at["company_key"]]
        key = self.keys.get(given) or self.keys.setdefault(given, lookup_key(given))
        text = record[at["fact"]]
        fact = _FACTS.get(text) or _FACTS.get(text.strip().lower())
        if fact is None:
            raise InvalidInput(
                "factimport.unknown_fact", value=text, allowed=[FactName(k) for k in FACT_KINDS]
            )
        uses = USES[fact]
        for name in _FIELD_COLUMNS:
            if name not in uses and record[at[name]].strip():
                raise InvalidInput(
                    "factimport.not_applicable",
                    column=name,
                    fact=FactName(fact),
                    uses=list(uses),
                )
        note = record[at["note"]]
        if note:
            clean_note(note)
        actor = record[at["actor"]]
        evidence = record[at["evidence"]]
        return Row(
            line,
            key,
            fact,
            {name: record[at[name]] for name in uses},
            evidence if evidence.strip() else None,
            note,
            self.label(actor) if actor else self.default_actor,
        )

    def label(self, value: str) -> str:
        found = self.labels.get(value)
        if found is None:
            found = self.labels[value] = clean_label(value, column("actor")) or self.default_actor
        return found


def parse(
    text: str, source: str | Message, default_actor: str, progress: Progress | None = None
) -> tuple[list[Row], list[ImportProblem]]:
    """The file's rows that read well alone, and a problem for each that does not;
    ImportRejected if the file as a whole cannot be read (empty, unknown or missing columns)."""
    records = CsvRecords(
        text,
        source,
        columns=CSV_COLUMNS,
        ignored=EXPORT_COLUMNS[len(CSV_COLUMNS) :],
        required=REQUIRED_COLUMNS,
        progress=progress,
    )
    return records.parse(_Parser(records.positions(CSV_COLUMNS), default_actor).row)


# --- checking ------------------------------------------------------------------------------


def payload(row: Row, facts: CompanyFacts, now: datetime) -> Payload:
    """The record a row makes, validated as the commands validate it (`evidence.new_*`)
    against the company's facts so far; InvalidInput naming what is wrong."""
    f, evidence = row.fields, row.evidence
    if row.fact == FOUNDED:
        return new_founding(f["date"], evidence=evidence, now=now)
    if row.fact == QUALIFICATION:
        return new_qualification(
            f["kind"], granted_on=f["date"], expires_on=f["expires_on"] or None,
            level=f["level"] or None, number=f["number"] or None, evidence=evidence, now=now,
        )  # fmt: skip
    if row.fact == REVOCATION:
        return new_revocation(
            facts, f["kind"], revoked_on=f["date"], reason=f["reason"], evidence=evidence, now=now
        )
    if row.fact == FINANCING:
        return new_financing(
            facts, amount=f["amount"], on=f["date"], round_name=f["round"] or None,
            investor=f["investor"] or None, evidence=evidence, now=now,
        )  # fmt: skip
    if row.fact == MILESTONE:
        return new_milestone(facts, f["kind"], on=f["date"], evidence=evidence, now=now)
    values = {name: f[name] for name in FIGURE_NAMES}
    return new_figures(year=f["year"], values=values, evidence=evidence, now=now)


@dataclass
class _Company:
    """A company of the file: as read, its records (those in the database, then the file's
    good rows as (row, payload, its stored text)), what its next row is checked against,
    and where each record it has was kept (by kind and payload text)."""

    row: CompanyRecord
    existing: list[tuple[int, str, Mapping[str, Any]]]
    kept: dict[tuple[str, str], Message]
    new: list[tuple[Row, Payload, str]] = field(default_factory=list)
    _checked_on: CompanyFacts | None = None

    @classmethod
    def of(cls, row: CompanyRecord, records: list[tuple[int, str, str]]) -> _Company:
        existing = [(seq, kind, _parsed(row, text)) for seq, kind, text in records]
        kept = {(kind, text): message("factimport.record", seq=seq) for seq, kind, text in records}
        return cls(row, existing, kept)

    def records(self) -> list[tuple[int, str, Mapping[str, Any]]]:
        seq = self.row.fact_count
        new = ((seq + i, r.fact, p) for i, (r, p, _) in enumerate(self.new, 1))
        return [*self.existing, *new]

    def facts_so_far(self) -> CompanyFacts:
        """The facts the next row is checked against: folded again only after a row that
        changes what a check reads (the founding date, the qualifications), so a company
        with many rounds or figures is not folded once a row."""
        if self._checked_on is None:
            self._checked_on = _fold(self.row, self.records())
        return self._checked_on

    def add(self, row: Row, record: Payload) -> None:
        """Add the row's record; InvalidInput when the company has the same record already
        (in the database or on an earlier line): a file imported twice, or a copied line."""
        text = audit.payload_json(record)
        where = self.kept.get((row.fact, text))
        if where is not None:
            raise InvalidInput(
                "factimport.duplicate", key=self.row.key, fact=FactName(row.fact), where=where
            )
        self.kept[(row.fact, text)] = message("where.in_file_line", line=row.line)
        self.new.append((row, record, text))
        if row.fact in (FOUNDED, QUALIFICATION, REVOCATION):
            self._checked_on = None


def _fold(row: CompanyRecord, records: list[tuple[int, str, Mapping[str, Any]]]) -> CompanyFacts:
    try:
        return fold(row.key, row.uscc, records)
    except BadRecord:
        raise StoreError("facts.unreadable", key=row.key) from None


@dataclass
class _Found:
    """What an import reads before it checks: the companies the file names, by key; the
    key each of the file's keys finds (one in another case finds its company, as the
    commands do); what a key that finds none is refused with; the companies' records."""

    companies: dict[str, CompanyRecord]
    keys: dict[str, str]
    refused: dict[str, DomainError]
    records: dict[int, list[tuple[int, str, str]]]


def _read(load: BulkLoad, keys: set[str]) -> tuple[_Found, bytes | None]:
    """In one short read: the companies the file names and their records, and the audit
    key (a wrong key is refused before any work)."""
    with load.unit() as uow:
        hmac_key = key_for_writing(uow)
        companies = uow.company_states(keys)
        found = {k: k for k in companies}
        refused: dict[str, DomainError] = {}
        for key in sorted(keys - set(companies)):
            try:
                company = find_company(uow, key)
            except (UnknownCompany, AmbiguousKey) as exc:
                refused[key] = exc
                continue
            companies[company.key] = company
            found[key] = company.key
        records = uow.evidence_records_of([c.id for c in companies.values()])
    return _Found(companies, found, refused, records), hmac_key


def _check(
    rows: list[Row],
    read: _Found,
    actor: Actor,
    now: datetime,
    problems: list[ImportProblem],
    progress: Progress | None,
) -> dict[str, _Company]:
    """Validate every row, company by company in file order; add each bad row to
    `problems`. A bad row is left out, and the rows after it are checked as if it were not
    there, so that the report names every row that would have to change."""
    checked: dict[str, _Company] = {}
    barred: set[str] = set()
    for done, row in enumerate(rows, 1):
        if progress and done % 10_000 == 0:
            progress("checking", done, len(rows))
        if row.key in read.refused:
            problems.append(ImportProblem(row.line, read.refused[row.key]))
            continue
        key = read.keys[row.key]
        if key in barred:
            continue
        company = checked.get(key)
        if company is None:
            target = read.companies[key]
            if not actor.may_write_site(target.site):
                barred.add(key)
                problems.append(
                    problem(
                        row.line, "import.other_site", name=actor.name, site=target.site, key=key
                    )
                )
                continue
            company = checked[key] = _Company.of(target, read.records.get(target.id, []))
        try:
            company.add(row, payload(row, company.facts_so_far(), now))
        except InvalidInput as exc:
            cause = InvalidInput("fact.refused", what=FactName(row.fact), key=key, cause=exc)
            problems.append(ImportProblem(row.line, cause))
    return checked


def _parsed(company: CompanyRecord, text: str) -> Mapping[str, Any]:
    try:
        return parse_payload(text)
    except BadRecord:
        raise StoreError("facts.unreadable", key=company.key) from None


# --- planning and writing ------------------------------------------------------------------

RECORD_COLUMNS = (
    "company_id", "seq", "kind", "payload", "recorded_at", "actor", "note", "prev_hash", "hash",
)  # fmt: skip
COMPANY_COLUMNS = ("id", "fact_count", "fact_head", "founded_on")
REVOKE_COLUMNS = ("company_id", "seq", "revoked_on", "revoke_reason")


@dataclass
class _Plan:
    """Every row a facts import writes, in database form, laid out before the write lock."""

    records: list[tuple[Any, ...]] = field(default_factory=list)  # RECORD_COLUMNS
    companies: list[tuple[Any, ...]] = field(default_factory=list)  # COMPANY_COLUMNS
    qualifications: list[tuple[Any, ...]] = field(default_factory=list)
    revoked: list[tuple[Any, ...]] = field(default_factory=list)  # REVOKE_COLUMNS
    financing: list[tuple[Any, ...]] = field(default_factory=list)
    milestones: list[tuple[Any, ...]] = field(default_factory=list)
    new_years: list[tuple[Any, ...]] = field(default_factory=list)
    changed_years: list[tuple[Any, ...]] = field(default_factory=list)


def _chain(
    db: Database,
    checked: dict[str, _Company],
    now: datetime,
    hmac_key: bytes | None,
    progress: Progress | None,
    total: int,
) -> _Plan:
    """Hash-chain every company's new records, and lay out them and what they change in the
    derived tables (the difference between the derived rows of the company's records before
    and after)."""
    now_iso = now.isoformat(timespec="microseconds")
    recorded = db.db_time(now, now_iso)
    day = db.db_date
    plan = _Plan()
    done = 0
    for key, company in checked.items():
        row = company.row
        seq, head = row.fact_count, row.fact_head
        for entry, _, text in company.new:
            seq += 1
            document = audit.canonical_fact(
                key, seq, entry.fact, text, now_iso, entry.actor, entry.note
            )
            digest = audit.link(head, document, hmac_key)
            plan.records.append(
                (row.id, seq, entry.fact, text, recorded, entry.actor, entry.note, head, digest)
            )
            head = digest
        before = derive(_fold(row, company.existing))
        after = derive(_fold(row, company.records()))
        plan.companies.append((row.id, seq, head, day(after.founded_on)))
        _lay_out(plan, row.id, before, after, day)
        done += len(company.new)
        if progress and done % 10_000 < len(company.new):
            progress("chaining", done, total)
    return plan


def _lay_out(plan: _Plan, company_id: int, before: Derived, after: Derived, day: Any) -> None:
    """The derived rows that `after` adds to or changes from `before`."""
    old_grants = {r[0]: r for r in before.qualifications}
    for q in after.qualifications:
        old = old_grants.get(q[0])
        if old is None:
            seq, kind, level, number, granted, expires, revoked, reason = q
            plan.qualifications.append(
                (company_id, seq, kind, level, number, day(granted), day(expires), day(revoked),
                 reason)
            )  # fmt: skip
        elif old != q:  # a grant in the database revoked by the file
            plan.revoked.append((company_id, q[0], day(q[6]), q[7]))
    old_seqs = {r[0] for r in before.financing}
    for seq, on, amount, round_name, investor in after.financing:
        if seq not in old_seqs:
            plan.financing.append((company_id, seq, day(on), amount, round_name, investor))
    old_seqs = {r[0] for r in before.milestones}
    for seq, kind, on in after.milestones:
        if seq not in old_seqs:
            plan.milestones.append((company_id, seq, kind, day(on)))
    old_years = {r[0]: r for r in before.figures}
    for figures in after.figures:
        old = old_years.get(figures[0])
        if old is None:
            plan.new_years.append((company_id, *figures))
        elif old != figures:
            plan.changed_years.append((company_id, *figures))


def _stage(load: BulkLoad, plan: _Plan, progress: Progress | None) -> list[Staged]:
    """Stage the plan's rows, in the order they are written: the records, the derived rows,
    then the companies' new record counts, heads and founding dates."""
    figures = ("company_id", *FIGURES_COLUMNS)
    return csvfiles.stage(
        load,
        [
            ("company_fact", RECORD_COLUMNS, plan.records, (), False),
            ("qualification", ("company_id", *QUALIFICATION_COLUMNS), plan.qualifications, (),
             False),
            ("qualification", REVOKE_COLUMNS, plan.revoked, ("company_id", "seq"), False),
            ("financing_round", ("company_id", *FINANCING_COLUMNS), plan.financing, (), False),
            ("milestone", ("company_id", *MILESTONE_COLUMNS), plan.milestones, (), False),
            ("annual_figures", figures, plan.new_years, (), False),
            ("annual_figures", figures, plan.changed_years, ("company_id", "year"), False),
            ("company", COMPANY_COLUMNS, plan.companies, ("id",), False),
        ],
        progress,
    )  # fmt: skip


@csvfiles.young_garbage_only()
def import_facts(
    db: Database,
    data: bytes | str | Path | IO[bytes],
    *,
    actor: Actor,
    source: str | None = None,
    progress: Progress | None = None,
) -> FactImportResult:
    """Import a facts CSV: all rows or none. Rows without an actor are recorded with the
    importing actor's name.

    Administrators import facts of every company; a manager only of companies of their own
    site (a row of another site's company is a bad line); viewers none. Each company's rows
    apply in file order, each checked as `incubator qualify`, `financing`, ... check it,
    against the company's facts so far. The write is `eventlog.import_events`'s: checked,
    chained and staged before the write lock, a conflict (nothing written) if one of the
    file's companies changed meanwhile.
    """
    if actor.is_company:
        raise PermissionDenied(
            "access.company_figures", name=actor.name, what=message("action.import_facts")
        )
    if not actor.can_write:
        raise PermissionDenied(
            "access.viewer", name=actor.name, what=message("action.import_facts")
        )
    source_name = name_of_source(data, source)
    rows, problems = parse(decode(read_bytes(data), source_name), source_name, actor.name, progress)
    total = len(rows) + len(problems)
    if progress:
        progress("checking", 0, total)
    with db.bulk_load() as load:
        read, hmac_key = _read(load, {r.key for r in rows})
        now = now_utc()  # after the read: the records the file extends were recorded before it
        checked = _check(rows, read, actor, now, problems, progress)
        if problems:
            problems.sort(key=lambda p: p.line)
            raise ImportRejected(source_name, problems)
        plan = _chain(db, checked, now, hmac_key, progress, total)
        staged = _stage(load, plan, progress)
        with load.unit(write=True) as uow:
            writing_key(uow)  # checked again, and recorded on the database's first write
            still_as_read(uow, {k: c.row for k, c in checked.items()}, source_name)
            csvfiles.copy(load, uow, staged, progress)
            uow.commit()
        if progress:
            progress("writing", len(staged), len(staged))
        load.checkpoint()
    kinds: dict[str, int] = {}
    for company in checked.values():
        for row, _, _ in company.new:
            kinds[row.fact] = kinds.get(row.fact, 0) + 1
    return FactImportResult(len(plan.records), len(checked), kinds)


# --- export --------------------------------------------------------------------------------


def fact_rows(
    db: Database, *, progress: Progress | None = None
) -> Generator[tuple[Any, ...], None, None]:
    """Every fact record, one tuple of EXPORT_COLUMNS each, company by company (by key) in
    chain order: dates as ISO text, amounts and figures as whole numbers, fields a record's
    kind does not use empty. Close the generator when done early (it holds a transaction
    and, on PostgreSQL, a server-side cursor)."""
    n = 0
    with db.unit() as uow:
        total = uow.count_evidence_records()
        with closing(uow.iter_evidence_rows()) as rows:
            for key, record in rows:
                fields = _columns_of(record.kind, json.loads(record.payload))
                yield (
                    key, record.kind, *(fields.get(c) for c in _FIELD_COLUMNS),
                    fields.get("evidence"), record.note, record.actor,
                    isoformat(record.recorded_at), record.seq, record.hash,
                )  # fmt: skip
                n += 1
                if progress and n % 20_000 == 0:
                    progress("exporting", n, total)
    if progress:
        progress("exporting", n, n)


def _columns_of(kind: str, p: Mapping[str, Any]) -> dict[str, Any]:
    """A record's payload as the CSV's columns (a column left out, or None: empty)."""
    if kind == FOUNDED:
        columns = {"date": p["founded_on"]}
    elif kind == QUALIFICATION:
        columns = {
            "date": p["granted_on"], "kind": p["kind"], "level": p["level"],
            "number": p["number"], "expires_on": p["expires_on"],
        }  # fmt: skip
    elif kind == REVOCATION:
        columns = {"date": p["revoked_on"], "kind": p["kind"], "reason": p["reason"]}
    elif kind == FINANCING:
        columns = {
            "date": p["on"], "amount": p["amount"], "round": p["round"],
            "investor": p["investor"],
        }  # fmt: skip
    elif kind == MILESTONE:
        columns = {"date": p["on"], "kind": p["kind"]}
    else:
        columns = {"year": p["year"], **p["values"]}
    return {**columns, "evidence": p.get("evidence")}


def export_facts(
    db: Database, out: IO[str], *, progress: Progress | None = None, bom: bool = False
) -> int:
    """Write every fact record as CSV (EXPORT_COLUMNS), exact for a round trip: values as
    stored, so a spreadsheet program may read a value starting with =, +, -, @ as a formula
    (use `export_facts_workbook` for spreadsheets). `bom` starts the file with a UTF-8
    byte-order mark, for Excel; the import accepts it."""
    with closing(fact_rows(db, progress=progress)) as rows:
        return csvfiles.write_csv(out, EXPORT_COLUMNS, rows, bom=bom)


def export_facts_workbook(db: Database, out: IO[bytes], *, progress: Progress | None = None) -> int:
    """Write every fact record as an .xlsx workbook: the CSV export's columns, every text a
    text cell (never a formula), amounts and figures as numbers."""
    from incubator import workbook  # openpyxl only for the commands that write workbooks

    with closing(fact_rows(db, progress=progress)) as rows:
        return workbook.write_rows(
            out, [workbook.Sheet("facts", EXPORT_COLUMNS, rows)], progress=progress
        )
