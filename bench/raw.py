"""The equal-work raw baselines of `bench/run.py`: the same work as the tracker, done directly
on the driver (stdlib `sqlite3`, or `psycopg` on PostgreSQL), without the project's layers.

The raw database gets the project's own schema (its migrations are run into it once, before
anything is timed); after that it is written and read only through the driver:

- `load`: read the event-log CSV with `csv`, chain every event with the same SHA-256 (or
  HMAC) links the tracker computes (`incubator.audit`'s pure canonical form), derive the same
  company rows, first profile records and spells, and write them in ONE transaction, streamed
  in chunks (bounded memory): `executemany` on SQLite, `COPY` on PostgreSQL. Like the
  generated files, the CSV lists each company's events together and in time order (the
  tracker checks that; the raw load trusts it).
- `advance_many`: one committed transaction per advance: read the company and its evidence
  records (what the gate of the stage it enters reads), insert the event with the gate's
  outcome and its real hash (prev = the company's head), close the open spell, open the next
  one, update the company. The outcome's text is given (`gates`: what the tracker records
  for a company without evidence, by the stage entered): the raw side writes and hashes the
  same rows, without evaluating the gate. SQLite: BEGIN IMMEDIATE and one statement each,
  hash in Python; PostgreSQL: ONE round trip, a single statement whose CTEs lock the row,
  read the evidence, build the canonical JSON and hash it in SQL (sha256), and write the four
  rows (autocommit).
- `funnel`, `throughput`, `dwell`: the best plain SQL over `spell` (SQLite: `NOT INDEXED`, a
  scan in storage order), dwell's statistics in numpy as `incubator/metrics.py` computes them;
  the results have the shape of the tracker's, so that `run.py` can check they are equal.

Only the standard library, numpy, psycopg and `incubator.audit` (pure hashing) are used.
"""

from __future__ import annotations

import csv
import gc
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from incubator import audit

LADDER = ("seed", "nursery", "incubator", "accelerator", "industrial_park")
NEXT = dict(zip(LADDER, LADDER[1:], strict=False))
REASONS = ("failed", "withdrew", "relocated", "acquired", "listed", "other")
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
US_PER_DAY = 86_400_000_000
KM_TOLERANCE = 1e-9
#: Rows buffered per table before they are written (the load's memory bound).
CHUNK = 20_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

COMPANY_COLUMNS = (
    "id", "key", "name", "sector", "site", "uscc", "stage", "entered_stage_at",
    "admitted_at", "last_event_at", "cohort", "event_count", "head_hash", "fact_count",
    "fact_head",
)  # fmt: skip
FACT_COLUMNS = (
    "company_id", "seq", "kind", "payload", "recorded_at", "actor", "note", "prev_hash", "hash",
)  # fmt: skip
EVENT_COLUMNS = (
    "company_id", "seq", "kind", "from_stage", "to_stage", "effective_at", "recorded_at",
    "actor", "note", "reason", "prev_hash", "hash",
)  # fmt: skip
SPELL_COLUMNS = (
    "company_id", "stage", "start_us", "start_ym", "end_us", "end_ym", "end_kind",
    "exit_reason", "site", "sector", "cohort",
)  # fmt: skip
TABLES = (
    ("company", COMPANY_COLUMNS),
    ("company_fact", FACT_COLUMNS),
    ("stage_event", EVENT_COLUMNS),
    ("spell", SPELL_COLUMNS),
)


# --- connections ---------------------------------------------------------------------------


class Raw:
    """A driver connection to a raw database: `kind` "sqlite" (a file path) or "postgresql"
    (a libpq URL and the schema to use)."""

    def __init__(self, kind: str, target: str, schema: str | None = None) -> None:
        self.kind = kind
        if kind == "sqlite":
            conn = sqlite3.connect(target, isolation_level=None, timeout=60)
            for pragma in (
                "busy_timeout = 60000",
                "journal_mode = WAL",
                "synchronous = NORMAL",
                "foreign_keys = ON",
                "cache_size = -65536",
                "wal_autocheckpoint = 10000",
            ):  # fmt: skip  (the tracker's own settings, store.Database)
                conn.execute(f"PRAGMA {pragma}")
            self.conn: Any = conn
        else:
            import psycopg

            options = f"-csearch_path={schema}" if schema else ""
            self.conn = psycopg.connect(target, autocommit=True, options=options)

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query (`?` placeholders; `%s` on PostgreSQL)."""
        if self.kind != "sqlite":
            sql = sql.replace("%", "%%").replace("?", "%s")
        cur = self.conn.execute(sql, params)
        return list(cur.fetchall())

    def time_text(self, moment: datetime, iso: str) -> Any:
        """A time as the tracker stores it: naive UTC text on SQLite, an aware datetime on
        PostgreSQL (`iso` is its ISO text with microseconds, in UTC)."""
        return f"{iso[:10]} {iso[11:26]}" if self.kind == "sqlite" else moment


# --- load ----------------------------------------------------------------------------------


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


#: When the tracker's import recorded its companies: (the first company id, the instant)
#: of each of its batches, in id order (it reads and records a batch of companies at a time).
Recorded = Sequence[tuple[int, datetime]]
#: The page cache of the tracker's bulk loads on SQLite (`store.BULK_CACHE_KIB`), in KiB.
BULK_CACHE_KIB = 256 * 1024


def plan_rows(
    raw: Raw, csv_path: Path, recorded_at: Recorded, default_actor: str, key: bytes | None
) -> Iterator[tuple[list[tuple[Any, ...]], ...]]:
    """Chunks of (company, fact, event, spell) rows, company by company, streamed from the
    CSV: what the tracker's import writes for a file of new companies, recorded at the
    instants it recorded them."""
    batches = iter(recorded_at)
    now_iso = recorded = ""
    next_batch: tuple[int, datetime] | None = next(batches, None)
    companies: list[tuple[Any, ...]] = []
    facts: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    spells: list[tuple[Any, ...]] = []
    link, canonical_event = audit.link, audit.canonical_event
    company_id = 0

    def company(rows: list[list[str]]) -> None:
        nonlocal company_id, now_iso, recorded, next_batch
        company_id += 1
        while next_batch is not None and next_batch[0] <= company_id:
            moment = next_batch[1].astimezone(UTC)
            now_iso = moment.isoformat(timespec="microseconds")
            recorded = raw.time_text(moment, now_iso)
            next_batch = next(batches, None)
        first = rows[0]
        ckey, name, site, sector = first[0], first[1], first[10], first[9]
        uscc = first[11] or None
        first_actor = first[6] or default_actor
        seq, head = 0, audit.GENESIS
        stage: str | None = None
        open_spell: list[Any] | None = None
        first_at = last_at = None
        cohort = 0
        for _, _, kind, _, to_text, at_text, actor, note, reason_text, _, _, _ in rows:
            seq += 1
            at = _parse(at_text)
            at_iso = at.isoformat(timespec="microseconds")
            if first_at is None:
                first_at, cohort = at, at.year
            last_at = (at, at_iso)
            from_stage = None if kind == "admit" else stage
            to_stage = "exited" if kind == "exit" else to_text
            reason = reason_text or None
            actor = actor or default_actor
            digest = link(
                head,
                canonical_event(
                    ckey, seq, kind, from_stage, to_stage, at_iso, now_iso, actor, note, reason
                ),
                key,
            )
            events.append(
                (company_id, seq, kind, from_stage, to_stage, raw.time_text(at, at_iso),
                 recorded, actor, note, reason, head, digest)
            )  # fmt: skip
            head = digest
            us, ym = _micros(at), at.year * 12 + at.month - 1
            if kind != "admit" and open_spell is not None:
                open_spell[4:8] = (us, ym, kind, reason)
            if open_spell is not None:
                spells.append(tuple(open_spell))
            open_spell = None
            if to_stage != "exited":
                open_spell = [company_id, to_stage, us, ym, None, None, None, None, site,
                              sector, cohort]  # fmt: skip
            stage = to_stage
        if open_spell is not None:
            spells.append(tuple(open_spell))
        profile = audit.payload_json({"name": name, "sector": sector, "site": site, "uscc": uscc})
        fact_head = link(
            audit.GENESIS,
            audit.canonical_fact(ckey, 1, audit.PROFILE, profile, now_iso, first_actor, ""),
            key,
        )
        facts.append(
            (company_id, 1, audit.PROFILE, profile, recorded, first_actor, "", audit.GENESIS,
             fact_head)
        )  # fmt: skip
        assert first_at is not None and last_at is not None
        last = raw.time_text(*last_at)
        first_iso = first_at.isoformat(timespec="microseconds")
        companies.append(
            (company_id, ckey, name, sector, site, uscc, stage, last,
             raw.time_text(first_at, first_iso), last, cohort, seq, head, 1, fact_head)
        )  # fmt: skip

    with open(csv_path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        pending: list[list[str]] = []
        for record in reader:
            if pending and record[0] != pending[0][0]:
                company(pending)
                pending = []
                if len(events) >= CHUNK:
                    yield companies, facts, events, spells
                    companies, facts, events, spells = [], [], [], []
            pending.append(record)
        if pending:
            company(pending)
    yield companies, facts, events, spells


def load(
    raw: Raw,
    csv_path: Path,
    recorded_at: Recorded,
    default_actor: str,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Load the CSV into the empty raw database in one transaction; the seconds it took.
    Tuned as the tracker's import is: the garbage collector's full collections are held off
    meanwhile (`csvfiles.young_garbage_only`), and on SQLite the loading connection has the
    bulk load's 256 MiB page cache (`store.BULK_CACHE_KIB`) instead of the usual 64 MiB."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1_000_000_000)
    if raw.kind == "sqlite":
        raw.conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        return _load(raw, csv_path, recorded_at, default_actor, progress)
    finally:
        gc.set_threshold(*thresholds)
        if raw.kind == "sqlite":
            raw.conn.execute("PRAGMA cache_size = -65536")


def _load(
    raw: Raw,
    csv_path: Path,
    recorded_at: Recorded,
    default_actor: str,
    progress: Callable[[int], None] | None,
) -> float:
    key = audit.audit_key()
    start = time.perf_counter()
    if raw.kind == "sqlite":
        conn = raw.conn
        conn.execute("BEGIN IMMEDIATE")
        statements = [
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            for table, cols in TABLES
        ]
        for chunk in plan_rows(raw, csv_path, recorded_at, default_actor, key):
            for sql, rows in zip(statements, chunk, strict=True):
                conn.executemany(sql, rows)
            if progress:
                progress(len(chunk[2]))
        conn.execute("COMMIT")
    else:
        conn = raw.conn
        copies = [f"COPY {table} ({', '.join(cols)}) FROM STDIN" for table, cols in TABLES]
        with conn.transaction(), conn.cursor() as cur:
            for chunk in plan_rows(raw, csv_path, recorded_at, default_actor, key):
                for sql, rows in zip(copies, chunk, strict=True):
                    with cur.copy(sql) as copy:
                        for row in rows:
                            copy.write_row(row)
                if progress:
                    progress(len(chunk[2]))
    return time.perf_counter() - start


# --- advances ------------------------------------------------------------------------------

_SQLITE_ADVANCE = (
    "SELECT id, stage, event_count, head_hash, site, sector, cohort FROM company WHERE key = ?",
    "SELECT seq, kind, payload FROM company_fact WHERE company_id = ? AND kind <> 'profile'"
    " ORDER BY seq",
    "INSERT INTO stage_event (company_id, seq, kind, from_stage, to_stage, effective_at,"
    " recorded_at, actor, note, reason, prev_hash, hash, gate)"
    " VALUES (?, ?, 'advance', ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
    "UPDATE spell SET end_us = ?, end_ym = ?, end_kind = 'advance', exit_reason = NULL"
    " WHERE company_id = ? AND end_us IS NULL",
    "INSERT INTO spell (company_id, stage, start_us, start_ym, site, sector, cohort)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)",
    "UPDATE company SET stage = ?, entered_stage_at = ?, last_event_at = ?, event_count = ?,"
    " head_hash = ? WHERE id = ?",
)

#: One advance on PostgreSQL in one statement (one round trip, its own transaction): lock the
#: company, read its evidence records (returned), build the event's canonical JSON as
#: `audit.canonical_event` does (to_json gives the same string escapes as Python's json for
#: these values; the gate's outcome is the given text of the stage entered), hash it with
#: sha256, insert the event, end the open spell, open the next, move the company. `%(key)s`,
#: `%(actor)s`, `%(note)s`, and `%(g_<stage>)s` the gate text entering each stage (or NULL).
_PG_ADVANCE = """
WITH c AS (
    SELECT id, key, stage, event_count, head_hash, site, sector, cohort
    FROM company WHERE key = %(key)s FOR UPDATE
), ev AS (
    SELECT f.seq, f.kind, f.payload FROM company_fact f JOIN c ON f.company_id = c.id
    WHERE f.kind <> 'profile'
), n AS (
    SELECT c.*, t.now, t.iso, c.event_count + 1 AS seq,
           CASE c.stage WHEN 'seed' THEN 'nursery' WHEN 'nursery' THEN 'incubator'
                WHEN 'incubator' THEN 'accelerator' WHEN 'accelerator' THEN 'industrial_park'
           END AS next,
           CASE c.stage WHEN 'seed' THEN %(g_nursery)s::text
                WHEN 'nursery' THEN %(g_incubator)s::text
                WHEN 'incubator' THEN %(g_accelerator)s::text
                WHEN 'accelerator' THEN %(g_industrial_park)s::text
           END AS gate,
           (extract(epoch FROM t.now) * 1000000)::bigint AS us,
           (extract(year FROM t.now AT TIME ZONE 'UTC') * 12
            + extract(month FROM t.now AT TIME ZONE 'UTC') - 1)::int AS ym
    FROM c, (SELECT now() AS now,
                    to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS iso
            ) AS t
), h AS (
    SELECT n.*, encode(sha256(convert_to(n.head_hash
        || '{"actor":' || to_json(%(actor)s::text)::text
        || ',"company_key":' || to_json(n.key)::text
        || ',"effective_at":"' || n.iso || '","from_stage":' || to_json(n.stage)::text
        || coalesce(',"gate":' || n.gate, '')
        || ',"kind":"advance","note":' || to_json(%(note)s::text)::text
        || ',"reason":null,"recorded_at":"' || n.iso || '","seq":' || n.seq
        || ',"to_stage":' || to_json(n.next)::text || '}', 'UTF8')), 'hex') AS hash
    FROM n
), e AS (
    INSERT INTO stage_event (company_id, seq, kind, from_stage, to_stage, effective_at,
                             recorded_at, actor, note, reason, prev_hash, hash, gate)
    SELECT id, seq, 'advance', stage, next, now, now, %(actor)s, %(note)s, NULL, head_hash, hash,
           gate
    FROM h
), s AS (
    UPDATE spell SET end_us = h.us, end_ym = h.ym, end_kind = 'advance', exit_reason = NULL
    FROM h WHERE spell.company_id = h.id AND spell.end_us IS NULL
), o AS (
    INSERT INTO spell (company_id, stage, start_us, start_ym, site, sector, cohort)
    SELECT id, next, us, ym, site, sector, cohort FROM h
), u AS (
    UPDATE company SET stage = h.next, entered_stage_at = h.now, last_event_at = h.now,
                       event_count = h.seq, head_hash = h.hash
    FROM h WHERE company.id = h.id
)
SELECT h.hash, ARRAY(SELECT payload FROM ev ORDER BY seq) FROM h
"""


def advance_many(
    raw: Raw, keys: Sequence[str], actor: str, note: str, gates: dict[str, str | None]
) -> int:
    """Advance each company one stage, one committed transaction each; how many. `gates`:
    the stored text of the gate's outcome the event records, by the stage entered (None: the
    stage has no gate)."""
    key = audit.audit_key()
    if raw.kind != "sqlite":
        if key:
            raise SystemExit(
                "raw PostgreSQL advances hash without a key: unset INCUBATOR_AUDIT_KEY"
            )
        conn = raw.conn
        params: dict[str, Any] = {"actor": actor, "note": note}
        params.update({f"g_{stage}": gates.get(stage) for stage in LADDER[1:]})
        for company_key in keys:
            conn.execute(_PG_ADVANCE, {**params, "key": company_key}).fetchall()
        return len(keys)
    conn = raw.conn
    read, read_evidence, insert_event, close_spell, open_spell, move = _SQLITE_ADVANCE
    for company_key in keys:
        conn.execute("BEGIN IMMEDIATE")
        company_id, stage, count, head, site, sector, cohort = conn.execute(
            read, (company_key,)
        ).fetchone()
        conn.execute(read_evidence, (company_id,)).fetchall()
        now = datetime.now(UTC)
        iso = now.isoformat(timespec="microseconds")
        seq, to_stage = count + 1, NEXT[stage]
        gate = gates.get(to_stage)
        digest = audit.link(
            head,
            audit.canonical_event(
                company_key, seq, "advance", stage, to_stage, iso, iso, actor, note, None, gate
            ),
            key,
        )
        stored = f"{iso[:10]} {iso[11:26]}"
        conn.execute(
            insert_event, (company_id, seq, stage, to_stage, stored, stored, actor, note, head,
                           digest, gate)
        )  # fmt: skip
        us, ym = _micros(now), now.year * 12 + now.month - 1
        conn.execute(close_spell, (us, ym, company_id))
        conn.execute(open_spell, (company_id, to_stage, us, ym, site, sector, cohort))
        conn.execute(move, (to_stage, stored, stored, seq, digest, company_id))
        conn.execute("COMMIT")
    return len(keys)


def check_heads(raw: Raw, keys: Sequence[str]) -> bool:
    """Whether the last event of each company in `keys` hashes as `audit` says (the raw
    advances' hashes are real), and is the company's head."""
    key = audit.audit_key()
    for company_key in keys:
        rows = raw.query(
            "SELECT e.seq, e.kind, e.from_stage, e.to_stage, e.effective_at, e.recorded_at,"
            " e.actor, e.note, e.reason, e.gate, e.prev_hash, e.hash, c.head_hash"
            " FROM stage_event e JOIN company c ON c.id = e.company_id"
            " WHERE c.key = ? AND e.seq = c.event_count",
            (company_key,),
        )
        if len(rows) != 1:
            return False
        seq, kind, from_stage, to_stage, at, rec, actor, note, reason, gate, prev, digest, head = (
            rows[0]
        )
        doc = audit.canonical_event(
            company_key, seq, kind, from_stage, to_stage, _iso(at), _iso(rec), actor, note,
            reason, gate,
        )  # fmt: skip
        if audit.link(prev, doc, key) != digest or digest != head:
            return False
    return True


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    text = str(value)  # SQLite: naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff"
    return _parse(text).isoformat(timespec="microseconds")


# --- metrics -------------------------------------------------------------------------------


#: How a plain query may read `spell`: the whole table in storage order, or (SQLite) one of
#: the covering indexes of the schema. The harness times every variant and keeps the fastest,
#: so the baseline is the best plain SQL, whatever the tracker's own queries do.
VARIANTS = ("table", "index")


def _spell(raw: Raw, variant: str = "table", index: str = "ix_spell_metrics") -> str:
    if raw.kind != "sqlite":
        return "spell"  # PostgreSQL's planner chooses (the metric indexes are SQLite's only)
    return f"spell INDEXED BY {index}" if variant == "index" else "spell NOT INDEXED"


def funnel(raw: Raw, t_us: int, variant: str = "table") -> list[dict[str, Any]]:
    """The tracker's funnel stages at T, from one GROUP BY over `spell`."""
    rows = raw.query(
        "SELECT stage, COUNT(*),"
        " SUM(CASE WHEN end_us <= ? AND end_kind = 'advance' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN end_us <= ? AND end_kind = 'exit' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN end_us IS NULL OR end_us > ? THEN 1 ELSE 0 END)"
        f" FROM {_spell(raw, variant)} WHERE start_us <= ? GROUP BY stage",
        (t_us, t_us, t_us, t_us),
    )
    counts = {r[0]: tuple(int(x) for x in r[1:]) for r in rows}
    out = []
    for stage in LADDER:
        entered, advanced, exited, current = counts.get(stage, (0, 0, 0, 0))
        top = stage == LADDER[-1]
        out.append(
            {
                "stage": stage, "entered": entered, "advanced": advanced, "exited": exited,
                "current": current,
                "conversion": None if top or entered == 0 else advanced / entered,
            }
        )  # fmt: skip
    return out


def _label(index: int, period: str) -> str:
    if period == "month":
        year, month = divmod(index, 12)
        return f"{year:04d}-{month + 1:02d}"
    if period == "quarter":
        year, quarter = divmod(index, 4)
        return f"{year:04d}-Q{quarter + 1}"
    return f"{index:04d}"


def throughput(
    raw: Raw, t_us: int, period: str = "month", variant: str = "table"
) -> dict[str, Any]:
    """The tracker's throughput at T: entries per period and stage, exits per period and
    reason, from two GROUP BYs over `spell` (the "index" variant groups in the covering
    indexes' order, stage or reason first)."""
    months = PERIOD_MONTHS[period]
    first = variant == "index" and raw.kind == "sqlite"
    entries = raw.query(
        f"SELECT start_ym / {months} AS p, stage, COUNT(*) FROM {_spell(raw, variant)}"
        " WHERE start_us <= ? GROUP BY " + ("stage, p" if first else "p, stage"),
        (t_us,),
    )
    exits = raw.query(
        f"SELECT end_ym / {months} AS p, exit_reason, COUNT(*)"
        f" FROM {_spell(raw, variant, 'ix_spell_exits')}"
        " WHERE start_us <= ? AND end_us <= ? AND end_kind = 'exit' GROUP BY "
        + ("exit_reason, p" if first else "p, exit_reason"),
        (t_us, t_us),
    )
    ladder = {s: i for i, s in enumerate(LADDER)}
    reasons = {r: i for i, r in enumerate(REASONS)}
    entries.sort(key=lambda r: (r[0], ladder.get(r[1], len(ladder)), r[1]))
    exits.sort(key=lambda r: (r[0], reasons.get(r[1], len(reasons)), r[1] or ""))
    return {
        "by": period,
        "rows": [
            {"period": _label(int(p), period), "stage": s, "entered": int(n)} for p, s, n in entries
        ],
        "exits": [
            {"period": _label(int(p), period), "reason": r, "n": int(n)} for p, r, n in exits
        ],
    }


def _km_median(done: Any, still: Any) -> float | None:
    import numpy as np

    if done.size == 0:
        return None
    times, ends = np.unique(done, return_counts=True)
    at_risk = (done.size - np.searchsorted(done, times, side="left")) + (
        still.size - np.searchsorted(still, times, side="left")
    )
    survival = np.cumprod((at_risk - ends) / at_risk)
    below = np.flatnonzero(survival <= 0.5 + KM_TOLERANCE)
    return float(times[below[0]]) if below.size else None


def _dwell_rows(raw: Raw, t_us: int) -> dict[str, tuple[Any, Any]]:
    """(completed, open) microseconds per stage from one row of three integers per spell."""
    import numpy as np

    cases = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(LADDER))
    cur = raw.conn.execute(
        (
            f"SELECT CASE stage {cases} ELSE -1 END,"
            " CASE WHEN end_us IS NOT NULL AND end_us <= ? THEN end_us - start_us"
            " ELSE ? - start_us END,"
            " CASE WHEN end_us IS NOT NULL AND end_us <= ? THEN 1 ELSE 0 END"
            f" FROM {_spell(raw)} WHERE start_us <= ?"
        ).replace("?", "?" if raw.kind == "sqlite" else "%s"),
        (t_us, t_us, t_us, t_us),
    )
    rows = cur.fetchall()
    table = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows))
    del rows
    table = table.reshape(-1, 3)
    out = {}
    for i, stage in enumerate(LADDER):
        mine = table[table[:, 0] == i]
        ended = mine[:, 2] == 1
        out[stage] = (mine[ended, 1], mine[~ended, 1])
    return out


def _dwell_joined(raw: Raw, t_us: int) -> dict[str, tuple[Any, Any]]:
    """(completed, open) microseconds per stage from one comma-separated text per stage (a
    completed spell's length, or -1 - an open one's age), parsed by numpy in C."""
    import numpy as np

    value = "CASE WHEN end_us <= ? THEN end_us - start_us ELSE start_us - ? - 1 END"
    agg = f"group_concat({value})" if raw.kind == "sqlite" else f"string_agg(({value})::text, ',')"
    rows = raw.query(
        f"SELECT stage, {agg} FROM {_spell(raw, 'index')} WHERE start_us <= ? GROUP BY stage",
        (t_us, t_us, t_us),
    )
    out = {}
    for stage, text in rows:
        values = np.fromstring(text, dtype=np.int64, sep=",")
        done = values >= 0
        out[stage] = (values[done], -1 - values[~done])
    return out


def dwell(raw: Raw, t_us: int, variant: str = "table") -> list[dict[str, Any]]:
    """The tracker's dwell stages at T: the spells' durations fetched through the driver (one
    row per spell, or the "index" variant's one text per stage), the statistics in numpy."""
    import numpy as np

    spells = (_dwell_joined if variant == "index" else _dwell_rows)(raw, t_us)
    empty = np.empty(0, dtype=np.int64)
    out = []
    for stage in LADDER:
        completed, still_open = spells.get(stage, (empty, empty))
        done, still = np.sort(completed), np.sort(still_open)
        median: float | None = None
        p90 = mean = None
        if done.size:
            median, p90 = (float(v) for v in np.percentile(done / US_PER_DAY, (50, 90)))
            mean = float((done / US_PER_DAY).mean())
        open_median = float(np.percentile(still / US_PER_DAY, 50)) if still.size else None
        km = _km_median(done, still)
        out.append(
            {
                "stage": stage, "completed": int(done.size), "mean_days": mean,
                "median_days": median, "p90_days": p90, "open": int(still.size),
                "open_median_days": open_median,
                "km_median_days": None if km is None else km / US_PER_DAY,
            }
        )  # fmt: skip
    return out
