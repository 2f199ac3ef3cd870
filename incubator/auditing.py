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
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Generic, NoReturn, Protocol, TypeVar

from incubator import audit
from incubator.audit import GENESIS
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
    AUDIT_TABLES,
    CompanyRecord,
    Database,
    EventRecord,
    FactRecord,
    FiguresRecord,
    FinancingRecord,
    MilestoneRecord,
    QualificationRecord,
    StoreError,
    UnitOfWork,
    first_line,
)
from incubator.values import isoformat, now_utc, to_micros, year_month

_encode_str = json.encoder.encode_basestring  # as `audit` writes strings into the hashed text
_sha256 = hashlib.sha256
_hmac = hmac.digest
_fromisoformat = datetime.fromisoformat
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_EPOCH_DAY = _EPOCH_NAIVE.toordinal()
_DAY_US = 86_400_000_000
#: The separators of 'YYYY-MM-DD HH:MM:SS.ffffff' (characters 4, 7, 10, 13, 16 and 19).
_SEPARATORS = "-- ::."

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


#: `next_id` of a table whose rows are all taken.
_END = float("inf")
#: No rows (of a company, in a table).
_NONE: list[tuple[Any, ...]] = []
#: Progress is reported every so many events.
_PROGRESS_EVERY = 20_000
#: How many converted times `_Quick` keeps (imported rows share their recorded_at).
_TIMES_KEPT = 4096


class _Rows:
    """One table's rows as the driver reads them (`UnitOfWork.audit_batches`: plain tuples, in
    company-id order), taken one company at a time. `next_id` is the company id of the next
    row (`_END` when there is none); `convert` turns a row into its record."""

    __slots__ = ("at", "batches", "convert", "i", "next_id", "rows", "what")

    def __init__(
        self,
        batches: Iterator[list[tuple[Any, ...]]],
        at: int,
        what: str,
        convert: Callable[[tuple[Any, ...]], Any],
    ) -> None:
        self.batches, self.at, self.what, self.convert = batches, at, what, convert
        self.rows: list[tuple[Any, ...]] = []
        self.i = 0
        self.next_id: float = self.rows[0][at] if self._refill() else _END

    def _refill(self) -> bool:
        for rows in self.batches:
            if rows:
                self.rows, self.i = rows, 0
                return True
        self.rows, self.i = [], 0
        return False

    def __iter__(self) -> Iterator[list[tuple[Any, ...]]]:
        """The rest of the rows, a batch at a time."""
        if self.i < len(self.rows):
            yield self.rows[self.i :]
        self.rows, self.i, self.next_id = [], 0, _END
        yield from self.batches

    def take(self, company_id: float) -> list[tuple[Any, ...]]:
        """The rows of `company_id`, which must be `next_id`."""
        rows, i, at = self.rows, self.i, self.at
        n = len(rows)
        j = i + 1
        while j < n and rows[j][at] == company_id:
            j += 1
        taken = rows[i:j]
        while j == n:  # the company may go on in the next batch
            if not self._refill():
                self.next_id = _END
                return taken
            rows = self.rows
            n, j = len(rows), 0
            while j < n and rows[j][at] == company_id:
                j += 1
            taken += rows[:j]
        self.i = j
        self.next_id = rows[j][at]
        return taken

    def orphans(self) -> NoReturn:
        """Fail with the rows of `next_id`, a company that comes before the next company
        recorded (or after the last one)."""
        orphan = self.next_id
        n = len(self.take(orphan))
        raise _Failed(
            message("audit.company_id", id=orphan),
            "audit.orphans",
            n=n,
            what=message(self.what),
            id=orphan,
        )


@dataclass
class _Tables:
    """The tables `audit verify` reads side by side, and the driver's times converted."""

    companies: _Rows
    events: _Rows
    facts: _Rows
    spells: _Rows
    qualifications: _Rows
    financing: _Rows
    milestones: _Rows
    figures: _Rows
    time: Callable[[Any], datetime | None]
    #: The driver reads times as SQLite's naive UTC text.
    text_times: bool


class _Quick:
    """The common case at full speed: a company whose record chain is one profile record and
    that has no evidence rows, checked on the rows as the driver reads them. `company` is True
    only when every check of `_Walk._company` passes for it, computed from the same values
    (times converted by the same converter, hashed over the same bytes); False when one
    does not pass, or when the company is not such a company: then `_Walk._company` checks it
    again and names what is wrong. It compares stored times as read (equal text is an equal
    time; unequal text is left to `_Walk._company`)."""

    def __init__(
        self, key: bytes | None, time: Callable[[Any], datetime | None], text_times: bool
    ) -> None:
        self.key, self.time, self.text_times = key, time, text_times
        self.times: dict[Any, tuple[str, int, int]] = {}
        #: A stored day's ('YYYY-MM-DD') first microsecond and year-month (`instant`).
        self.days: dict[str, tuple[int, int]] = {}
        self.moves: dict[tuple[str, str, str | None], str | None] = {}

    def instant(self, stored: Any) -> tuple[str, int, int]:
        """A stored time's ISO text (as hashed), microseconds and year-month (as spelled),
        from the time as `time` converts it. SQLite's naive UTC text (the SQLAlchemy
        converter is `datetime.fromisoformat` and then UTC as the time zone; a test holds
        them equal) is converted here without the calls."""
        found = self.times.get(stored)
        if found is not None:
            return found
        if self.text_times and stored.__class__ is str:
            naive = _fromisoformat(stored)
            if naive.tzinfo is None:
                if len(stored) == 26 and stored[4:20:3] == _SEPARATORS:
                    # 'YYYY-MM-DD HH:MM:SS.ffffff', as the tracker stores a time, parsed: its
                    # ISO text is the same text but for the T; its day's microseconds and
                    # month are kept (isoformat and timedelta division cost twice the rest)
                    day = self.days.get(stored[:10])
                    if day is None:
                        if len(self.days) >= _TIMES_KEPT:
                            self.days.clear()
                        day = self.days[stored[:10]] = (
                            (naive.toordinal() - _EPOCH_DAY) * _DAY_US,
                            naive.year * 12 + naive.month - 1,
                        )
                    seconds = (naive.hour * 60 + naive.minute) * 60 + naive.second
                    found = (
                        f"{stored[:10]}T{stored[11:]}+00:00",
                        day[0] + seconds * 1_000_000 + naive.microsecond,
                        day[1],
                    )
                else:
                    found = (
                        naive.isoformat(timespec="microseconds") + "+00:00",
                        (naive - _EPOCH_NAIVE) // _MICROSECOND,
                        naive.year * 12 + naive.month - 1,
                    )
        if found is None:
            moment = self.time(stored)
            if moment is None:
                raise ValueError("no time")
            found = (
                moment.isoformat(timespec="microseconds"),
                to_micros(moment),
                year_month(moment),
            )
        if len(self.times) >= _TIMES_KEPT:
            self.times.clear()
        self.times[stored] = found
        return found

    def company(
        self,
        c: tuple[Any, ...],
        events: list[tuple[Any, ...]],
        facts: list[tuple[Any, ...]],
        spells: list[tuple[Any, ...]],
        anchor: CheckpointEntry | None,
    ) -> bool:
        try:
            return self._company(c, events, facts, spells, anchor)
        except Exception:  # whatever it is, `_Walk._company` meets it again and reports it
            return False

    def _company(
        self,
        c: tuple[Any, ...],
        events: list[tuple[Any, ...]],
        facts: list[tuple[Any, ...]],
        spells: list[tuple[Any, ...]],
        anchor: CheckpointEntry | None,
    ) -> bool:
        (
            cid, key, name, sector, site, uscc, stage_now, entered_at, admitted_at,
            last_event_at, cohort, event_count, head_hash, fact_count, fact_head, founded_on,
        ) = c  # fmt: skip
        if founded_on is not None or len(facts) != 1:
            return False
        enc, instant, moves, key_ = _encode_str, self.instant, self.moves, self.key
        quoted_key = enc(key)
        # the event chain, the moves and the spells they give (`_Walk._events`)
        running, seq, stage, year = GENESIS, 0, NEW, 0
        anchor_at = anchor.events if anchor is not None else -1
        anchored: str | None = None
        first: Any = None
        last: Any = None
        expected: list[tuple[Any, ...]] = []
        opened: tuple[Any, ...] | None = None
        for (
            _, _, e_seq, kind, from_stage, to_stage, effective_at, recorded_at, actor, note,
            reason, prev_hash, e_hash, gate,
        ) in events:  # fmt: skip
            seq += 1
            if e_seq != seq or e_seq.__class__ is not int or prev_hash != running:
                return False
            at, us, ym = instant(effective_at)
            gated = "" if gate is None else '"gate":' + gate + ","
            document = (
                f'{running}{{"actor":{enc(actor)},"company_key":{quoted_key},'
                f'"effective_at":"{at}","from_stage":'
                f"{'null' if from_stage is None else enc(from_stage)},{gated}"
                f'"kind":{enc(kind)},"note":{enc(note)},"reason":'
                f"{'null' if reason is None else enc(reason)},"
                f'"recorded_at":"{instant(recorded_at)[0]}","seq":{seq},"to_stage":{enc(to_stage)}}}'
            )
            data = document.encode()
            if (_hmac(key_, data, "sha256").hex() if key_ else _sha256(data).hexdigest()) != e_hash:
                return False
            if gate is not None and not _gate_fits(gate, to_stage):
                return False
            admit = kind == EventKind.ADMIT
            move = (stage, kind, to_stage if admit else None)
            if move in moves:
                moved_to = moves[move]
            else:
                moved_to = moves[move] = resolve(*move)
            if from_stage != (None if admit else stage) or moved_to != to_stage:
                return False
            if admit:
                if seq != 1:
                    return False
                first, year = effective_at, ym // 12
            elif opened is not None:
                expected.append((*opened, us, ym, kind, reason, site, sector, year))
                opened = None
            if to_stage != Stage.EXITED:
                opened = (cid, to_stage, us, ym)
            running, stage, last = e_hash, to_stage, effective_at
            if seq == anchor_at:
                anchored = e_hash
        if seq == 0 or first is None or running != head_hash or seq != event_count:
            return False
        if anchor is not None and (seq < anchor.events or anchored != anchor.head):
            return False
        if opened is not None:
            expected.append((*opened, None, None, None, None, site, sector, year))
        # the record chain: one profile record (`_Walk._facts`)
        _, _, f_seq, kind, payload, recorded_at, actor, note, prev_hash, f_hash = facts[0]
        if (
            f_seq != 1
            or f_seq.__class__ is not int
            or prev_hash != GENESIS
            or kind != audit.PROFILE
        ):
            return False
        document = (
            f'{GENESIS}{{"actor":{enc(actor)},"company_key":{quoted_key},"kind":"profile",'
            f'"note":{enc(note)},"payload":{payload},'
            f'"recorded_at":"{instant(recorded_at)[0]}","seq":1}}'
        )
        data = document.encode()
        digest = _hmac(key_, data, "sha256").hex() if key_ else _sha256(data).hexdigest()
        if digest != f_hash or f_hash != fact_head or fact_count != 1:
            return False
        if anchor is not None and (
            anchor.facts > 1 or (anchor.facts and f_hash != anchor.fact_head)
        ):
            return False
        # the profile is the company row's (`_Walk._facts`, `_Walk._row`)
        profile = (
            f'{{"name":{enc(name)},"sector":{enc(sector)},"site":{enc(site)},'
            f'"uscc":{"null" if uscc is None else enc(uscc)}}}'
        )
        if payload != profile:
            return False
        # the company row (`_Walk._row`) and the spells (`_Walk._spells`)
        if (
            stage != stage_now
            or admitted_at != first
            or entered_at != last
            or last_event_at != last
            or cohort != year
        ):
            return False
        return [row[1:] for row in spells] == expected


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
    checker: _Quick | None = None
    events: int = 0
    facts: int = 0
    companies: int = 0
    _anchor: CheckpointEntry | None = field(default=None, init=False)

    def run(self, tables: _Tables) -> AuditResult:
        """Merge the tables by company id: each company is checked by `_quick` and, when that
        cannot vouch for it, by `_company` (which names what is wrong)."""
        events, facts, spells = tables.events, tables.facts, tables.spells
        derived = (tables.qualifications, tables.financing, tables.milestones, tables.figures)
        streams = (events, facts, spells, *derived)
        self.checker = _Quick(self.key, tables.time, tables.text_times)
        quick, checkpoint, sink = self.checker.company, self.checkpoint, self.sink
        progress, every = self.progress, _PROGRESS_EVERY
        self._anchor = next(checkpoint, None) if checkpoint else None
        # the least company id with rows in a derived table (most companies have none)
        derived_next = min(s.next_id for s in derived)
        no_more = [_NONE] * len(derived)
        try:
            for rows in tables.companies:
                for c in rows:
                    cid = c[0]
                    anchor = self._anchor
                    if anchor is not None and anchor.company_id < cid:
                        self._missing_before(cid)
                    if events.next_id < cid:
                        events.orphans()
                    if facts.next_id < cid:
                        facts.orphans()
                    if spells.next_id < cid:
                        spells.orphans()
                    if derived_next < cid:
                        for stream in derived:
                            if stream.next_id < cid:
                                stream.orphans()
                    if anchor is not None and anchor.company_id != cid:
                        anchor = None
                    if anchor is not None and anchor.key != c[1]:
                        raise _Failed(
                            anchor.key,
                            "audit.checkpoint_replaced",
                            created=self._created,
                            id=cid,
                            key=c[1],
                        )
                    ev = events.take(cid) if events.next_id == cid else _NONE
                    fa = facts.take(cid) if facts.next_id == cid else _NONE
                    sp = spells.take(cid) if spells.next_id == cid else _NONE
                    if derived_next == cid:
                        more = [s.take(cid) if s.next_id == cid else _NONE for s in derived]
                        derived_next = min(s.next_id for s in derived)
                    else:
                        more = no_more
                    if (more is not no_more and any(more)) or not quick(c, ev, fa, sp, anchor):
                        self._slowly(tables, c, ev, fa, sp, more, anchor)
                    else:
                        self.companies += 1
                        self.facts += len(fa)
                        before, self.events = self.events, self.events + len(ev)
                        if progress and before // every != self.events // every:
                            progress("verifying", self.events, self.total)
                        if sink is not None:
                            sink(CheckpointEntry(cid, c[1], c[11], c[12], c[13], c[14]))
                    if anchor is not None:
                        self._anchor = next(checkpoint, None) if checkpoint else None
            self._missing_before(None)
            for stream in streams:
                if stream.next_id != _END:
                    stream.orphans()
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

    def _slowly(
        self,
        tables: _Tables,
        c: tuple[Any, ...],
        ev: list[tuple[Any, ...]],
        fa: list[tuple[Any, ...]],
        sp: list[tuple[Any, ...]],
        more: list[list[tuple[Any, ...]]],
        anchor: CheckpointEntry | None,
    ) -> None:
        """Check one company row by row with its records converted as SQLAlchemy reads them:
        the checks that name what is wrong (raises _Failed; also for a stored value that
        cannot be read as its column's type, such as a time that is not one)."""

        def convert(row: tuple[Any, ...], table: _Rows) -> Any:
            try:
                return table.convert(row)
            except (ValueError, TypeError, OverflowError) as exc:
                what = message(table.what) if table.what else message("audit.rows.company")
                raise _Failed(c[1], "audit.unreadable", what=what, detail=first_line(exc)) from None

        def stream(rows: list[tuple[Any, ...]], table: _Rows) -> _Stream[Any]:
            return _Stream(iter([convert(row, table) for row in rows]), table.what)

        q, f, m, y = more
        self.derived = _DerivedStreams(
            stream(q, tables.qualifications),
            stream(f, tables.financing),
            stream(m, tables.milestones),
            stream(y, tables.figures),
        )
        company = convert(c, tables.companies)
        self._company(
            company, stream(ev, tables.events), stream(fa, tables.facts),
            stream(sp, tables.spells), anchor,
        )  # fmt: skip

    @property
    def _created(self) -> str:
        return self.created_at or "?"

    def _missing_before(self, company_id: int | None) -> None:
        anchor = self._anchor
        if anchor is not None and (company_id is None or anchor.company_id < company_id):
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
            if self.progress and self.events % _PROGRESS_EVERY == 0:
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


#: `audit verify` without a checkpoint splits a database of at least this many events over
#: processes, one per CPU (at most `MAX_PARTS`), each checking a range of company ids.
PARALLEL_FROM_EVENTS = 200_000
MAX_PARTS = 4
#: How long the parts' processes may take to start and open their reads (seconds).
_PART_START_S = 120


def _parts_for(total: int) -> int:
    if total < PARALLEL_FROM_EVENTS:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_PARTS, cpus))


def verify_audit(
    db: Database,
    *,
    checkpoint: Path | None = None,
    progress: Progress | None = None,
    parts: int | None = None,
) -> AuditResult:
    """Check every company against its chains (see the module's docstring), and against the
    checkpoint when one is given. Reads one snapshot.

    Without a checkpoint, a large database is checked in `parts` ranges of company ids at once
    (None: one per CPU from `PARALLEL_FROM_EVENTS` events; 1: in this process only), each in
    a process of its own reading the same snapshot: PostgreSQL exports this read's snapshot
    to them; SQLite holds the write lock (writers wait) until every part has begun its read.
    The result is the one a single pass gives: the first failure in company-id order, with
    the counts of everything checked before it.

    The parts' processes are started with multiprocessing's "spawn", which imports the
    calling script's main module again in each of them: a script that calls this at its top
    level must do so under `if __name__ == "__main__":` (or pass `parts=1`), or each part
    runs the script again. The `incubator` command and the UI are such guarded entry points."""
    with ExitStack() as stack:
        hold = None
        if checkpoint is None and parts != 1 and db.dialect == "sqlite":
            try:  # no commit between this read's snapshot and the parts' (SQLite shares none)
                hold = stack.enter_context(db.unit(write=True))
            except StoreError:  # e.g. a read-only file: one process, no lock
                hold = None
        return _verify(db, checkpoint, progress, parts, stack.close if hold else None)
    raise AssertionError("unreachable")  # pragma: no cover


def _verify(
    db: Database,
    checkpoint: Path | None,
    progress: Progress | None,
    parts: int | None,
    release: Callable[[], None] | None,
) -> AuditResult:
    key = audit.audit_key()
    anchor: Checkpoint | None = None
    locked = release is not None
    release = release or (lambda: None)
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
            n = _parts_for(total) if parts is None else max(1, parts)
            bounds = uow.company_id_bounds() if n > 1 else None
            if bounds is not None and db.dialect == "sqlite" and not locked:
                bounds = None  # no lock held: the parts could read different snapshots
            if bounds is None or bounds[1] - bounds[0] + 1 < n:
                release()
                result = _run(uow, walk)
            else:
                result = _run_parts(db, uow, walk, bounds, n, release)
        else:
            release()
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


def _run_parts(
    db: Database,
    uow: UnitOfWork,
    walk: _Walk,
    bounds: tuple[int, int],
    n: int,
    release: Callable[[], None],
) -> AuditResult:
    """Check `n` ranges of company ids at once: the first here, each other one in a process of
    its own (`_verify_part`) reading this read's snapshot; merge the results in id order."""
    low, high = bounds
    cuts = [low + (high - low + 1) * i // n for i in range(1, n)]
    ranges: list[tuple[int | None, int | None]] = list(
        zip([None, *cuts], [*cuts, None], strict=True)
    )
    snapshot = uow.export_snapshot()
    outer = walk.progress
    context = multiprocessing.get_context("spawn")  # never fork a process that has threads
    ready, results = context.Queue(), context.Queue()
    counts = context.Array("q", n, lock=False)  # events checked by each part, for progress
    workers = [
        context.Process(
            target=_verify_part,
            args=(db.url, ranges[i], snapshot, i, ready, results, counts),
            daemon=True,
        )
        for i in range(1, n)
    ]
    started, deadline = 0, time.monotonic() + _PART_START_S

    def wait_for_parts(*, block: bool) -> None:
        """Count the parts that have begun their read; when every one has, release the
        writers. `block`: wait until they have (or cannot: too slow, or a part died)."""
        nonlocal started
        while started < len(workers):
            try:
                ready.get(timeout=1) if block else ready.get_nowait()
            except queue.Empty:
                if not block or time.monotonic() > deadline or any(w.exitcode for w in workers):
                    return
                continue
            started += 1
        release()

    def progress(phase: str, done: int, total: int) -> None:
        if started < len(workers):  # this part runs while the others start
            wait_for_parts(block=False)
        if outer is not None:
            outer(phase, done + sum(counts), total)

    try:
        for worker in workers:
            worker.start()
        walk.progress = progress
        first = _run(uow, walk, ranges[0])
        wait_for_parts(block=True)
        release()
        if started < len(workers):  # a part could not start: check it all here
            return _run(uow, _Walk(walk.key, walk.total, outer))
        found: dict[int, AuditResult | None] = {0: first}
        while len(found) < n:
            try:
                index, result = results.get(timeout=1)
            except queue.Empty:
                if any(not w.is_alive() and w.exitcode for w in workers):
                    walk = _Walk(walk.key, walk.total, outer)
                    return _run(uow, walk)  # a part died: check everything here
                continue
            found[index] = result
    finally:
        release()
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
    if any(r is None for r in found.values()):  # a part failed unexpectedly: check it all here
        return _run(uow, _Walk(walk.key, walk.total, outer))
    events = companies = facts = 0
    for i in range(n):
        part = found[i]
        assert part is not None
        if not part.ok:
            part.events += events
            part.companies += companies
            part.facts += facts
            return part
        events, companies, facts = (
            events + part.events,
            companies + part.companies,
            facts + part.facts,
        )
    if outer is not None:
        outer("verifying", events, walk.total)
    return AuditResult(True, events, companies, facts=facts)


def _verify_part(
    url: str,
    ids: tuple[int | None, int | None],
    snapshot: str | None,
    index: int,
    ready: Any,
    results: Any,
    counts: Any,
) -> None:
    """One part of `_run_parts`, in a process of its own: begin the read (in the shared
    snapshot), say so, check the range, put (index, result) — None if it failed. A failure
    is not reported here (no traceback on the user's terminal): the caller checks
    everything itself and reports what it finds, once."""
    result: AuditResult | None = None
    db = Database(url)
    try:
        with db.unit(snapshot=snapshot) as uow:
            uow.company_id_bounds()  # the first read: SQLite's snapshot is taken here
            ready.put(index)

            def progress(_phase: str, done: int, _total: int) -> None:
                counts[index] = done

            result = _run(uow, _Walk(audit.audit_key(), 0, progress), ids)
    except BaseException:  # (an interrupt too: the caller has its own)
        ready.put(index)
    finally:
        results.put((index, result))
        db.dispose()


def _run(
    uow: UnitOfWork, walk: _Walk, ids: tuple[int | None, int | None] = (None, None)
) -> AuditResult:
    with ExitStack() as stack:

        def rows(table: str, what: str) -> _Rows:
            batches = stack.enter_context(closing(uow.audit_batches(table, ids=ids)))
            return _Rows(batches, AUDIT_TABLES[table], what, uow.audit_converter(table))

        tables = _Tables(
            companies=rows("companies", ""),  # never orphaned
            events=rows("events", "audit.rows.events"),
            facts=rows("facts", "audit.rows.records"),
            spells=rows("spells", "audit.rows.spells"),
            qualifications=rows("qualifications", "audit.rows.qualifications"),
            financing=rows("financing", "audit.rows.financing"),
            milestones=rows("milestones", "audit.rows.milestones"),
            figures=rows("figures", "audit.rows.figures"),
            time=uow.audit_time(),
            text_times=uow.dialect == "sqlite",
        )
        return walk.run(tables)
    raise AssertionError("unreachable")  # pragma: no cover


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
