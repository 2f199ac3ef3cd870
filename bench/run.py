"""Benchmark the tracker at scale, against raw sqlite3 doing the same work.

    make bench                                            # 100,000 companies on SQLite
    .venv/bin/python bench/run.py --companies 20000 --db postgresql
    .venv/bin/python bench/run.py --all                   # SQLite, then PostgreSQL

One run generates N companies (`fixtures/generate_demo.py`), writes them as an event-log CSV
and times, on each database:
  (a) the import through `services.import_events`;
  (b) 2,000 single advances through `services.advance`, one committed transaction each (with
      the default gates: moves into gated stages are overridden, so every gate is evaluated);
  (c) funnel, dwell and throughput in-process (best of 3);
  (d) `incubator funnel --json` as a whole process (best of 3);
  (e) `incubator --help` as a whole process (best of 3);
  (f) the peak RSS of each metric command's process (the largest is reported).
On SQLite the same work is also done with the standard library's `sqlite3`: a bulk insert of
the same companies and events in one transaction (reading the CSV included), one
read + insert + update transaction per advance, and the funnel as one window-function query
over the raw events (LEAD() over each company's events by seq).

PostgreSQL uses INCUBATOR_TEST_DATABASE_URL (default: the local server's `test` database) in
a throwaway schema that is dropped afterwards. The last line printed is one JSON document with
every figure and ratio. `--profile-import` prints the import's cProfile top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402

from fixtures.generate_demo import generate_rows, write_csv  # noqa: E402
from incubator import metrics, services  # noqa: E402
from incubator.access import cli_owner  # noqa: E402
from incubator.cli import seed_demo_registry  # noqa: E402
from incubator.stages import LADDER  # noqa: E402
from incubator.store import Database  # noqa: E402
from incubator.values import now_utc  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEED = 20261126
ADVANCES = 2_000
REPEATS = 3
ACTOR = cli_owner("bench")
#: The reason the bench's advances give for passing a gate without evidence.
OVERRIDE = "bench: generated companies have no evidence"
METRICS: dict[str, Callable[[Database], Any]] = {
    "funnel": lambda db: metrics.funnel(db),
    "dwell": lambda db: metrics.dwell(db),
    "throughput": lambda db: metrics.throughput(db, by="month"),
}
#: Targets at 100,000 companies on SQLite (from the issue).
TARGETS = {
    "import_vs_raw": 4.0,
    "metric_vs_raw_window": 2.0,
    "metric_s": 0.5,
    "funnel_process_s": 1.5,
    "advances_per_s": 2_000.0,
    "metric_peak_rss_mb": 300.0,
}
INCUBATOR = Path(sys.executable).with_name("incubator")
console = Console(stderr=True)


# --- helpers -------------------------------------------------------------------------------


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def best_of(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    """The fastest of `repeats` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run_process(args: list[str]) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


_PEAK_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_mb(args: list[str]) -> float:
    """Peak resident memory of one process running `args` (Linux: ru_maxrss is in KiB)."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *args], check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip()) / 1024


def generate_csv(path: Path, companies: int) -> int:
    """Write the event log of `companies` generated companies; return the number of events."""
    with progress_bar() as bar:
        task = bar.add_task(f"generating {companies:,} companies", total=companies)

        def rows() -> Iterator[dict[str, str]]:
            last = None
            for row in generate_rows(n_companies=companies, seed=SEED):
                if row["company_key"] != last:
                    last = row["company_key"]
                    bar.advance(task)
                yield row

        return write_csv(path, rows())


# --- the project ---------------------------------------------------------------------------


@contextmanager
def project_database(kind: str, workdir: Path) -> Iterator[Database]:
    """An empty, migrated database: a SQLite file, or a throwaway PostgreSQL schema."""
    if kind == "sqlite":
        db = Database(f"sqlite:///{workdir / 'bench.db'}", check_schema=False)
        db.upgrade()
        seed_demo_registry(db)  # the generated companies' sites (an unknown one is refused)
        try:
            yield db
        finally:
            db.dispose()
        return
    base = os.environ.get("INCUBATOR_TEST_DATABASE_URL") or DEFAULT_PG_URL
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(base, check_schema=False)
    with admin.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    db = Database(f"{base}{sep}options=-csearch_path%3D{schema}", check_schema=False)
    try:
        db.upgrade()
        seed_demo_registry(db)  # the generated companies' sites (an unknown one is refused)
        yield db
    finally:
        db.dispose()
        with admin.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def time_import(db: Database, path: Path, profile: bool) -> float:
    with progress_bar() as bar:
        task = bar.add_task("import (services)", total=None)

        def report(phase: str, done: int, total: int) -> None:
            bar.update(task, description=f"import: {phase}", completed=done, total=total)

        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        services.import_events(db, path, actor=ACTOR, progress=report)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - start
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        console.print(out.getvalue())
    return elapsed


def advanceable(db: Database, n: int) -> list[tuple[str, str]]:
    """`n` random (key, stage) of companies that can move one stage up (seeded)."""
    candidates = [
        (c.key, c.stage) for s in LADDER[:-1] for c in services.list_companies(db, stage=s.value)
    ]
    candidates.sort()
    return random.Random(SEED).sample(candidates, min(n, len(candidates)))


def time_advances(db: Database, picks: list[tuple[str, str]]) -> float:
    """Advances per second, one committed unit of work each. The generated companies have no
    evidence, so a move into a gated stage is overridden: its gate is still evaluated (the
    policy and the company's facts read) and its outcome recorded, as for any move."""
    with progress_bar() as bar:
        task = bar.add_task("advances (services)", total=len(picks))
        start = time.perf_counter()
        for key, stage in picks:
            services.advance(db, key, actor=ACTOR, seen=stage, note="bench", override=OVERRIDE)
            bar.advance(task)
        elapsed = time.perf_counter() - start
    return len(picks) / elapsed


def bench_project(kind: str, csv_path: Path, workdir: Path, profile: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with project_database(kind, workdir) as db:
        figures["import_s"] = time_import(db, csv_path, profile)
        picks = advanceable(db, ADVANCES)
        figures["picks"] = picks
        figures["advances"] = len(picks)
        figures["advances_per_s"] = time_advances(db, picks)
        for name, fn in METRICS.items():
            fn(db)  # warm the page cache and imports once
            figures[f"{name}_s"] = best_of(partial(fn, db))
        url = db.url
        cli = [str(INCUBATOR), "funnel", "--json", "--db", url]
        figures["funnel_process_s"] = best_of(lambda: run_process(cli))
        figures["help_process_s"] = best_of(lambda: run_process([str(INCUBATOR), "--help"]))
        figures["metric_peak_rss_mb"] = max(
            peak_rss_mb([str(INCUBATOR), name, "--json", "--db", url]) for name in METRICS
        )
        figures["funnel"] = metrics.funnel(db)["stages"]
        if kind == "postgresql":
            figures["raw_window_s"] = best_of(lambda: window_funnel_pg(db))
    return figures


# --- raw sqlite3 ---------------------------------------------------------------------------

RAW_SCHEMA = """
CREATE TABLE company (
    id INTEGER PRIMARY KEY, key VARCHAR(64) NOT NULL UNIQUE, name TEXT NOT NULL,
    sector VARCHAR(120) NOT NULL, site VARCHAR(120) NOT NULL, uscc VARCHAR(18),
    stage VARCHAR(32) NOT NULL, entered_stage_at DATETIME NOT NULL,
    admitted_at DATETIME NOT NULL, last_event_at DATETIME NOT NULL, cohort INTEGER NOT NULL,
    event_count INTEGER NOT NULL, head_hash VARCHAR(64) NOT NULL
);
CREATE INDEX ix_company_sector ON company (sector);
CREATE INDEX ix_company_site ON company (site);
CREATE INDEX ix_company_stage ON company (stage);
CREATE TABLE stage_event (
    id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL REFERENCES company (id),
    seq INTEGER NOT NULL, kind VARCHAR(16) NOT NULL, from_stage VARCHAR(32),
    to_stage VARCHAR(32) NOT NULL, effective_at DATETIME NOT NULL, recorded_at DATETIME NOT NULL,
    actor VARCHAR(120) NOT NULL, note TEXT NOT NULL, reason VARCHAR(32),
    prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL,
    CONSTRAINT uq_stage_event_company_seq UNIQUE (company_id, seq)
);
CREATE INDEX ix_stage_event_effective_at ON stage_event (effective_at);
CREATE INDEX ix_stage_event_actor ON stage_event (actor);
"""

#: The funnel over the raw event log: each event into a stage, and the company's next event.
RAW_WINDOW_FUNNEL = """
WITH e AS (
    SELECT to_stage,
           LEAD(kind) OVER w AS next_kind,
           LEAD(effective_at) OVER w AS next_at
    FROM stage_event
    WHERE effective_at <= :t
    WINDOW w AS (PARTITION BY company_id ORDER BY seq)
)
SELECT to_stage,
       COUNT(*),
       SUM(CASE WHEN next_kind = 'advance' THEN 1 ELSE 0 END),
       SUM(CASE WHEN next_kind = 'exit' THEN 1 ELSE 0 END),
       SUM(CASE WHEN next_kind IS NULL THEN 1 ELSE 0 END)
FROM e
WHERE to_stage <> 'exited'
GROUP BY to_stage
"""


def raw_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def raw_instant(moment: datetime) -> str:
    """An instant as the raw tables keep it: ISO 8601 text in UTC, as the generated CSV has it
    (so text order is time order)."""
    return moment.astimezone(UTC).isoformat()


def raw_insert(conn: sqlite3.Connection, csv_path: Path) -> float:
    """Read the CSV and insert its companies and events in one transaction (executemany).

    The generated file lists each company's events together, in time order, with UTC times.
    """
    start = time.perf_counter()
    now = raw_instant(now_utc())
    companies: dict[str, list[Any]] = {}
    events: list[list[Any]] = []
    with open(csv_path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for (
            key,
            name,
            kind,
            from_stage,
            to_stage,
            at,
            actor,
            note,
            reason,
            sector,
            site,
            uscc,
        ) in reader:
            company = companies.get(key)
            if company is None:
                company = companies[key] = [
                    key, name, sector, site, uscc or None, to_stage, at, at, at, int(at[:4]), 0,
                    "",
                ]  # fmt: skip
            company[5] = to_stage or "exited"
            company[6] = company[8] = at
            company[10] += 1
            events.append(
                [key, company[10], kind, from_stage or None, to_stage or "exited", at, now,
                 actor, note, reason or None, "", ""]
            )  # fmt: skip
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO company (key, name, sector, site, uscc, stage, entered_stage_at,"
        " admitted_at, last_event_at, cohort, event_count, head_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        companies.values(),
    )
    ids = dict(conn.execute("SELECT key, id FROM company"))
    for event in events:
        event[0] = ids[event[0]]
    conn.executemany(
        "INSERT INTO stage_event (company_id, seq, kind, from_stage, to_stage, effective_at,"
        " recorded_at, actor, note, reason, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    conn.execute("COMMIT")
    return time.perf_counter() - start


NEXT = {a.value: b.value for a, b in zip(LADDER, LADDER[1:], strict=False)}


def raw_advances(conn: sqlite3.Connection, picks: list[tuple[str, str]]) -> float:
    """Advances per second: one read + insert + update transaction each."""
    start = time.perf_counter()
    for key, _stage in picks:
        now = raw_instant(now_utc())
        conn.execute("BEGIN IMMEDIATE")
        company_id, stage, count = conn.execute(
            "SELECT id, stage, event_count FROM company WHERE key = ?", (key,)
        ).fetchone()
        conn.execute(
            "INSERT INTO stage_event (company_id, seq, kind, from_stage, to_stage, effective_at,"
            " recorded_at, actor, note, reason, prev_hash, hash)"
            " VALUES (?, ?, 'advance', ?, ?, ?, ?, 'bench', 'bench', NULL, '', '')",
            (company_id, count + 1, stage, NEXT[stage], now, now),
        )
        conn.execute(
            "UPDATE company SET stage = ?, entered_stage_at = ?, last_event_at = ?,"
            " event_count = ? WHERE id = ?",
            (NEXT[stage], now, now, count + 1, company_id),
        )
        conn.execute("COMMIT")
    return len(picks) / (time.perf_counter() - start)


def window_funnel_rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    counts = {r[0]: tuple(int(x) for x in r[1:]) for r in rows}
    out = []
    for stage in LADDER:
        entered, advanced, exited, current = counts.get(stage.value, (0, 0, 0, 0))
        out.append(
            {
                "stage": stage.value,
                "entered": entered,
                "advanced": advanced,
                "exited": exited,
                "current": current,
                "conversion": metrics.conversion(stage, entered, advanced),
            }
        )
    return out


def window_funnel_raw(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    t = raw_instant(now_utc())
    return window_funnel_rows(conn.execute(RAW_WINDOW_FUNNEL, {"t": t}).fetchall())


def window_funnel_pg(db: Database) -> list[dict[str, Any]]:
    """The same window query over the project's own event table on PostgreSQL."""
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(RAW_WINDOW_FUNNEL.replace(":t", "%(t)s"), {"t": now_utc()})
        return window_funnel_rows([tuple(r) for r in rows])


def bench_raw(csv_path: Path, workdir: Path, picks: list[tuple[str, str]]) -> dict[str, Any]:
    path = workdir / "raw.db"
    conn = raw_connect(path)
    conn.executescript(RAW_SCHEMA)
    figures: dict[str, Any] = {}
    with progress_bar() as bar:
        bar.add_task("raw sqlite3: insert, advances", total=None)
        figures["insert_s"] = raw_insert(conn, csv_path)
        figures["advances_per_s"] = raw_advances(conn, picks)
        window_funnel_raw(conn)
        figures["window_funnel_s"] = best_of(lambda: window_funnel_raw(conn))
        figures["funnel"] = window_funnel_raw(conn)
    conn.close()
    return figures


# --- report --------------------------------------------------------------------------------


def summarize(kind: str, project: dict[str, Any], raw: dict[str, Any] | None) -> dict[str, Any]:
    """Figures, ratios and (on SQLite, where the targets apply) target checks of one database,
    for the table and the JSON line."""
    out = {k: v for k, v in project.items() if k != "funnel"}
    window = raw["window_funnel_s"] if raw else project.get("raw_window_s")
    if raw:
        out["raw_insert_s"] = raw["insert_s"]
        out["raw_advances_per_s"] = raw["advances_per_s"]
        out["raw_window_s"] = window
        out["import_vs_raw"] = project["import_s"] / raw["insert_s"]
        out["advances_vs_raw"] = project["advances_per_s"] / raw["advances_per_s"]
        out["funnel_matches_raw_window"] = project["funnel"] == raw["funnel"]
    if window:
        for name in METRICS:
            out[f"{name}_vs_raw_window"] = project[f"{name}_s"] / window
    checks = {
        "advances_per_s": out["advances_per_s"] >= TARGETS["advances_per_s"],
        "funnel_process_s": out["funnel_process_s"] < TARGETS["funnel_process_s"],
        "metric_peak_rss_mb": out["metric_peak_rss_mb"] < TARGETS["metric_peak_rss_mb"],
    }
    for name in METRICS:
        checks[f"{name}_s"] = out[f"{name}_s"] < TARGETS["metric_s"]
        if window:
            checks[f"{name}_vs_raw_window"] = (
                out[f"{name}_vs_raw_window"] <= TARGETS["metric_vs_raw_window"]
            )
    if raw:
        checks["import_vs_raw"] = out["import_vs_raw"] <= TARGETS["import_vs_raw"]
    if kind == "sqlite":
        out["targets_met"] = checks
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def table(kind: str, s: dict[str, Any]) -> Table:
    t = Table("figure", "tracker", "raw sqlite3" if kind == "sqlite" else "raw window",
              "ratio", "target" if kind == "sqlite" else "target (SQLite)", title=kind)  # fmt: skip
    ok = s.get("targets_met")

    def mark(name: str) -> str:
        return "" if not ok or name not in ok else ("✓" if ok[name] else "✗")

    def f(v: Any, unit: str = "s") -> str:
        if v is None:
            return ""
        return f"{v:,.0f}/s" if unit == "/s" else f"{v:.3f} {unit}" if unit else f"{v:.2f}×"

    t.add_row(
        "import",
        f(s["import_s"]),
        f(s.get("raw_insert_s")),
        f(s.get("import_vs_raw"), ""),
        f"≤ 4× {mark('import_vs_raw')}",
    )
    t.add_row(
        "advances",
        f(s["advances_per_s"], "/s"),
        f(s.get("raw_advances_per_s"), "/s"),
        f(s.get("advances_vs_raw"), ""),
        f"≥ 2,000/s {mark('advances_per_s')}",
    )
    for name in METRICS:
        t.add_row(
            name,
            f(s[f"{name}_s"]),
            f(s.get("raw_window_s")),
            f(s.get(f"{name}_vs_raw_window"), ""),
            f"< 0.5 s {mark(f'{name}_s')}, ≤ 2× {mark(f'{name}_vs_raw_window')}",
        )
    t.add_row(
        "incubator funnel --json",
        f(s["funnel_process_s"]),
        "",
        "",
        f"< 1.5 s {mark('funnel_process_s')}",
    )
    t.add_row("incubator --help", f(s["help_process_s"]), "", "", "")
    t.add_row("metric peak RSS", f"{s['metric_peak_rss_mb']:.0f} MB", "", "",
              f"< 300 MB {mark('metric_peak_rss_mb')}")  # fmt: skip
    return t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000, metavar="N")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--all", action="store_true", help="run SQLite and PostgreSQL")
    parser.add_argument("--profile-import", action="store_true", help="cProfile the import")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.all else [args.db]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="incubator-bench-") as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "events.csv"
        events = generate_csv(csv_path, args.companies)
        for kind in kinds:
            project = bench_project(kind, csv_path, workdir, args.profile_import)
            picks = project.pop("picks")
            raw = bench_raw(csv_path, workdir, picks) if kind == "sqlite" else None
            results[kind] = summarize(kind, project, raw)
            Console().print(table(kind, results[kind]))
    print(
        json.dumps(
            {"bench": "incubator", "companies": args.companies, "events": events,
             "targets": TARGETS, "results": results},
            ensure_ascii=False, separators=(",", ":"),
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
