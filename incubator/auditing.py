"""Audit use cases (DESIGN §6, §10): the audit key mode, `audit verify` and checkpoints.

`verify_audit` reads one snapshot and walks every table once, side by side in company-id
order (companies, events, company records, spells), holding one company at a time, so it
scales to millions of companies in bounded memory. For each company it recomputes both hash
chains (events and records), checks that each event is a move the ladder allows, and checks
everything derived from the chains: the company row (stage, times, cohort, counts, heads,
name, sector, site and USCC as the fold of its profile records, the founding date), its
spells, and its evidence rows (qualifications, financing rounds, milestones, annual figures)
as the fold of its evidence records (DESIGN §8). Each event's gate outcome is in its hash.

A checkpoint (`write_checkpoint`) is a signed statement of every company's key, event count
and head (and record count and head), kept outside the database; `verify_audit` with a
checkpoint also catches what a consistent rewrite of the database hides: truncated chains
and deleted companies.

The database records which key its chains use (`audit_key` setting: `none` or the key's
fingerprint; `writing_key`), and every write is refused without that key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar

from incubator import audit
from incubator.evidence import (
    FACT_KINDS,
    FIGURES_COLUMNS,
    FINANCING_COLUMNS,
    MILESTONE_COLUMNS,
    QUALIFICATION_COLUMNS,
    BadRecord,
    CompanyFacts,
    derive,
    fold,
    parse_payload,
)
from incubator.messages import Message, message
from incubator.outfiles import replacing
from incubator.stages import (
    NEW,
    DomainError,
    EventKind,
    InvalidInput,
    Stage,
    resolve,
    stage_param,
)
from incubator.store import (
    CompanyRecord,
    Database,
    EventRecord,
    FactRecord,
    FiguresRecord,
    FinancingRecord,
    MilestoneRecord,
    QualificationRecord,
    UnitOfWork,
)
from incubator.values import isoformat, now_utc, to_micros, year_month

#: Called as progress(phase, done, total) during long work (as `eventlog.Progress`).
Progress = Callable[[str, int, int], None]

#: The setting that records the database's audit key mode (`audit.key_mode`).
KEY_SETTING = "audit_key"

#: Record kinds `audit verify` knows how to fold; any other kind in a chain is reported.
KNOWN_FACT_KINDS = frozenset({audit.PROFILE, *FACT_KINDS})

CHECKPOINT_FORMAT = "incubator-audit-checkpoint"
CHECKPOINT_VERSION = 1


class AuditKeyMismatch(DomainError):
    """A write or a check made without the database's audit key, or with another key."""


class AuditFailed(DomainError):
    """The audit does not verify, so no checkpoint is written."""


# --- the audit key -------------------------------------------------------------------------


def _key_problem(stored: str | None, key: bytes | None, doing: str) -> Message | None:
    """Why `key` cannot be used to `doing` (`write`, `verify`, `sign`) on a database whose
    key mode is `stored` (None: not decided yet, any key will do); None when it can."""
    if stored is None or stored == audit.key_mode(key):
        return None
    what = message(f"auditkey.doing.{doing}")
    if audit.is_keyed(stored):
        if key is None:
            return message("auditkey.missing", doing=what)
        return message("auditkey.other", fingerprint=audit.short_fingerprint(stored), doing=what)
    return message("auditkey.unexpected", doing=what)


def key_for_writing(uow: UnitOfWork) -> bytes | None:
    """The key a write will chain with, checked like `writing_key` but without recording the
    key mode, so that it can run in a read transaction: an import checks the key before it
    chains its rows, and calls `writing_key` again in its write transaction."""
    key = audit.audit_key()
    problem = _key_problem(uow.setting(KEY_SETTING), key, "write")
    if problem:
        raise AuditKeyMismatch("auditkey.refused", problem=problem)
    return key


def writing_key(uow: UnitOfWork) -> bytes | None:
    """The key to chain a write with: INCUBATOR_AUDIT_KEY, once it is checked against the
    database's key mode. The first write of a database records the mode; afterwards a write
    without the key, with another key, or with a key on an unkeyed database is refused
    (AuditKeyMismatch) before anything is written. Call it inside the write unit of work."""
    key = audit.audit_key()
    stored = uow.setting(KEY_SETTING)
    if stored is None:
        stored = uow.claim_setting(KEY_SETTING, audit.key_mode(key))
    problem = _key_problem(stored, key, "write")
    if problem:
        raise AuditKeyMismatch("auditkey.refused", problem=problem)
    return key


# --- results -------------------------------------------------------------------------------


@dataclass
class AuditResult:
    """What `audit verify` found. `checked` is False when it could not check at all (a
    missing or wrong key); then `finding` says why. `str()` is the English report the
    command line prints; `localised(lang)` the same in another language."""

    ok: bool
    events: int
    companies: int
    company_key: str | None = None
    seq: int | None = None
    finding: Message | None = None
    facts: int = 0
    checked: bool = True
    checkpoint: Message | None = None
    #: Who the finding is about when that is not a company key (a checkpoint file, an
    #: orphaned company id).
    subject: Any = None

    @property
    def problem(self) -> str:
        """What is wrong, in English ("" when nothing is)."""
        return str(self.finding) if self.finding is not None else ""

    def localised(self, lang: str) -> str:
        if not self.checked:
            return message("audit.cannot_verify", problem=self.finding).render(lang)
        if self.ok:
            counts = {"events": self.events, "companies": self.companies, "facts": self.facts}
            if self.checkpoint is not None:
                return message("audit.ok_checkpoint", **counts, checkpoint=self.checkpoint).render(
                    lang
                )
            return message("audit.ok", **counts).render(lang)
        return message("audit.failed", where=self.where, problem=self.finding).render(lang)

    @property
    def where(self) -> Message:
        """The company (and event) the failure is about."""
        subject = self.subject or self.company_key or message("audit.the_database")
        if self.seq:
            return message("audit.where_event", subject=subject, seq=self.seq)
        return message("audit.where", subject=subject)

    def __str__(self) -> str:
        return self.localised("en")


class _Failed(Exception):
    def __init__(
        self, company: str | Message, code: str, /, seq: int | None = None, **params: Any
    ) -> None:
        self.company, self.seq = company, seq
        self.problem = Message(code, params)


# --- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointEntry:
    company_id: int
    key: str
    events: int
    head: str
    facts: int
    fact_head: str


class _Signer:
    """HMAC-SHA-256 with the audit key, or a plain SHA-256 digest without one."""

    def __init__(self, key: bytes | None) -> None:
        self.keyed = key is not None
        self.mac: Any = hmac.new(key, digestmod=hashlib.sha256) if key else hashlib.sha256()

    @property
    def algorithm(self) -> str:
        return "HMAC-SHA-256" if self.keyed else "SHA-256"

    def update(self, data: bytes) -> None:
        self.mac.update(data)

    def hexdigest(self) -> str:
        return str(self.mac.hexdigest())


_STATEMENT_START = b'{"statement": '
_COMPANIES_START = b'"companies": [\n'
_COMPANIES_END = b"],\n"
_SIGNATURE_START = b'"signature": '

KEYED_NOTE = "signed with HMAC-SHA-256 and the audit key (INCUBATOR_AUDIT_KEY)"
UNKEYED_NOTE = (
    "SHA-256 digest without a key: it protects only as well as this file is kept, since "
    "anyone who can write the database can also write a matching file; set "
    "INCUBATOR_AUDIT_KEY for a signature"
)


class _CheckpointWriter:
    """Writes one JSON document, a line per company, signing every byte before the
    signature line:

        {"statement": {"format": ..., "created_at": ..., "companies": N, ...},
        "companies": [
        [id, "key", events, "head", records, "record head"],
        ...
        ],
        "signature": {"algorithm": "HMAC-SHA-256", "value": "..."}}
    """

    def __init__(self, out: IO[bytes], key: bytes | None, header: dict[str, Any]) -> None:
        self.out, self.signer = out, _Signer(key)
        self.pending: bytes | None = None
        self._write(_STATEMENT_START + _dumps(header) + b",\n" + _COMPANIES_START)

    def _write(self, data: bytes) -> None:
        self.signer.update(data)
        self.out.write(data)

    def add(self, entry: CheckpointEntry) -> None:
        if self.pending is not None:
            self._write(self.pending + b",\n")
        self.pending = _dumps(
            [entry.company_id, entry.key, entry.events, entry.head, entry.facts, entry.fact_head]
        )

    def finish(self) -> None:
        if self.pending is not None:
            self._write(self.pending + b"\n")
        self._write(_COMPANIES_END)
        signature = {"algorithm": self.signer.algorithm, "value": self.signer.hexdigest()}
        self.out.write(_SIGNATURE_START + _dumps(signature) + b"}\n")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


class Checkpoint:
    """A checkpoint file, read twice as a stream: once to check its signature and layout
    (`open`), once for its entries in company-id order (`entries`)."""

    def __init__(self, path: Path, header: dict[str, Any], signature_ok: bool) -> None:
        self.path, self.header, self.signature_ok = path, header, signature_ok

    @property
    def mode(self) -> str:
        return str(self.header.get("audit_key", ""))

    @property
    def created_at(self) -> str:
        return str(self.header.get("created_at", "?"))

    @classmethod
    def open(cls, path: Path, key: bytes | None) -> Checkpoint:
        """Read the header and check the signature with `key` (the caller checks that the
        key is the checkpoint's). InvalidInput when the file is not a checkpoint."""
        signer = _Signer(key)
        header: dict[str, Any] | None = None
        held: bytes | None = None
        with _open_binary(path) as lines:
            for number, line in enumerate(lines, 1):
                if held is not None:
                    signer.update(held)
                if number == 1:
                    header = _parse_header(path, line)
                held = line
        if header is None or held is None or not held.startswith(_SIGNATURE_START):
            raise _not_a_checkpoint(path, "checkpoint.no_signature")
        try:
            signature = json.loads(held[len(_SIGNATURE_START) :].rstrip(b"\n")[:-1])
            value = str(signature["value"])
        except (ValueError, KeyError, TypeError):
            raise _not_a_checkpoint(path, "checkpoint.signature_unreadable") from None
        return cls(path, header, hmac.compare_digest(value, signer.hexdigest()))

    def entries(self) -> Generator[CheckpointEntry, None, None]:
        previous = 0
        with _open_binary(self.path) as lines:
            for number, line in enumerate(lines, 1):
                if number <= 2:
                    if number == 2 and line != _COMPANIES_START:
                        raise _not_a_checkpoint(self.path, "checkpoint.no_company_list")
                    continue
                if line == _COMPANIES_END:
                    return
                try:
                    cid, key, events, head, facts, fact_head = json.loads(line.rstrip(b",\n"))
                    entry = CheckpointEntry(
                        int(cid), str(key), int(events), str(head), int(facts), str(fact_head)
                    )
                except (ValueError, TypeError):
                    raise _not_a_checkpoint(
                        self.path, "checkpoint.line_unreadable", number=number
                    ) from None
                if entry.company_id <= previous:
                    raise _not_a_checkpoint(self.path, "checkpoint.out_of_order", number=number)
                previous = entry.company_id
                yield entry
        raise _not_a_checkpoint(self.path, "checkpoint.no_end")


def _open_binary(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise InvalidInput("file.unreadable", path=str(path), reason=exc.strerror) from None


def _parse_header(path: Path, line: bytes) -> dict[str, Any]:
    if not line.startswith(_STATEMENT_START):
        raise _not_a_checkpoint(path, "checkpoint.no_statement")
    try:
        header = json.loads(line[len(_STATEMENT_START) :].rstrip(b",\n"))
    except ValueError:
        raise _not_a_checkpoint(path, "checkpoint.statement_unreadable") from None
    if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        raise _not_a_checkpoint(path, "checkpoint.other_format", format=CHECKPOINT_FORMAT)
    if header.get("version") != CHECKPOINT_VERSION:
        raise _not_a_checkpoint(
            path, "checkpoint.other_version", version=repr(header.get("version"))
        )
    return header


def _not_a_checkpoint(path: Path, code: str, /, **why: Any) -> InvalidInput:
    return InvalidInput("checkpoint.invalid", path=str(path), why=Message(code, why))


# --- the walk ------------------------------------------------------------------------------


class _HasCompany(Protocol):
    company_id: int


R = TypeVar("R", bound=_HasCompany)


class _Stream(Generic[R]):
    """A stream of rows ordered by company id, taken one company at a time."""

    def __init__(self, rows: Iterator[R], what: str) -> None:
        self.rows, self.what = rows, what
        self.head: R | None = next(rows, None)

    def take(self, company_id: int) -> Iterator[R]:
        while self.head is not None and self.head.company_id == company_id:
            row = self.head
            self.head = next(self.rows, None)
            yield row

    def orphans(self, before: int | None) -> None:
        """Fail if rows of a company that is not recorded come before company `before`
        (None: anywhere in the rest of the stream)."""
        if self.head is None or (before is not None and self.head.company_id >= before):
            return
        orphan = self.head.company_id
        n = sum(1 for _ in self.take(orphan))
        raise _Failed(
            message("audit.company_id", id=orphan),
            "audit.orphans",
            n=n,
            what=message(self.what),
            id=orphan,
        )


#: A spell as the events give it: stage, start_us, start_ym, end_us, end_ym, end_kind,
#: exit_reason (site, sector and cohort come from the company).
_Spell = list[Any]
_SPELL_FIELDS = (
    "stage", "start_us", "start_ym", "end_us", "end_ym", "end_kind", "exit_reason", "site",
    "sector", "cohort",
)  # fmt: skip


@dataclass
class _Walk:
    """Checks one company after another; `run` merges the streams."""

    key: bytes | None
    total: int
    progress: Progress | None
    checkpoint: Iterator[CheckpointEntry] | None = None
    sink: Callable[[CheckpointEntry], None] | None = None
    created_at: str = ""
    derived: _DerivedStreams | None = None
    events: int = 0
    facts: int = 0
    companies: int = 0
    _anchor: CheckpointEntry | None = field(default=None, init=False)

    def run(
        self,
        companies: Iterator[CompanyRecord],
        events: Iterator[EventRecord],
        facts: Iterator[FactRecord],
        spells: Iterator[Any],
        derived: _DerivedStreams | None = None,
    ) -> AuditResult:
        event_stream = _Stream(events, "audit.rows.events")
        fact_stream = _Stream(facts, "audit.rows.records")
        spell_stream = _Stream(spells, "audit.rows.spells")
        self.derived = derived or _DerivedStreams.empty()
        streams: tuple[_Stream[Any], ...] = (
            event_stream, fact_stream, spell_stream, *self.derived.streams(),
        )  # fmt: skip
        self._anchor = next(self.checkpoint, None) if self.checkpoint else None
        try:
            for company in companies:
                self._missing_before(company)
                for stream in streams:
                    stream.orphans(company.id)
                anchor = (
                    self._anchor if self._anchor and self._anchor.company_id == company.id else None
                )
                if anchor is not None and anchor.key != company.key:
                    raise _Failed(
                        anchor.key,
                        "audit.checkpoint_replaced",
                        created=self._created,
                        id=company.id,
                        key=company.key,
                    )
                self._company(company, event_stream, fact_stream, spell_stream, anchor)
                if anchor is not None:
                    self._anchor = next(self.checkpoint, None) if self.checkpoint else None
            self._missing_before(None)
            for stream in streams:
                stream.orphans(None)
        except _Failed as failure:
            subject = failure.company
            return AuditResult(
                False, self.events, self.companies, str(subject), failure.seq,
                failure.problem, self.facts,
                subject=subject if isinstance(subject, Message) else None,
            )  # fmt: skip
        if self.progress:
            self.progress("verifying", self.events, self.total)
        return AuditResult(True, self.events, self.companies, facts=self.facts)

    @property
    def _created(self) -> str:
        return self.created_at or "?"

    def _missing_before(self, company: CompanyRecord | None) -> None:
        anchor = self._anchor
        if anchor is not None and (company is None or anchor.company_id < company.id):
            raise _Failed(
                anchor.key, "audit.checkpoint_missing", created=self._created, events=anchor.events
            )

    def _company(
        self,
        c: CompanyRecord,
        events: _Stream[EventRecord],
        facts: _Stream[FactRecord],
        spells: _Stream[Any],
        anchor: CheckpointEntry | None,
    ) -> None:
        self.companies += 1
        expected, stage, first_at, last_at = self._events(c, events, anchor)
        profile, known = self._facts(c, facts, anchor)
        self._row(c, stage, first_at, last_at, profile, known)
        self._derived(c, known)
        cohort = first_at.year
        for spell in expected:
            spell += [c.site, c.sector, cohort]
        self._spells(c, expected, spells)
        if self.sink is not None:
            self.sink(
                CheckpointEntry(c.id, c.key, c.event_count, c.head_hash, c.fact_count, c.fact_head)
            )

    def _events(
        self, c: CompanyRecord, events: _Stream[EventRecord], anchor: CheckpointEntry | None
    ) -> tuple[list[_Spell], str, datetime, datetime]:
        """Walk the company's event chain; the spells it gives, its stage, first and last
        event times."""
        key, link, canonical_event = self.key, audit.link, audit.canonical_event
        running, seq, stage = audit.GENESIS, 0, NEW
        first_at: datetime | None = None
        last_at: datetime | None = None
        anchored: str | None = None
        spells: list[_Spell] = []
        for e in events.take(c.id):
            seq += 1
            if e.seq != seq or e.prev_hash != running:
                raise _Failed(c.key, "audit.event_chain", e.seq, id=e.id, expected=seq)
            document = canonical_event(
                c.key, e.seq, e.kind, e.from_stage, e.to_stage, e.effective_at, e.recorded_at,
                e.actor, e.note, e.reason, e.gate,
            )  # fmt: skip
            digest = link(running, document, key)
            if digest != e.hash:
                raise _Failed(
                    c.key, "audit.event_hash", e.seq, id=e.id, kind=_kind(e.kind), at=e.effective_at
                )
            if e.gate is not None and not _gate_fits(e.gate, e.to_stage):
                raise _Failed(
                    c.key, "audit.event_gate", e.seq, id=e.id, kind=_kind(e.kind), at=e.effective_at
                )
            admit = e.kind == EventKind.ADMIT
            moved_to = resolve(stage, e.kind, e.to_stage if admit else None)
            if e.from_stage != (None if admit else stage) or moved_to != e.to_stage:
                raise _Failed(
                    c.key,
                    "audit.event_move",
                    e.seq,
                    id=e.id,
                    kind=_kind(e.kind),
                    from_stage=stage_param(e.from_stage) if e.from_stage else "—",
                    to_stage=stage_param(e.to_stage),
                    stage=stage_param(stage),
                )
            at = e.effective_at
            us, ym = to_micros(at), year_month(at)
            if admit:
                first_at = at
            elif spells and spells[-1][3] is None:
                spells[-1][3:7] = (us, ym, e.kind, e.reason)
            if e.to_stage != Stage.EXITED:
                spells.append([e.to_stage, us, ym, None, None, None, None])
            running, stage, last_at = digest, e.to_stage, at
            if anchor is not None and seq == anchor.events:
                anchored = digest
            self.events += 1
            if self.progress and self.events % 20_000 == 0:
                self.progress("verifying", self.events, self.total)
        if seq == 0 or first_at is None or last_at is None:
            raise _Failed(c.key, "audit.no_events", n=c.event_count)
        if anchor is not None:
            if seq < anchor.events:
                raise _Failed(
                    c.key,
                    "audit.fewer_events",
                    n=seq,
                    anchored=anchor.events,
                    created=self._created,
                )
            if anchored != anchor.head:
                raise _Failed(
                    c.key, "audit.event_rewritten", n=anchor.events, created=self._created
                )
        if running != c.head_hash or seq != c.event_count:
            raise _Failed(
                c.key,
                "audit.event_head",
                seq,
                recorded=c.event_count,
                recorded_head=c.head_hash[:12],
                n=seq,
                head=running[:12],
            )
        return spells, stage, first_at, last_at

    def _facts(
        self, c: CompanyRecord, facts: _Stream[FactRecord], anchor: CheckpointEntry | None
    ) -> tuple[dict[str, Any], CompanyFacts]:
        """Walk the company's record chain; the fold of its profile records, and of its
        evidence records."""
        running, seq = audit.GENESIS, 0
        anchored: str | None = None
        profile: dict[str, Any] = {}
        evidence: list[tuple[int, str, Any]] = []
        kept: dict[int, FactRecord] = {}
        for f in facts.take(c.id):
            seq += 1
            what = message("audit.record", seq=f.seq, id=f.id, kind=_fact_kind(f.kind))
            if f.seq != seq or f.prev_hash != running:
                raise _Failed(c.key, "audit.record_chain", what=what, expected=seq)
            digest = audit.fact_hash(
                running, c.key, f.seq, f.kind, f.payload, f.recorded_at, f.actor, f.note, self.key
            )
            if digest != f.hash:
                raise _Failed(c.key, "audit.record_hash", what=what)
            if f.kind not in KNOWN_FACT_KINDS:
                raise _Failed(c.key, "audit.record_kind", what=what)
            if f.kind == audit.PROFILE:
                fields = _profile_fields(f.payload)
                if fields is None or (not profile and set(fields) != set(audit.PROFILE_FIELDS)):
                    raise _Failed(c.key, "audit.record_invalid", what=what)
                profile.update(fields)
            else:
                try:
                    evidence.append((f.seq, f.kind, parse_payload(f.payload)))
                except BadRecord:
                    raise _Failed(c.key, "audit.fact_invalid", what=what) from None
                kept[f.seq] = f
            running = digest
            if anchor is not None and seq == anchor.facts:
                anchored = digest
            self.facts += 1
        if anchor is not None:
            if seq < anchor.facts:
                raise _Failed(
                    c.key,
                    "audit.fewer_records",
                    n=seq,
                    anchored=anchor.facts,
                    created=self._created,
                )
            if anchor.facts and anchored != anchor.fact_head:
                raise _Failed(
                    c.key, "audit.record_rewritten", n=anchor.facts, created=self._created
                )
        if running != c.fact_head or seq != c.fact_count:
            raise _Failed(
                c.key,
                "audit.record_head",
                recorded=c.fact_count,
                recorded_head=c.fact_head[:12],
                n=seq,
                head=running[:12],
            )
        if not profile:
            raise _Failed(c.key, "audit.no_profile")
        try:
            known = fold(c.key, profile.get("uscc"), evidence)
        except BadRecord as bad:
            bad_record = kept.get(bad.seq) if bad.seq is not None else None
            what = (
                message(
                    "audit.record",
                    seq=bad_record.seq,
                    id=bad_record.id,
                    kind=_fact_kind(bad_record.kind),
                )
                if bad_record is not None
                else message("audit.the_database")
            )
            raise _Failed(c.key, "audit.fact_invalid", what=what) from None
        return profile, known

    def _row(
        self,
        c: CompanyRecord,
        stage: str,
        first_at: datetime,
        last_at: datetime,
        profile: dict[str, Any],
        known: CompanyFacts,
    ) -> None:
        """The company row against what its chains give."""
        if stage != c.stage:
            raise _Failed(
                c.key, "audit.row_stage", stage=stage_param(c.stage), moved=stage_param(stage)
            )
        derived: list[tuple[str, Any, Any, str]] = [
            ("admitted_at", c.admitted_at, first_at, "audit.source.admit"),
            ("entered_stage_at", c.entered_stage_at, last_at, "audit.source.last"),
            ("last_event_at", c.last_event_at, last_at, "audit.source.last"),
            ("cohort", c.cohort, first_at.year, "audit.source.year"),
            *(
                (name, getattr(c, name), profile[name], "audit.source.profile")
                for name in audit.PROFILE_FIELDS
            ),
            ("founded_on", c.founded_on, known.founded_on, "audit.source.founding"),
        ]
        for name, stored, expected, source in derived:
            if stored != expected:
                raise _Failed(
                    c.key,
                    "audit.row_field",
                    name=message(f"audit.column.{name}"),
                    stored=_Shown(stored),
                    source=message(source),
                    expected=_Shown(expected),
                )

    def _derived(self, c: CompanyRecord, known: CompanyFacts) -> None:
        """The company's evidence rows against the fold of its evidence records."""
        d, rows = derive(known), self.derived
        assert rows is not None
        for table, columns, stream, expected, by_year in (
            ("qualification", QUALIFICATION_COLUMNS, rows.qualifications, d.qualifications, False),
            ("financing_round", FINANCING_COLUMNS, rows.financing, d.financing, False),
            ("milestone", MILESTONE_COLUMNS, rows.milestones, d.milestones, False),
            ("annual_figures", FIGURES_COLUMNS, rows.figures, d.figures, True),
        ):
            stored = [_derived_row(r) for r in stream.take(c.id)]
            what = message(f"audit.table.{table}")
            if len(stored) != len(expected):
                change = "audit.deleted" if len(stored) < len(expected) else "audit.added"
                raise _Failed(
                    c.key, "audit.derived_count", table=what, n=len(stored),
                    expected=len(expected), change=message(change),
                )  # fmt: skip
            for have, want in zip(stored, expected, strict=True):
                if have == want:
                    continue
                name, got, should = next(
                    (n, h, w) for n, h, w in zip(columns, have, want, strict=True) if h != w
                )
                row = (
                    message("audit.row_year", year=want[0])
                    if by_year
                    else message("audit.row_record", seq=want[0])
                )
                raise _Failed(
                    c.key, "audit.derived_field", table=what, row=row, name=name,
                    got=_Shown(got), expected=_Shown(should),
                )  # fmt: skip

    def _spells(self, c: CompanyRecord, expected: list[_Spell], spells: _Stream[Any]) -> None:
        stored = [
            [s.stage, s.start_us, s.start_ym, s.end_us, s.end_ym, s.end_kind, s.exit_reason,
             s.site, s.sector, s.cohort]
            for s in spells.take(c.id)
        ]  # fmt: skip
        if len(stored) != len(expected):
            change = "audit.deleted" if len(stored) < len(expected) else "audit.added"
            raise _Failed(
                c.key,
                "audit.spell_count",
                n=len(stored),
                expected=len(expected),
                change=message(change),
            )
        for number, (have, want) in enumerate(zip(stored, expected, strict=True), 1):
            if have != want:
                name, got, should = next(
                    (n, h, w) for n, h, w in zip(_SPELL_FIELDS, have, want, strict=True) if h != w
                )
                raise _Failed(
                    c.key,
                    "audit.spell_field",
                    number=number,
                    stage=stage_param(want[0]),
                    start=_shown_us(want[1]),
                    name=name,
                    got=_shown_spell(name, got),
                    expected=_shown_spell(name, should),
                )


@dataclass
class _DerivedStreams:
    """The evidence tables, each a stream by company id."""

    qualifications: _Stream[QualificationRecord]
    financing: _Stream[FinancingRecord]
    milestones: _Stream[MilestoneRecord]
    figures: _Stream[FiguresRecord]

    @classmethod
    def empty(cls) -> _DerivedStreams:
        return cls(
            _Stream(iter(()), "audit.rows.qualifications"),
            _Stream(iter(()), "audit.rows.financing"),
            _Stream(iter(()), "audit.rows.milestones"),
            _Stream(iter(()), "audit.rows.figures"),
        )

    def streams(self) -> tuple[_Stream[Any], ...]:
        return (self.qualifications, self.financing, self.milestones, self.figures)


def _derived_row(record: Any) -> tuple[Any, ...]:
    """A stored evidence row as `evidence.derive` gives it (without its id and company)."""
    if isinstance(record, FiguresRecord):
        return (record.year, *record.values)
    if isinstance(record, QualificationRecord):
        return (
            record.seq, record.kind, record.level, record.number, record.granted_on,
            record.expires_on, record.revoked_on, record.revoke_reason,
        )  # fmt: skip
    if isinstance(record, FinancingRecord):
        return (record.seq, record.financed_on, record.amount, record.round_name, record.investor)
    return (record.seq, record.kind, record.achieved_on)


def _gate_fits(text: str, to_stage: str) -> bool:
    """A recorded gate outcome is a readable object about the stage the event entered, and
    the move it let through passed or was overridden."""
    try:
        gate = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(gate, dict)
        and gate.get("stage") == to_stage
        and (gate.get("passed") is True or isinstance(gate.get("override"), str))
    )


def _kind(value: str) -> EventKind | str:
    try:
        return EventKind(value)
    except ValueError:
        return value


def _fact_kind(value: str) -> Message | str:
    return message(f"fact.{value}") if value in KNOWN_FACT_KINDS else value


def _profile_fields(payload: str) -> dict[str, Any] | None:
    try:
        fields = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(fields, dict) or not fields or not set(fields) <= set(audit.PROFILE_FIELDS):
        return None
    return fields


class _Shown:
    """A stored value named in a finding: a time in ISO 8601, text quoted, `(none)`."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def localised(self, lang: str) -> str:
        value = self.value
        if isinstance(value, datetime):
            return isoformat(value)
        if value is None:
            return message("audit.none").render(lang)
        if isinstance(value, str):
            return message("audit.quoted", text=value).render(lang)
        if isinstance(value, EventKind | Stage):
            return value.localised(lang)
        return str(value)


def _shown_us(micros: int | None) -> Message | str:
    from incubator.values import from_micros

    return message("audit.open") if micros is None else isoformat(from_micros(micros))


def _shown_spell(name: str, value: Any) -> Any:
    if name in ("start_us", "end_us"):
        return _shown_us(value)
    if name == "stage" and isinstance(value, str):
        return _Shown(stage_param(value))
    return _Shown(value)


# --- use cases -----------------------------------------------------------------------------


def verify_audit(
    db: Database, *, checkpoint: Path | None = None, progress: Progress | None = None
) -> AuditResult:
    """Check every company against its chains (see the module's docstring), and against the
    checkpoint when one is given. Reads one snapshot."""
    key = audit.audit_key()
    anchor: Checkpoint | None = None
    with db.unit() as uow:
        stored = uow.setting(KEY_SETTING)
        problem = _key_problem(stored, key, "verify")
        if problem:
            return AuditResult(False, 0, 0, finding=problem, checked=False)
        if checkpoint is not None:
            opened = _open_checkpoint(checkpoint, key)
            if isinstance(opened, AuditResult):
                return opened
            anchor = opened
        total = uow.count_events()
        if stored is None and total:
            return AuditResult(False, 0, 0, finding=message("audit.no_key_mode", n=total))
        walk = _Walk(key, total, progress)
        if anchor is None:
            result = _run(uow, walk)
        else:
            with closing(anchor.entries()) as entries:
                walk.checkpoint, walk.created_at = entries, anchor.created_at
                result = _run(uow, walk)
    if result.ok and anchor is not None:
        result.checkpoint = message(
            "audit.checkpoint_holds",
            created=anchor.created_at,
            companies=anchor.header.get("companies", "?"),
        )
    return result


def _open_checkpoint(path: Path, key: bytes | None) -> Checkpoint | AuditResult:
    """The checkpoint, or the result that says why it does not verify with this key (the
    key is already checked against the database's)."""
    signed = Checkpoint.open(path, key)
    mode = signed.mode
    if mode != audit.key_mode(key):
        if not audit.is_keyed(mode):
            problem = message("checkpoint.unkeyed", path=str(path))
        elif key is None:
            problem = message("checkpoint.needs_key", path=str(path))
        else:
            problem = message(
                "checkpoint.other_key", path=str(path), fingerprint=audit.short_fingerprint(mode)
            )
        return AuditResult(False, 0, 0, finding=problem, checked=False)
    if not signed.signature_ok:
        return AuditResult(
            False, 0, 0, company_key=str(path), finding=message("checkpoint.signature")
        )
    return signed


def _run(uow: UnitOfWork, walk: _Walk) -> AuditResult:
    with (
        closing(uow.stream_companies()) as companies,
        closing(uow.stream_events()) as events,
        closing(uow.stream_facts()) as facts,
        closing(uow.stream_spells()) as spells,
        closing(uow.stream_qualifications()) as qualifications,
        closing(uow.stream_financing()) as financing,
        closing(uow.stream_milestones()) as milestones,
        closing(uow.stream_figures()) as figures,
    ):
        derived = _DerivedStreams(
            _Stream(qualifications, "audit.rows.qualifications"),
            _Stream(financing, "audit.rows.financing"),
            _Stream(milestones, "audit.rows.milestones"),
            _Stream(figures, "audit.rows.figures"),
        )
        return walk.run(companies, events, facts, spells, derived)


def write_checkpoint(
    db: Database, path: Path, *, force: bool = False, progress: Progress | None = None
) -> AuditResult:
    """Verify the database and write a signed checkpoint of every company's chain heads to
    `path` (never the database; a temporary file renamed at the end; an existing file only
    with `force`). Refused (AuditFailed) when the audit fails: a checkpoint anchors only a
    verified state."""
    key = audit.audit_key()
    with db.unit() as uow:
        stored = uow.setting(KEY_SETTING)
        problem = _key_problem(stored, key, "sign")
        if problem:
            raise AuditKeyMismatch("auditkey.refused", problem=problem)
        total = uow.count_events()
        header = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "created_at": isoformat(now_utc()),
            "database": db.describe(),
            "audit_key": audit.key_mode(key),
            "companies": uow.count_companies(),
            "events": total,
            "records": uow.count_facts(),
            "signature": KEYED_NOTE if key else UNKEYED_NOTE,
        }
        with replacing(path, force=force, protect=db.files(), mode="binary") as out:
            writer = _CheckpointWriter(out, key, header)
            walk = _Walk(key, total, progress, sink=writer.add)
            result = _run(uow, walk)
            if not result.ok:
                raise AuditFailed("checkpoint.audit_fails", result=result)
            writer.finish()
    return result
