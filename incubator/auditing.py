"""Audit use cases (DESIGN §6, §10): the audit key mode, `audit verify` and checkpoints.

`verify_audit` reads one snapshot and walks every table once, side by side in company-id
order (companies, events, company records, spells), holding one company at a time, so it
scales to millions of companies in bounded memory. For each company it recomputes both hash
chains (events and records), checks that each event is a move the ladder allows, and checks
everything derived from the chains: the company row (stage, times, cohort, counts, heads,
and name, sector, site and USCC as the fold of its profile records) and its spells.

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
from incubator.outfiles import replacing
from incubator.stages import NEW, DomainError, EventKind, InvalidInput, Stage, resolve
from incubator.store import CompanyRecord, Database, EventRecord, FactRecord, UnitOfWork
from incubator.values import isoformat, now_utc, to_micros, year_month

#: Called as progress(phase, done, total) during long work (as `eventlog.Progress`).
Progress = Callable[[str, int, int], None]

#: The setting that records the database's audit key mode (`audit.key_mode`).
KEY_SETTING = "audit_key"

#: Record kinds `audit verify` knows how to fold; any other kind in a chain is reported.
KNOWN_FACT_KINDS = frozenset({audit.PROFILE})

CHECKPOINT_FORMAT = "incubator-audit-checkpoint"
CHECKPOINT_VERSION = 1


class AuditKeyMismatch(DomainError):
    """A write or a check made without the database's audit key, or with another key."""


class AuditFailed(DomainError):
    """The audit does not verify, so no checkpoint is written."""


# --- the audit key -------------------------------------------------------------------------


def _key_problem(stored: str | None, key: bytes | None, doing: str) -> str | None:
    """Why `key` cannot be used to `doing` ("write", "verify") on a database whose key mode
    is `stored` (None: not decided yet, any key will do); None when it can."""
    if stored is None or stored == audit.key_mode(key):
        return None
    if audit.is_keyed(stored):
        if key is None:
            return (
                f"this database's audit chain is keyed (INCUBATOR_AUDIT_KEY); set the same key "
                f"to {doing}"
            )
        return (
            f"the INCUBATOR_AUDIT_KEY given does not match this database's audit key "
            f"(fingerprint {audit.short_fingerprint(stored)}…); set the key it was written with "
            f"to {doing}"
        )
    return (
        f"this database's audit chain has no key, but INCUBATOR_AUDIT_KEY is set; unset it to "
        f"{doing} (if this database was written with a key, its key record was changed "
        "outside the tracker)"
    )


def key_for_writing(uow: UnitOfWork) -> bytes | None:
    """The key a write will chain with, checked like `writing_key` but without recording the
    key mode, so that it can run in a read transaction: an import checks the key before it
    chains its rows, and calls `writing_key` again in its write transaction."""
    key = audit.audit_key()
    problem = _key_problem(uow.setting(KEY_SETTING), key, "write")
    if problem:
        raise AuditKeyMismatch(problem)
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
        raise AuditKeyMismatch(problem)
    return key


# --- results -------------------------------------------------------------------------------


@dataclass
class AuditResult:
    """What `audit verify` found. `checked` is False when it could not check at all (a
    missing or wrong key); then `problem` says why."""

    ok: bool
    events: int
    companies: int
    company_key: str | None = None
    seq: int | None = None
    problem: str = ""
    facts: int = 0
    checked: bool = True
    checkpoint: str = ""

    def __str__(self) -> str:
        if not self.checked:
            return f"cannot verify: {self.problem}"
        if self.ok:
            text = (
                f"OK: {self.events} events in {self.companies} companies verified "
                f"(with {self.facts} company records, the company rows and the spells)"
            )
            return text + (f"; {self.checkpoint}" if self.checkpoint else "")
        where = self.company_key or "the database"
        where += f" event #{self.seq}" if self.seq else ""
        return f"FAILED: {where}: {self.problem}"


class _Failed(Exception):
    def __init__(self, company: str, problem: str, seq: int | None = None) -> None:
        self.company, self.problem, self.seq = company, problem, seq


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
            raise _not_a_checkpoint(path, "it does not end with a signature")
        try:
            signature = json.loads(held[len(_SIGNATURE_START) :].rstrip(b"\n")[:-1])
            value = str(signature["value"])
        except (ValueError, KeyError, TypeError):
            raise _not_a_checkpoint(path, "its signature line cannot be read") from None
        return cls(path, header, hmac.compare_digest(value, signer.hexdigest()))

    def entries(self) -> Generator[CheckpointEntry, None, None]:
        previous = 0
        with _open_binary(self.path) as lines:
            for number, line in enumerate(lines, 1):
                if number <= 2:
                    if number == 2 and line != _COMPANIES_START:
                        raise _not_a_checkpoint(self.path, "line 2 is not the company list")
                    continue
                if line == _COMPANIES_END:
                    return
                try:
                    cid, key, events, head, facts, fact_head = json.loads(line.rstrip(b",\n"))
                    entry = CheckpointEntry(
                        int(cid), str(key), int(events), str(head), int(facts), str(fact_head)
                    )
                except (ValueError, TypeError):
                    raise _not_a_checkpoint(self.path, f"line {number} cannot be read") from None
                if entry.company_id <= previous:
                    raise _not_a_checkpoint(self.path, f"line {number} is out of order")
                previous = entry.company_id
                yield entry
        raise _not_a_checkpoint(self.path, "its company list does not end")


def _open_binary(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def _parse_header(path: Path, line: bytes) -> dict[str, Any]:
    if not line.startswith(_STATEMENT_START):
        raise _not_a_checkpoint(path, "it does not start with a statement")
    try:
        header = json.loads(line[len(_STATEMENT_START) :].rstrip(b",\n"))
    except ValueError:
        raise _not_a_checkpoint(path, "its statement cannot be read") from None
    if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        raise _not_a_checkpoint(path, f"its format is not {CHECKPOINT_FORMAT}")
    if header.get("version") != CHECKPOINT_VERSION:
        raise _not_a_checkpoint(path, f"version {header.get('version')!r} is not supported")
    return header


def _not_a_checkpoint(path: Path, why: str) -> InvalidInput:
    return InvalidInput(
        f"{path} is not an audit checkpoint written by `incubator audit checkpoint` ({why})"
    )


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
            f"(company id {orphan})",
            f"{n} {self.what} belong to no recorded company (company id {orphan} is not in "
            "the company table)",
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
    ) -> AuditResult:
        event_stream = _Stream(events, "events in the log")
        fact_stream = _Stream(facts, "company records")
        spell_stream = _Stream(spells, "spells")
        streams = (event_stream, fact_stream, spell_stream)
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
                        f"is in the checkpoint of {self._created} but missing from the database "
                        f"(its company id {company.id} now holds {company.key})",
                    )
                self._company(company, event_stream, fact_stream, spell_stream, anchor)
                if anchor is not None:
                    self._anchor = next(self.checkpoint, None) if self.checkpoint else None
            self._missing_before(None)
            for stream in streams:
                stream.orphans(None)
        except _Failed as failure:
            return AuditResult(
                False, self.events, self.companies, failure.company, failure.seq,
                failure.problem, self.facts,
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
                anchor.key,
                f"is in the checkpoint of {self._created} (with {anchor.events} events) but "
                "missing from the database (deleted outside the tracker)",
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
        profile = self._facts(c, facts, anchor)
        self._row(c, stage, first_at, last_at, profile)
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
                raise _Failed(
                    c.key,
                    f"event id {e.id} breaks the chain (expected event #{seq} after the "
                    "previous hash); an event was removed or reordered",
                    e.seq,
                )
            document = canonical_event(
                c.key, e.seq, e.kind, e.from_stage, e.to_stage, e.effective_at, e.recorded_at,
                e.actor, e.note, e.reason,
            )  # fmt: skip
            digest = link(running, document, key)
            if digest != e.hash:
                raise _Failed(
                    c.key,
                    f"event id {e.id} ({e.kind} at {isoformat(e.effective_at)}) does not match "
                    "its hash: its recorded fields were changed",
                    e.seq,
                )
            admit = e.kind == EventKind.ADMIT
            moved_to = resolve(stage, e.kind, e.to_stage if admit else None)
            if e.from_stage != (None if admit else stage) or moved_to != e.to_stage:
                raise _Failed(
                    c.key,
                    f"event id {e.id} ({e.kind} {e.from_stage or '—'} → {e.to_stage}) is not a "
                    f"move the ladder allows from {stage}",
                    e.seq,
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
            raise _Failed(c.key, f"the company records {c.event_count} events but the log has none")
        if anchor is not None:
            if seq < anchor.events:
                raise _Failed(
                    c.key,
                    f"has {seq} events, fewer than the {anchor.events} in the checkpoint of "
                    f"{self._created} (events were removed outside the tracker)",
                )
            if anchored != anchor.head:
                raise _Failed(
                    c.key,
                    f"its event #{anchor.events} is not the one in the checkpoint of "
                    f"{self._created} (its history was rewritten outside the tracker)",
                )
        if running != c.head_hash or seq != c.event_count:
            raise _Failed(
                c.key,
                f"chain head does not match: the company records {c.event_count} events ending "
                f"in {c.head_hash[:12]}…, the log has {seq} ending in {running[:12]}… (an event "
                "was deleted or added outside the tracker)",
                seq,
            )
        return spells, stage, first_at, last_at

    def _facts(
        self, c: CompanyRecord, facts: _Stream[FactRecord], anchor: CheckpointEntry | None
    ) -> dict[str, Any]:
        """Walk the company's record chain; the fold of its profile records."""
        running, seq = audit.GENESIS, 0
        anchored: str | None = None
        profile: dict[str, Any] = {}
        for f in facts.take(c.id):
            seq += 1
            what = f"record #{f.seq} (id {f.id}, {f.kind})"
            if f.seq != seq or f.prev_hash != running:
                raise _Failed(
                    c.key,
                    f"{what} breaks the record chain (expected record #{seq} after the "
                    "previous hash); a record was removed or reordered",
                )
            digest = audit.fact_hash(
                running, c.key, f.seq, f.kind, f.payload, f.recorded_at, f.actor, f.note, self.key
            )
            if digest != f.hash:
                raise _Failed(c.key, f"{what} does not match its hash: its fields were changed")
            if f.kind not in KNOWN_FACT_KINDS:
                raise _Failed(c.key, f"{what} is of a kind this version cannot check")
            if f.kind == audit.PROFILE:
                fields = _profile_fields(f.payload)
                if fields is None or (not profile and set(fields) != set(audit.PROFILE_FIELDS)):
                    raise _Failed(c.key, f"{what} is not a valid profile record")
                profile.update(fields)
            running = digest
            if anchor is not None and seq == anchor.facts:
                anchored = digest
            self.facts += 1
        if anchor is not None:
            if seq < anchor.facts:
                raise _Failed(
                    c.key,
                    f"has {seq} company records, fewer than the {anchor.facts} in the checkpoint "
                    f"of {self._created} (records were removed outside the tracker)",
                )
            if anchor.facts and anchored != anchor.fact_head:
                raise _Failed(
                    c.key,
                    f"its company record #{anchor.facts} is not the one in the checkpoint of "
                    f"{self._created} (its records were rewritten outside the tracker)",
                )
        if running != c.fact_head or seq != c.fact_count:
            raise _Failed(
                c.key,
                f"record chain head does not match: the company records {c.fact_count} records "
                f"ending in {c.fact_head[:12]}…, the log has {seq} ending in {running[:12]}… (a "
                "record was deleted or added outside the tracker)",
            )
        if not profile:
            raise _Failed(c.key, "the company has no profile record (name, sector, site, USCC)")
        return profile

    def _row(
        self,
        c: CompanyRecord,
        stage: str,
        first_at: datetime,
        last_at: datetime,
        profile: dict[str, Any],
    ) -> None:
        """The company row against what its chains give."""
        if stage != c.stage:
            raise _Failed(
                c.key,
                f"the company is recorded in {c.stage}, but its last event moved it to {stage} "
                "(the company row was changed outside the tracker)",
            )
        derived: list[tuple[str, Any, Any, str]] = [
            ("admitted_at", c.admitted_at, first_at, "its admit event gives"),
            ("entered_stage_at", c.entered_stage_at, last_at, "its last event gives"),
            ("last_event_at", c.last_event_at, last_at, "its last event gives"),
            ("cohort", c.cohort, first_at.year, "the year of its admit event is"),
            *(
                (name, getattr(c, name), profile[name], "its profile records give")
                for name in audit.PROFILE_FIELDS
            ),
        ]
        for name, stored, expected, source in derived:
            if stored != expected:
                raise _Failed(
                    c.key,
                    f"the company row records {name} {_shown(stored)}, but {source} "
                    f"{_shown(expected)} (the company row was changed outside the tracker)",
                )

    def _spells(self, c: CompanyRecord, expected: list[_Spell], spells: _Stream[Any]) -> None:
        stored = [
            [s.stage, s.start_us, s.start_ym, s.end_us, s.end_ym, s.end_kind, s.exit_reason,
             s.site, s.sector, s.cohort]
            for s in spells.take(c.id)
        ]  # fmt: skip
        if len(stored) != len(expected):
            change = "deleted" if len(stored) < len(expected) else "added"
            raise _Failed(
                c.key,
                f"the spell table has {len(stored)} spells, its events give {len(expected)} (a "
                f"spell was {change} outside the tracker)",
            )
        for number, (have, want) in enumerate(zip(stored, expected, strict=True), 1):
            if have != want:
                name, got, should = next(
                    (n, h, w) for n, h, w in zip(_SPELL_FIELDS, have, want, strict=True) if h != w
                )
                raise _Failed(
                    c.key,
                    f"spell {number} ({want[0]} from {_shown_us(want[1])}) records {name} "
                    f"{_shown_spell(name, got)}, but its events give {_shown_spell(name, should)} "
                    "(the spell table was changed outside the tracker)",
                )


def _profile_fields(payload: str) -> dict[str, Any] | None:
    try:
        fields = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(fields, dict) or not fields or not set(fields) <= set(audit.PROFILE_FIELDS):
        return None
    return fields


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return isoformat(value)
    return "(none)" if value is None else repr(value) if isinstance(value, str) else str(value)


def _shown_us(micros: int | None) -> str:
    from incubator.values import from_micros

    return "(open)" if micros is None else isoformat(from_micros(micros))


def _shown_spell(name: str, value: Any) -> str:
    return _shown_us(value) if name in ("start_us", "end_us") else _shown(value)


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
            return AuditResult(False, 0, 0, problem=problem, checked=False)
        if checkpoint is not None:
            opened = _open_checkpoint(checkpoint, key)
            if isinstance(opened, AuditResult):
                return opened
            anchor = opened
        total = uow.count_events()
        if stored is None and total:
            return AuditResult(
                False, 0, 0, problem=f"the database has {total} events but no record of its "
                "audit key mode (the audit_key setting was removed outside the tracker)",
            )  # fmt: skip
        walk = _Walk(key, total, progress)
        if anchor is None:
            result = _run(uow, walk)
        else:
            with closing(anchor.entries()) as entries:
                walk.checkpoint, walk.created_at = entries, anchor.created_at
                result = _run(uow, walk)
    if result.ok and anchor is not None:
        result.checkpoint = (
            f"the checkpoint of {anchor.created_at} "
            f"({anchor.header.get('companies', '?')} companies) holds"
        )
    return result


def _open_checkpoint(path: Path, key: bytes | None) -> Checkpoint | AuditResult:
    """The checkpoint, or the result that says why it does not verify with this key (the
    key is already checked against the database's)."""
    signed = Checkpoint.open(path, key)
    mode = signed.mode
    if mode != audit.key_mode(key):
        if not audit.is_keyed(mode):
            problem = (
                f"{path} has no keyed signature, but this database is keyed; use a checkpoint "
                "written with its key"
            )
        elif key is None:
            problem = f"{path} is signed with an audit key; set INCUBATOR_AUDIT_KEY to verify it"
        else:
            problem = (
                f"{path} was signed with another audit key (fingerprint "
                f"{audit.short_fingerprint(mode)}…) than the INCUBATOR_AUDIT_KEY given"
            )
        return AuditResult(False, 0, 0, problem=problem, checked=False)
    if not signed.signature_ok:
        return AuditResult(
            False, 0, 0, company_key=str(path),
            problem="the checkpoint's signature does not verify: the file was changed after it "
            "was written",
        )  # fmt: skip
    return signed


def _run(uow: UnitOfWork, walk: _Walk) -> AuditResult:
    with (
        closing(uow.stream_companies()) as companies,
        closing(uow.stream_events()) as events,
        closing(uow.stream_facts()) as facts,
        closing(uow.stream_spells()) as spells,
    ):
        return walk.run(companies, events, facts, spells)


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
        problem = _key_problem(stored, key, "sign a checkpoint")
        if problem:
            raise AuditKeyMismatch(problem)
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
                raise AuditFailed(f"no checkpoint written: the audit fails: {result}")
            writer.finish()
    return result
