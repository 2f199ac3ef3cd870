"""Committed advances per second: the project against an equal-work raw transaction.

    .venv/bin/python bench/advances.py                          # 100,000 companies, SQLite
    .venv/bin/python bench/advances.py --db postgresql          # the same on PostgreSQL
    .venv/bin/python bench/advances.py --companies 20000 --per-process 300 --profile

One database of N generated companies (`fixtures/generate_demo.py`, imported through
`services.import_events`; SQLite's is kept in `--cache` and copied for each run) is advanced,
one committed transaction per advance, by 1 process and by 4 processes (each its own
companies; the figure is the total committed per second), by:
  project: `services.advance(db, key, seen=stage, override=...)`: the generated companies
           have no evidence, so moves into gated stages are overridden; every gate is still
           evaluated (the policy and the company's facts read) and its outcome recorded;
  raw:     the same rows written through the driver itself (stdlib sqlite3 with
           BEGIN IMMEDIATE and the project's busy timeout / psycopg): read the company, insert
           the event with its real hash (`audit.chain_hash`, the same gate text the project
           records), close the open spell and open the next, update the company, commit. On
           PostgreSQL the read is `SELECT ... FOR UPDATE` and the four writes are one
           statement (a CTE): one round trip each, then COMMIT.
Both run in the same database on disjoint companies, interleaved (project 1, raw 1, project
4, raw 4) for each of `--repeats` rounds; medians are printed with `uptime`'s load. The last
line printed is one JSON document with every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing as mp
import os
import pstats
import queue
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.generate_demo import generate_rows, write_csv  # noqa: E402
from incubator import audit, services  # noqa: E402
from incubator.access import cli_owner  # noqa: E402
from incubator.cli import seed_demo_registry  # noqa: E402
from incubator.evidence import DEFAULT_POLICY, CompanyFacts, Evidence  # noqa: E402
from incubator.stages import LADDER  # noqa: E402
from incubator.store import SCHEMA_HEAD, SQLITE_BUSY_TIMEOUT_S, Database  # noqa: E402
from incubator.values import to_micros, year_month  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEED = 20261126
ACTOR = cli_owner("bench")
OVERRIDE = "bench: generated companies have no evidence"
NEXT = {a.value: b.value for a, b in zip(LADDER, LADDER[1:], strict=False)}


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# --- the database --------------------------------------------------------------------------


def _import(db: Database, companies: int, workdir: Path) -> None:
    path = workdir / f"events-{companies}.csv"
    write_csv(path, generate_rows(n_companies=companies, seed=SEED))
    seed_demo_registry(db)
    services.import_events(db, path, actor=ACTOR)
    path.unlink()


@contextmanager
def bench_database(kind: str, companies: int, cache: Path, workdir: Path) -> Iterator[str]:
    """The URL of a database of `companies` generated companies, to be changed freely."""
    if kind == "sqlite":
        template = cache / f"advances-{companies}-{SEED}-{SCHEMA_HEAD}.db"
        if not template.exists():
            cache.mkdir(parents=True, exist_ok=True)
            partial = template.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            db = Database(f"sqlite:///{partial}", check_schema=False)
            db.upgrade()
            _import(db, companies, workdir)
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.dispose()
            for suffix in ("-wal", "-shm"):
                Path(f"{partial}{suffix}").unlink(missing_ok=True)
            partial.rename(template)
        target = workdir / "bench.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    base = os.environ.get("INCUBATOR_TEST_DATABASE_URL") or DEFAULT_PG_URL
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(base, check_schema=False)
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        db = Database(url, check_schema=False)
        db.upgrade()
        _import(db, companies, workdir)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        db.dispose()
        yield url
    finally:
        with admin.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def advanceable(url: str) -> list[tuple[str, str]]:
    """Every (key, stage) of a company that can move one stage up, shuffled (seeded)."""
    db = Database(url)
    picks = [
        (c.key, c.stage) for s in LADDER[:-1] for c in services.list_companies(db, stage=s.value)
    ]
    db.dispose()
    picks.sort()
    random.Random(SEED).shuffle(picks)
    return picks


# --- the work ------------------------------------------------------------------------------


Step = Callable[[str, str], None]


def project_worker(url: str) -> Step:
    db = Database(url)

    def step(key: str, stage: str) -> None:
        services.advance(db, key, actor=ACTOR, seen=stage, note="bench", override=OVERRIDE)

    return step


_GATES: dict[str, str | None] = {}


def gate_text(dest: str, moment: datetime) -> str | None:
    """The gate outcome the project records for a company without evidence (default policy),
    as stored: the raw side writes the same text into the same hash."""
    day = moment.astimezone(UTC).date()
    cached = f"{dest}/{day}"
    if cached not in _GATES:
        evidence = Evidence(DEFAULT_POLICY, day, CompanyFacts("x"), OVERRIDE)
        evidence.passes(dest)
        doc = evidence.recorded()
        _GATES[cached] = audit.payload_json(doc) if doc is not None else None
    return _GATES[cached]


def _event(key: str, seq: int, stage: str, dest: str, now: datetime) -> dict[str, Any]:
    return {
        "company_key": key, "seq": seq, "kind": "advance", "from_stage": stage,
        "to_stage": dest, "effective_at": now, "recorded_at": now, "actor": ACTOR.name,
        "note": "bench", "reason": None, "gate": gate_text(dest, now),
    }  # fmt: skip


def raw_sqlite_worker(url: str) -> Step:
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA wal_autocheckpoint = 10000")  # as store.Database
    conn.execute("PRAGMA cache_size = -65536")  # as store.Database

    def step(key: str, _seen: str) -> None:
        conn.execute("BEGIN IMMEDIATE")
        cid, stage, count, head, site, sector, cohort = conn.execute(
            "SELECT id, stage, event_count, head_hash, site, sector, cohort"
            " FROM company WHERE key = ?",
            (key,),
        ).fetchone()
        now = datetime.now(UTC)
        dest, seq = NEXT[stage], count + 1
        event = _event(key, seq, stage, dest, now)
        digest = audit.chain_hash(head, event)
        at = now.isoformat(sep=" ", timespec="microseconds")[:26]
        us, ym = to_micros(now), year_month(now)
        conn.execute(
            "INSERT INTO stage_event (company_id, seq, kind, from_stage, to_stage, effective_at,"
            " recorded_at, actor, note, reason, prev_hash, hash, gate)"
            " VALUES (?, ?, 'advance', ?, ?, ?, ?, ?, 'bench', NULL, ?, ?, ?)",
            (cid, seq, stage, dest, at, at, ACTOR.name, head, digest, event["gate"]),
        )
        conn.execute(
            "UPDATE spell SET end_us = ?, end_ym = ?, end_kind = 'advance', exit_reason = NULL"
            " WHERE company_id = ? AND end_us IS NULL",
            (us, ym, cid),
        )
        conn.execute(
            "INSERT INTO spell (company_id, stage, start_us, start_ym, site, sector, cohort)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (cid, dest, us, ym, site, sector, cohort),
        )
        conn.execute(
            "UPDATE company SET stage = ?, entered_stage_at = ?, last_event_at = ?,"
            " event_count = ?, head_hash = ? WHERE id = ?",
            (dest, at, at, seq, digest, cid),
        )
        conn.execute("COMMIT")

    return step


#: The four writes of an advance in one statement (one round trip).
PG_WRITES = """
WITH e AS (
    INSERT INTO stage_event (company_id, seq, kind, from_stage, to_stage, effective_at,
        recorded_at, actor, note, reason, prev_hash, hash, gate)
    VALUES (%(cid)s, %(seq)s, 'advance', %(stage)s, %(dest)s, %(at)s, %(at)s, %(actor)s,
        'bench', NULL, %(head)s, %(hash)s, %(gate)s)
), closed AS (
    UPDATE spell SET end_us = %(us)s, end_ym = %(ym)s, end_kind = 'advance', exit_reason = NULL
    WHERE company_id = %(cid)s AND end_us IS NULL
), opened AS (
    INSERT INTO spell (company_id, stage, start_us, start_ym, site, sector, cohort)
    VALUES (%(cid)s, %(dest)s, %(us)s, %(ym)s, %(site)s, %(sector)s, %(cohort)s)
)
UPDATE company SET stage = %(dest)s, entered_stage_at = %(at)s, last_event_at = %(at)s,
    event_count = %(seq)s, head_hash = %(hash)s
WHERE id = %(cid)s
"""


def raw_pg_worker(url: str) -> Step:
    import psycopg

    schema = url.rsplit("%3D", 1)[1]
    dsn = url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
    conn = psycopg.connect(dsn, options=f"-csearch_path={schema}")
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()

    def step(key: str, _seen: str) -> None:
        with conn.pipeline():  # BEGIN travels with the read
            cur = conn.execute(
                "SELECT id, stage, event_count, head_hash, site, sector, cohort"
                " FROM company WHERE key = %s FOR UPDATE",
                (key,),
            )
            cid, stage, count, head, site, sector, cohort = cur.fetchone()  # type: ignore[misc]
        now = datetime.now(UTC)
        dest, seq = NEXT[stage], count + 1
        event = _event(key, seq, stage, dest, now)
        values = {
            "cid": cid, "seq": seq, "stage": stage, "dest": dest, "at": now,
            "actor": ACTOR.name, "head": head, "hash": audit.chain_hash(head, event),
            "gate": event["gate"], "us": to_micros(now), "ym": year_month(now), "site": site,
            "sector": sector, "cohort": cohort,
        }  # fmt: skip
        conn.execute(PG_WRITES, values, prepare=True)
        conn.commit()

    return step


WORKERS: dict[str, Callable[[str], Step]] = {
    "project": project_worker,
    "raw-sqlite": raw_sqlite_worker,
    "raw-postgresql": raw_pg_worker,
}


def _run(
    name: str, url: str, picks: list[tuple[str, str]], ready: Any, results: Any, profile: bool
) -> None:
    """One worker process: warm up on its first company, wait for the others, advance the
    rest; report (the number committed, when it began, when it finished)."""
    step = WORKERS[name](url)
    step(*picks[0])  # connect, import, compile: not timed
    # What the copy of the database and the runs before left for the kernel to write back is
    # written now, not while this run's commits wait behind it: every run starts equal.
    os.sync()
    ready.wait()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    began = time.perf_counter()
    for key, stage in picks[1:]:
        step(key, stage)
    ended = time.perf_counter()
    if profiler:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(
            os.environ.get("PROFILE_SORT", "tottime")
        ).print_stats(45)
        print(out.getvalue(), file=sys.stderr)
    results.put((len(picks) - 1, began, ended))


def committed_per_s(
    name: str, url: str, chunks: list[list[tuple[str, str]]], profile: bool = False
) -> float:
    """Total advances committed per second by one process per chunk of companies, from the
    moment all of them are ready (CLOCK_MONOTONIC is shared by the processes)."""
    ctx = mp.get_context("spawn")
    ready, results = ctx.Barrier(len(chunks)), ctx.Queue()
    workers = [
        ctx.Process(target=_run, args=(name, url, c, ready, results, profile)) for c in chunks
    ]
    for w in workers:
        w.start()
    got: list[tuple[int, float, float]] = []
    while len(got) < len(workers):  # a worker that died says nothing: do not wait for it
        try:
            got.append(results.get(timeout=1.0))
        except queue.Empty:
            if not any(w.is_alive() for w in workers) and results.empty():
                raise SystemExit(f"a {name} worker failed") from None
    for w in workers:
        w.join()
        if w.exitcode:
            raise SystemExit(f"a {name} worker failed")
    done = sum(n for n, _, _ in got)
    return done / (max(e for _, _, e in got) - min(b for _, b, _ in got))


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--per-process", type=int, default=600, help="advances per process")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--processes", default="1,4")
    parser.add_argument("--only", choices=["project", "raw"], default=None)
    parser.add_argument("--profile", action="store_true", help="cProfile one project process")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "inc-bench")
    args = parser.parse_args()
    counts = [int(p) for p in args.processes.split(",")]
    sides = [s for s in ("project", "raw") if args.only in (None, s)]
    raw = f"raw-{args.db}"
    figures: dict[str, list[float]] = {}
    loads: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with bench_database(args.db, args.companies, args.cache, Path(tmp)) as url:
            print(f"database ready in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            picks = advanceable(url)
            n = args.per_process + 1
            needed = args.repeats * len(sides) * sum(counts) * n
            if needed > len(picks):
                raise SystemExit(f"{needed} companies needed, {len(picks)} can advance")
            for _round in range(args.repeats):
                for procs in counts:
                    for side in sides:
                        chunks = [picks[i * n : (i + 1) * n] for i in range(procs)]
                        picks = picks[procs * n :]
                        name = "project" if side == "project" else raw
                        rate = committed_per_s(name, url, chunks, args.profile and procs == 1)
                        figures.setdefault(f"{side}_{procs}p", []).append(rate)
                        print(f"  {side:<8} {procs} process(es): {rate:8.0f}/s", file=sys.stderr)
                loads.append(load())
    out: dict[str, Any] = {"db": args.db, "companies": args.companies, "load": loads}
    for name, values in figures.items():
        out[f"{name}_per_s"] = round(statistics.median(values))
        out[f"{name}_runs"] = [round(v) for v in values]
    for procs in counts:
        if f"project_{procs}p" in figures and f"raw_{procs}p" in figures:
            ratio = out[f"project_{procs}p_per_s"] / out[f"raw_{procs}p_per_s"]
            out[f"vs_raw_{procs}p"] = round(ratio, 2)
    print(
        f"\n{args.db}, {args.companies:,} companies, {args.per_process} advances per process,"
        f" medians of {args.repeats}"
    )
    for procs in counts:
        p, r = out.get(f"project_{procs}p_per_s"), out.get(f"raw_{procs}p_per_s")
        print(
            f"  {procs} process(es): project {p}/s  raw {r}/s  ratio {out.get(f'vs_raw_{procs}p')}"
        )
    for line in loads:
        print(f"  load: {line}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
