"""Time and peak memory of `incubator import` as a whole process, beside an equal-work raw load.

    .venv/bin/python bench/import_memory.py                           # 100,000 companies, SQLite
    .venv/bin/python bench/import_memory.py --companies 300000 --db postgresql --runs 1

Builds the event-log CSV of N generated companies (`fixtures/generate_demo.py`, seed 20261126;
kept in the temp directory and reused), then, `--runs` times each (median printed):
  - project: `incubator import FILE --db URL` as a child process into an empty, migrated
    database with the demo's sites registered;
  - raw: this file's `raw_load` as a child process doing the same work with the driver only:
    read the CSV (csv module), build the same company, event, spell and profile-record rows
    with the same SHA-256 hash chains and stored forms, and write them in one transaction
    (SQLite: stdlib sqlite3 `executemany`; PostgreSQL: psycopg `COPY ... FROM STDIN`), a chunk
    of companies at a time so that it too holds only a chunk. It does no validation: it
    trusts the file (the generator lists each company's rows together, in time order).
Each child's wall time, CPU time (user + system, which the machine's other load inflates
less) and peak RSS (`ru_maxrss` of the children) are printed with the ratio project / raw and
the load average. The last line is one JSON document.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import child  # noqa: E402  (bench/child.py)

SEED = 20261126
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHUNK = 20_000  # companies the raw load holds at a time
GENESIS = "0" * 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def csv_for(companies: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"import_memory_{companies}_{SEED}.csv"
    if not path.exists():
        from fixtures.generate_demo import generate_rows, write_csv

        part = path.with_suffix(".part")
        write_csv(part, generate_rows(n_companies=companies, seed=SEED))
        part.rename(path)
    return path


# --- the raw load (a child process) -----------------------------------------------------------

_s = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _j(value: str | None) -> str:
    return "null" if value is None else _s(value)


def raw_rows(path: Path, postgres: bool) -> Any:
    """Yield chunks of (companies, facts, events, spells) rows, as the project stores them."""
    now = datetime.now(UTC)
    now_iso = now.isoformat(timespec="microseconds")

    def stored(moment: datetime, iso: str) -> Any:
        return moment if postgres else f"{iso[:10]} {iso[11:26]}"

    recorded = stored(now, now_iso)
    companies: list[tuple[Any, ...]] = []
    facts: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    spells: list[list[Any]] = []
    company_id = cohort = seq = 0
    key: str | None = None
    first: list[str] = []
    c_sector = c_site = head = fact_head = ""
    stage: str | None = None
    last: Any = None
    admitted: Any = None
    open_spell: list[Any] | None = None
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            k, name, kind, _from, to, at_text, actor, note, reason, sector, site, uscc = row
            if k != key:
                if key is not None:
                    companies.append(
                        (company_id, key, first[1], c_sector, c_site, first[11] or None, stage,
                         last, admitted, last, cohort, seq, head, 1, fact_head)
                    )  # fmt: skip
                    if len(companies) >= CHUNK:
                        yield companies, facts, events, [tuple(s) for s in spells]
                        companies, facts, events, spells = [], [], [], []
                key, first, company_id, seq, head, stage = k, row, company_id + 1, 0, GENESIS, None
                c_sector, c_site = sector, site
                at0 = datetime.fromisoformat(at_text)
                cohort, admitted = at0.year, stored(at0, at0.isoformat(timespec="microseconds"))
                profile = json.dumps(
                    {"name": name, "sector": sector, "site": site, "uscc": uscc or None},
                    sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                )  # fmt: skip
                doc = (
                    f'{{"actor":{_s(actor)},"company_key":{_s(k)},"kind":"profile",'
                    f'"note":"","payload":{profile},"recorded_at":{_s(now_iso)},"seq":1}}'
                )
                fact_head = hashlib.sha256((GENESIS + doc).encode()).hexdigest()
                facts.append(
                    (company_id, 1, "profile", profile, recorded, actor, "", GENESIS, fact_head)
                )
                open_spell: list[Any] | None = None
            seq += 1
            at = datetime.fromisoformat(at_text)
            at_iso = at.isoformat(timespec="microseconds")
            to_stage = to or "exited"
            from_stage = None if kind == "admit" else stage
            reason = reason or None
            doc = (
                f'{{"actor":{_s(actor)},"company_key":{_s(k)},"effective_at":{_s(at_iso)},'
                f'"from_stage":{_j(from_stage)},"kind":{_s(kind)},"note":{_s(note)},'
                f'"reason":{_j(reason)},"recorded_at":{_s(now_iso)},"seq":{seq},'
                f'"to_stage":{_s(to_stage)}}}'
            )
            digest = hashlib.sha256((head + doc).encode()).hexdigest()
            last = stored(at, at_iso)
            events.append(
                (company_id, seq, kind, from_stage, to_stage, last, recorded, actor, note, reason,
                 head, digest)
            )  # fmt: skip
            head, stage = digest, to_stage
            delta = at - _EPOCH
            us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
            ym = at.year * 12 + at.month - 1
            if open_spell is not None:
                open_spell[4:8] = (us, ym, kind, reason)
            open_spell = None
            if to_stage != "exited":
                open_spell = [company_id, to_stage, us, ym, None, None, None, None, c_site,
                              c_sector, cohort]  # fmt: skip
                spells.append(open_spell)
    if key is not None:
        companies.append(
            (company_id, key, first[1], c_sector, c_site, first[11] or None, stage, last,
             admitted, last, cohort, seq, head, 1, fact_head)
        )  # fmt: skip
    yield companies, facts, events, [tuple(s) for s in spells]


COMPANY = (
    "id, key, name, sector, site, uscc, stage, entered_stage_at, admitted_at, last_event_at,"
    " cohort, event_count, head_hash, fact_count, fact_head"
)
FACT = "company_id, seq, kind, payload, recorded_at, actor, note, prev_hash, hash"
EVENT = (
    "company_id, seq, kind, from_stage, to_stage, effective_at, recorded_at, actor, note,"
    " reason, prev_hash, hash"
)
SPELL = (
    "company_id, stage, start_us, start_ym, end_us, end_ym, end_kind, exit_reason, site,"
    " sector, cohort"
)
#: What the project records on a database's first write: its chains have no audit key.
SETTING = "INSERT INTO setting (key, value) VALUES ('audit_key', 'none') ON CONFLICT DO NOTHING"
TABLES = (("company", COMPANY), ("company_fact", FACT), ("stage_event", EVENT), ("spell", SPELL))


def raw_load(path: Path, url: str) -> None:
    """The equal-work raw load: every row in one transaction, through the driver only."""
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(SETTING)
        for chunk in raw_rows(path, postgres=False):
            for (table, columns), rows in zip(TABLES, chunk, strict=True):
                marks = ", ".join("?" * (columns.count(",") + 1))
                conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
        conn.close()
        return
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        with conn.cursor() as cur:
            cur.execute(SETTING)
            for chunk in raw_rows(path, postgres=True):
                for (table, columns), rows in zip(TABLES, chunk, strict=True):
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            last = cur.execute("SELECT max(id) FROM company").fetchone()
            cur.execute(f"SELECT setval(pg_get_serial_sequence('company', 'id'), {last[0]})")
        conn.commit()


# --- the measuring parent -------------------------------------------------------------------------


def measure(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one process running `args`."""
    return child.measure(args)


def fresh_database(kind: str, workdir: Path) -> tuple[str, Any]:
    """The URL of an empty, migrated database with the demo's sites; and how to drop it."""
    from incubator.cli import seed_demo_registry
    from incubator.store import Database

    if kind == "sqlite":
        path = workdir / f"{uuid.uuid4().hex[:8]}.db"
        db = Database(f"sqlite:///{path}", check_schema=False)
        db.upgrade()
        seed_demo_registry(db)
        db.dispose()

        def drop() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite:///{path}", drop
    base = os.environ.get("INCUBATOR_TEST_DATABASE_URL") or DEFAULT_PG_URL
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(base, check_schema=False)
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    db = Database(url, check_schema=False)
    db.upgrade()
    seed_demo_registry(db)
    db.dispose()

    def drop_schema() -> None:
        with admin.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")

    return url, drop_schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--raw-child", nargs=2, metavar=("CSV", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_child:
        raw_load(Path(args.raw_child[0]), args.raw_child[1])
        return
    path = csv_for(args.companies)
    incubator = str(Path(sys.executable).with_name("incubator"))
    figures: dict[str, list[tuple[float, float, float]]] = {"project": [], "raw": []}
    loads = []
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as work:
        for _ in range(args.runs):
            for name in ("project", "raw"):
                url, drop = fresh_database(args.db, Path(work))
                command = (
                    [incubator, "import", str(path), "--db", url]
                    if name == "project"
                    else [sys.executable, __file__, "--raw-child", str(path), url]
                )
                try:
                    figures[name].append(measure(command))
                finally:
                    drop()
                loads.append(os.getloadavg()[0])
                print(name, figures[name][-1], f"load {loads[-1]:.1f}", flush=True)
    med = {
        name: [statistics.median(run[i] for run in runs) for i in range(3)]
        for name, runs in figures.items()
    }
    p, r = med["project"], med["raw"]
    with open(path, encoding="utf-8") as handle:
        events = sum(1 for _ in handle) - 1
    print(
        f"{args.db}, {args.companies:,} companies ({events:,} events), median of {args.runs}, "
        f"load {min(loads):.1f}-{max(loads):.1f}\n"
        f"  import (project): {p[0]:6.1f} s wall, {p[1]:6.1f} s CPU, peak {p[2]:6.0f} MB\n"
        f"  raw equal work:   {r[0]:6.1f} s wall, {r[1]:6.1f} s CPU, peak {r[2]:6.0f} MB\n"
        f"  ratio project/raw: wall {p[0] / r[0]:.2f}x, CPU {p[1] / r[1]:.2f}x (goal <= 1.3x; "
        f"peak memory goal < 1024 MB)"
    )
    print(
        json.dumps(
            {
                "db": args.db, "companies": args.companies, "events": events,
                "runs": args.runs, "load": [min(loads), max(loads)],
                "project": dict(zip(("wall_s", "cpu_s", "peak_mb"), p, strict=True)),
                "raw": dict(zip(("wall_s", "cpu_s", "peak_mb"), r, strict=True)),
                "ratio_wall": p[0] / r[0], "ratio_cpu": p[1] / r[1],
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
