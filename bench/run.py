"""Benchmark the tracker against equal-work raw baselines (issue 12, "Scale to a province").

    make bench                                                # 100,000 companies, SQLite
    .venv/bin/python bench/run.py --companies 20000 --db postgresql
    .venv/bin/python bench/run.py --companies 100000 1000000  # both sizes, then the exponents
    .venv/bin/python bench/run.py --all                       # SQLite, then PostgreSQL
    .venv/bin/python bench/run.py --save before.json          # ... later: --compare before.json

For each size N it generates N companies (`fixtures/generate_demo.py`, seeded) as an
event-log CSV, and on each database measures the tracker and, beside it, the same work done
raw on the driver (`bench/raw.py`: stdlib sqlite3 / psycopg, in a database made by the
project's own migrations, so with the same tables, derived columns and indexes). Every figure
is the MEDIAN of `--repeats` runs (default 3); `os.getloadavg()` is printed before and after
each database's run, with its wall time, and a reference loop's time (`reference_loop_ms`) at
the start and the end, to compare wall-clock figures between machines.

  import        `incubator import CSV --db URL` as a whole process, into a fresh database each
                run: time and peak RSS (ru_maxrss of the child). Raw: read the CSV with `csv`,
                chain the same hashes, derive the same company, profile-record and spell rows,
                write them in one transaction, streamed in chunks (executemany / COPY). After
                both, every company's head hash, record head and event count, and checksums
                of the events, records and spells, are compared between the two databases.
  metrics       funnel, dwell, throughput (by month) in-process at one instant T, after one
                warm-up run; raw: the best plain SQL over `spell` — each query is timed
                reading the table (SQLite: NOT INDEXED) and through the schema's covering
                index (dwell: one row per spell into numpy, or one text per stage parsed by
                numpy), and the faster is the baseline. Each result is compared with the
                tracker's.
  advances      committed advances per second through `services.advance` (gated stages are
                overridden: every gate is evaluated) in 1 process and in 4 processes (each
                its own companies; figure = all committed / wall time), against raw
                transactions doing the same reads (the company, its evidence records), rows
                and hash (the gate's outcome the tracker records, given as text: `gate_texts`)
                (SQLite: BEGIN IMMEDIATE; PostgreSQL: one statement, one round trip). The raw
                hashes are checked afterwards. Each run starts once its processes are ready
                and the kernel has written back what came before (`os.sync`): otherwise the
                run after an import commits while gigabytes are flushed, and the first run of
                each round is the slower for it. One untimed run of each side, with one
                process, comes before the timed rounds (cold pages and WAL would otherwise
                count against the first). Each run is printed too, with 4 processes against 1
                in each round, below the medians.
  processes     `incubator funnel --json` and `incubator --help` (start-up); `incubator audit
                verify` with its peak RSS (of the largest process: a large database is
                verified in parts, one process per CPU). The project's modules are
                byte-compiled first, as `make install` leaves them.
  UI            `ui/bench_ui.py --db URL --json` when it has those flags (else skipped).

A table per database shows each figure, the raw baseline, the ratio and the issue's goal at
1,000,000 companies (checked at any size, for information below 1M). With several sizes,
the exponent of each figure between the smallest and the largest size follows (about 1 for
a figure that reads the whole data, about 0 for per-advance times and start-up).
`--save FILE` writes the JSON document; `--compare FILE` adds a before column from a saved run
of the same size (an older bench's last JSON line is also read). PostgreSQL uses
INCUBATOR_TEST_DATABASE_URL (default the local server) in throwaway schemas dropped
afterwards. The last line printed is one JSON document with every figure, ratio and check.
"""

from __future__ import annotations

import argparse
import compileall
import cProfile
import hashlib
import io
import json
import math
import multiprocessing as mp
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import raw as rawdb  # noqa: E402  (bench/raw.py)
from child import measure  # noqa: E402  (bench/child.py)
from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402

from fixtures.generate_demo import generate_rows, write_csv  # noqa: E402
from incubator import audit, metrics, services  # noqa: E402
from incubator.access import cli_owner  # noqa: E402
from incubator.cli import seed_demo_registry  # noqa: E402
from incubator.evidence import DEFAULT_POLICY, CompanyFacts, Evidence  # noqa: E402
from incubator.store import Database  # noqa: E402
from incubator.values import now_utc, to_micros  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEED = 20261126
ADVANCES = 2_000
REPEATS = 3
WORKERS = 4
ACTOR_NAME = "bench"
ACTOR = cli_owner(ACTOR_NAME)
IMPORTER = "import"  # `incubator import`'s default --by, the actor of rows without one
#: The reason the bench's advances give for passing a gate without evidence.
OVERRIDE = "bench: generated companies have no evidence"
INCUBATOR = Path(sys.executable).with_name("incubator")
UI_BENCH = ROOT / "ui" / "bench_ui.py"
UI_KEYS = ("funnel_first_render_s", "funnel_filter_change_s", "audit_log_s", "board_s")
METRICS = ("funnel", "dwell", "throughput")
console = Console(stderr=True)

#: The issue's goals at 1,000,000 companies: figure -> (raw figure or None, kind, limit).
#: "ratio_le": tracker / raw <= limit; "ratio_ge": tracker / raw >= limit; "lt" / "le":
#: tracker below / at most limit; "true": a check that must hold. Per database where they differ.
Goal = tuple[str | None, str, float]


def goals(kind: str) -> dict[str, list[Goal]]:
    verify_limit = 20.0 if kind == "sqlite" else 30.0
    out: dict[str, list[Goal]] = {
        "import_process_s": [("raw_load_s", "ratio_le", 1.3)],
        "import_peak_mb": [(None, "lt", 1024.0)],
        "rows_match": [(None, "true", 1)],
        "advances_1p_per_s": [("raw_advances_1p_per_s", "ratio_ge", 0.5)],
        "advances_4p_per_s": [
            ("raw_advances_4p_per_s", "ratio_ge", 0.5),
            ("advances_1p_per_s", "ratio_ge", 1.0),  # 4 processes not slower than 1
        ],
        "raw_hashes_valid": [(None, "true", 1)],
        "funnel_process_s": [(None, "lt", 1.5)],
        "help_process_s": [(None, "lt", 0.3)],
        "verify_s": [(None, "le", verify_limit)],
        "ui_funnel_first_render_s": [(None, "lt", 1.5)],
        "ui_funnel_filter_change_s": [(None, "lt", 1.0)],
        "ui_audit_log_s": [(None, "lt", 1.5)],
        "ui_board_s": [(None, "lt", 1.0)],
    }
    for name in METRICS:
        out[f"{name}_s"] = [(f"raw_{name}_s", "ratio_le", 1.5), (None, "lt", 1.0)]
        out[f"{name}_match"] = [(None, "true", 1)]
    if kind == "sqlite":
        out["verify_peak_mb"] = [(None, "lt", 500.0)]
    return out


# --- helpers -------------------------------------------------------------------------------


def progress_bar(spinner: bool = False) -> Progress:
    return Progress(
        SpinnerColumn() if spinner else TextColumn(""),
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def median_of(fn: Callable[[], Any], repeats: int) -> float:
    """The median of `repeats` timed runs of `fn`, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def reference_loop_ms() -> float:
    """This machine's speed, for comparing runs on different machines (or on one machine
    whose share of a host changes): the best of five `sum(range(1_000_000))`, in ms, at the
    start and at the end of a run. Wall-clock figures scale with it; the ratios to the raw
    baselines, measured side by side, do not."""
    return min(timeit.repeat("sum(range(1_000_000))", number=10, repeat=5)) / 10 * 1000


def measured(args: Sequence[Any]) -> tuple[float, float]:
    """Run `args` as a child process: (wall seconds, peak RSS in MB of that child alone)."""
    run = measure(args)
    return run.wall_s, run.peak_mb


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


# --- databases -----------------------------------------------------------------------------


def pg_base() -> str:
    return os.environ.get("INCUBATOR_TEST_DATABASE_URL") or DEFAULT_PG_URL


def libpq(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest


class Scratch:
    """Throwaway databases of one kind: SQLite files in the work directory, or PostgreSQL
    schemas; `close` removes every one left."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        self.made: dict[str, str] = {}  # url -> file path or schema

    def create(self, name: str, seed: bool) -> str:
        """A new, migrated database (with the demo's sites when `seed`); its SQLAlchemy URL."""
        if self.kind == "sqlite":
            path = self.workdir / f"{name}.db"
            url = f"sqlite:///{path}"
            self.made[url] = str(path)
        else:
            import psycopg

            schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(libpq(pg_base()), autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            base = pg_base()
            sep = "&" if "?" in base else "?"
            url = f"{base}{sep}options=-csearch_path%3D{schema}"
            self.made[url] = schema
        db = Database(url, check_schema=False)
        try:
            db.upgrade()
            if seed:
                seed_demo_registry(db)  # the generated companies' sites (an unknown one is refused)
        finally:
            db.dispose()
        return url

    def raw(self, url: str) -> rawdb.Raw:
        if self.kind == "sqlite":
            return rawdb.Raw("sqlite", self.made[url])
        return rawdb.Raw("postgresql", libpq(pg_base()), self.made[url])

    def raw_args(self, url: str) -> tuple[str, str, str | None]:
        if self.kind == "sqlite":
            return ("sqlite", self.made[url], None)
        return ("postgresql", libpq(pg_base()), self.made[url])

    def drop(self, url: str) -> None:
        where = self.made.pop(url)
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(where + suffix).unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(libpq(pg_base()), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {where} CASCADE")

    def close(self) -> None:
        for url in list(self.made):
            self.drop(url)


# --- import --------------------------------------------------------------------------------


def time_imports(
    scratch: Scratch, csv_path: Path, events: int, repeats: int
) -> tuple[str, str, dict[str, Any]]:
    """`incubator import` as a whole process, then the raw load, each into a fresh database
    (made by the project's migrations, not timed), `repeats` times in turn (so that a change
    of the machine's load falls on both); the URLs of the last two (kept for what follows)
    and the figures. The raw load records its events at the tracker's recorded_at, so that
    the hashes can be compared (the tracker records a batch of companies at a time)."""
    times, peaks, raw_times = [], [], []
    url: str | None = None
    raw_url: str | None = None
    with progress_bar(spinner=True) as bar:
        for i in range(repeats):
            for old in (url, raw_url):
                if old is not None:
                    scratch.drop(old)
            task = bar.add_task(f"import {i + 1}/{repeats} (incubator import)", total=None)
            url = scratch.create(f"project{i}", seed=True)
            seconds, peak = measured([INCUBATOR, "import", csv_path, "--db", url])
            times.append(seconds)
            peaks.append(peak)
            bar.remove_task(task)
            probe = scratch.raw(url)
            try:
                recorded_at = recorded_at_of(probe)
            finally:
                probe.close()
            raw_url = scratch.create(f"raw{i}", seed=False)
            task = bar.add_task(f"raw load {i + 1}/{repeats}", total=events)
            conn = scratch.raw(raw_url)

            def advance(n: int, task: Any = task) -> None:
                bar.advance(task, n)

            try:
                raw_times.append(rawdb.load(conn, csv_path, recorded_at, IMPORTER, advance))
            finally:
                conn.close()
            bar.remove_task(task)
    assert url is not None and raw_url is not None
    return (
        url,
        raw_url,
        {
            "import_process_s": statistics.median(times),
            "import_peak_mb": max(peaks),
            "import_runs_s": times,
            "raw_load_s": statistics.median(raw_times),
            "raw_load_runs_s": raw_times,
        },
    )


def profile_import(scratch: Scratch, csv_path: Path) -> None:
    """Print the cProfile top functions of one in-process import (`services.import_events`)."""
    url = scratch.create("profile", seed=True)
    db = Database(url)
    profiler = cProfile.Profile()
    profiler.enable()
    services.import_events(db, csv_path, actor=cli_owner(IMPORTER))
    profiler.disable()
    db.dispose()
    scratch.drop(url)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    console.print(out.getvalue())


def recorded_at_of(raw: rawdb.Raw) -> list[tuple[int, datetime]]:
    """When the import recorded its companies: (first company id, instant) of each batch it
    recorded at one instant, in id order (through `ix_stage_event_recorded_at`)."""
    rows = raw.query(
        "SELECT MIN(company_id), recorded_at FROM stage_event GROUP BY recorded_at ORDER BY 1"
    )
    out = []
    for first, value in rows:
        if isinstance(value, datetime):
            out.append((int(first), value.astimezone(UTC)))
        else:
            out.append((int(first), datetime.fromisoformat(value).replace(tzinfo=UTC)))
    return out


def checksums(raw: rawdb.Raw) -> dict[str, Any]:
    """What both loads must agree on: each company's key, head hash, record head and event
    count (a digest of all of them, in key order), counts of the events and records and of
    their distinct hashes, and sums over the spells (of seconds, and of microseconds modulo
    a prime: a plain sum of microseconds overflows SQLite's 64-bit integers)."""
    digest = hashlib.sha256()
    cur = raw.conn.execute(
        "SELECT key, head_hash, fact_head, event_count, stage, cohort FROM company ORDER BY key"
    )
    n = 0
    while batch := cur.fetchmany(20_000):
        for row in batch:
            digest.update("|".join(map(str, row)).encode() + b"\n")
        n += len(batch)
    (events,) = raw.query("SELECT COUNT(*), COUNT(DISTINCT hash) FROM stage_event")
    (facts,) = raw.query("SELECT COUNT(*), COUNT(DISTINCT hash) FROM company_fact")
    (spells,) = raw.query(
        "SELECT COUNT(*), SUM(start_us / 1000000), SUM(start_us % 999983),"
        " SUM(COALESCE(end_us, 0) / 1000000), SUM(COALESCE(end_us, 0) % 999983), SUM(start_ym),"
        " SUM(COALESCE(end_ym, 0)), SUM(cohort), COUNT(end_kind), COUNT(exit_reason) FROM spell"
    )
    return {
        "companies": n,
        "heads": digest.hexdigest(),
        "events": [int(x) for x in events],
        "facts": [int(x) for x in facts],
        "spells": [int(x or 0) for x in spells],
    }


# --- metrics -------------------------------------------------------------------------------


def _close(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 relative (numpy's summation order may differ in the last bit)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def time_metrics(project_url: str, raw: rawdb.Raw, repeats: int) -> dict[str, Any]:
    """The three metrics at one instant T, tracker and raw, medians after one warm-up run;
    whether each raw result equals the tracker's."""
    moment = now_utc()
    t_us = to_micros(moment)
    db = Database(project_url)
    out: dict[str, Any] = {}
    project: dict[str, Callable[[], Any]] = {
        "funnel": lambda: metrics.funnel(db, as_of=moment)["stages"],
        "dwell": lambda: metrics.dwell(db, as_of=moment)["stages"],
        "throughput": lambda: {
            k: v for k, v in metrics.throughput(db, by="month", as_of=moment).items()
            if k in ("by", "rows", "exits")
        },
    }  # fmt: skip
    baselines: dict[str, dict[str, Callable[[], Any]]] = {
        "funnel": {v: partial(rawdb.funnel, raw, t_us, v) for v in rawdb.VARIANTS},
        "dwell": {v: partial(rawdb.dwell, raw, t_us, v) for v in rawdb.VARIANTS},
        "throughput": {v: partial(rawdb.throughput, raw, t_us, "month", v) for v in rawdb.VARIANTS},
    }
    try:
        with progress_bar(spinner=True) as bar:
            task = bar.add_task("metrics (tracker, raw)", total=len(METRICS))
            for name in METRICS:
                mine = project[name]()  # warm-up, and the result
                variants = baselines[name]
                out[f"{name}_match"] = all(_close(mine, fn()) for fn in variants.values())
                mine_s: list[float] = []
                theirs_s: dict[str, list[float]] = {v: [] for v in variants}
                for _ in range(repeats):  # in turn, so that a change of load falls on all
                    mine_s.append(median_of(project[name], 1))
                    for variant, fn in variants.items():
                        theirs_s[variant].append(median_of(fn, 1))
                best = min(variants, key=lambda v: statistics.median(theirs_s[v]))
                out[f"{name}_s"] = statistics.median(mine_s)
                out[f"raw_{name}_s"] = statistics.median(theirs_s[best])
                out[f"raw_{name}_variant"] = best  # the best plain SQL: the baseline
                bar.advance(task)
    finally:
        db.dispose()
    return out


# --- advances ------------------------------------------------------------------------------


def _advance_worker(
    side: str,
    target: tuple[Any, ...],
    picks: list[tuple[str, str]],
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One process's advances, timed from `go`: ('tracker', (url,)) through services, or
    ('raw', (kind, target, schema)) on the driver. Puts (count, monotonic end) in `results`."""
    if side == "tracker":
        db = Database(target[0])
        services.show(db, picks[0][0])  # connect, and the lazy imports, before the clock
        ready.put(1)
        go.wait()
        for key, stage in picks:
            services.advance(db, key, actor=ACTOR, seen=stage, note="bench", override=OVERRIDE)
        results.put((len(picks), time.monotonic()))
        db.dispose()
        return
    conn = rawdb.Raw(*target)
    conn.query("SELECT 1")
    gates = gate_texts(now_utc().date())
    ready.put(1)
    go.wait()
    n = rawdb.advance_many(conn, [k for k, _ in picks], ACTOR_NAME, "bench", gates)
    results.put((n, time.monotonic()))
    conn.close()


def gate_texts(day: date) -> dict[str, str | None]:
    """The gate outcome the tracker records entering each stage on `day`, as stored, for a
    company without evidence whose move gives `OVERRIDE` (the default policy): the raw
    advances write and hash the same text."""
    texts: dict[str, str | None] = {}
    for stage in rawdb.LADDER[1:]:
        evidence = Evidence(DEFAULT_POLICY, day, CompanyFacts("x"), OVERRIDE)
        evidence.passes(stage)
        doc = evidence.recorded()
        texts[stage] = audit.payload_json(doc) if doc is not None else None
    return texts


def run_advances(side: str, target: tuple[Any, ...], picks: list[tuple[str, str]], n: int) -> float:
    """Committed advances per second with `n` processes, each its own share of `picks`."""
    ctx = mp.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [picks[i::n] for i in range(n)]
    procs = [
        ctx.Process(target=_advance_worker, args=(side, target, share, ready, go, results))
        for share in shares
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    # What the imports and the runs before left for the kernel to write back is written now,
    # not while this run's commits wait behind it: every run starts equal, whichever is first.
    os.sync()
    start = time.monotonic()
    go.set()
    done = [results.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"an advance worker ({side}) failed: exit code {p.exitcode}")
    total = sum(count for count, _ in done)
    return total / (max(end for _, end in done) - start)


def advance_picks(raw: rawdb.Raw, batches: int, size: int) -> list[list[tuple[str, str]]]:
    """`batches` disjoint, seeded random batches of (key, stage) of companies that can move
    one stage up."""
    ladder = rawdb.LADDER[:-1]
    marks = ", ".join("?" * len(ladder))
    rows = raw.query(
        f"SELECT key, stage FROM company WHERE stage IN ({marks}) ORDER BY key", ladder
    )
    size = min(size, len(rows) // batches)
    chosen = random.Random(SEED).sample(rows, size * batches)
    return [[tuple(r) for r in chosen[i * size : (i + 1) * size]] for i in range(batches)]


def time_advances(
    project_url: str, raw_target: tuple[Any, ...], raw: rawdb.Raw, repeats: int, size: int
) -> dict[str, Any]:
    warm_up, *batches = advance_picks(raw, 2 * repeats + 1, size)
    runs: dict[str, list[float]] = {}
    plan = [
        (label, side, target, n)
        for n in (1, WORKERS)
        for label, side, target in (
            (f"advances_{'1p' if n == 1 else '4p'}_per_s", "tracker", (project_url,)),
            (f"raw_advances_{'1p' if n == 1 else '4p'}_per_s", "raw", raw_target),
        )
    ]
    with progress_bar(spinner=True) as bar:
        task = bar.add_task(f"advances ({len(batches[0]):,} a run)", total=repeats * len(plan))
        # One untimed run of each side first, as the metrics have (`time_metrics`): the first
        # advances after the import find the files' pages and the WAL cold, which would count
        # against whichever run came first (the tracker's, with one process).
        run_advances("tracker", (project_url,), warm_up, 1)
        run_advances("raw", raw_target, warm_up, 1)  # the same companies, in its own database
        for r in range(repeats):
            for label, side, target, n in plan:
                batch = batches[2 * r + (0 if n == 1 else 1)]
                runs.setdefault(label, []).append(run_advances(side, target, batch, n))
                bar.advance(task)
    out: dict[str, Any] = {k: statistics.median(v) for k, v in runs.items()}
    # Each run's figure too, in run order: a median next to a goal at parity says little
    # without the spread it came from (see `advance_runs_table`).
    out["advance_runs"] = {k: [round(x, 1) for x in v] for k, v in runs.items()}
    out["advances"] = len(batches[0])
    advanced = [k for batch in (warm_up, *batches) for k, _ in batch]
    out["raw_hashes_valid"] = rawdb.check_heads(raw, advanced)
    return out


# --- whole processes -----------------------------------------------------------------------


def time_processes(url: str, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with progress_bar(spinner=True) as bar:
        task = bar.add_task("processes (funnel, help, verify)", total=3 * repeats)
        funnel, helps, verify, verify_mb = [], [], [], []
        for _ in range(repeats):
            funnel.append(measured([INCUBATOR, "funnel", "--json", "--db", url])[0])
            bar.advance(task)
            helps.append(measured([INCUBATOR, "--help"])[0])
            bar.advance(task)
            seconds, peak = measured([INCUBATOR, "audit", "verify", "--db", url])
            verify.append(seconds)
            verify_mb.append(peak)
            bar.advance(task)
    out["funnel_process_s"] = statistics.median(funnel)
    out["help_process_s"] = statistics.median(helps)
    out["verify_s"] = statistics.median(verify)
    out["verify_peak_mb"] = max(verify_mb)
    return out


def ui_supported() -> bool:
    if not UI_BENCH.exists():
        return False
    helped = subprocess.run(
        [sys.executable, str(UI_BENCH), "--help"], capture_output=True, text=True
    )
    return "--json" in helped.stdout and "--db" in helped.stdout


def time_ui(url: str) -> dict[str, Any]:
    """The UI's server-side figures from `ui/bench_ui.py --db URL --json` (its own medians)."""
    with progress_bar(spinner=True) as bar:
        bar.add_task("UI (ui/bench_ui.py)", total=None)
        done = subprocess.run(
            [sys.executable, str(UI_BENCH), "--db", url, "--json"], capture_output=True, text=True
        )
    if done.returncode:
        console.print(f"UI: ui/bench_ui.py failed:\n{done.stderr[-2000:]}")
        return {}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    figures = json.loads(lines[-1]) if lines else {}
    return {f"ui_{k}": float(figures[k]) for k in UI_KEYS if k in figures}


# --- one database --------------------------------------------------------------------------


def bench_database(
    kind: str, csv_path: Path, events: int, workdir: Path, args: argparse.Namespace
) -> dict[str, Any]:
    repeats = args.repeats
    load_before = os.getloadavg()
    console.print(f"[bold]{kind}[/bold]: start, {load_text()}")
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    scratch = Scratch(kind, workdir)
    try:
        if args.profile_import:
            profile_import(scratch, csv_path)
        project_url, raw_url, imported = time_imports(scratch, csv_path, events, repeats)
        figures.update(imported)
        probe = scratch.raw(project_url)
        try:
            project_sums = checksums(probe)
        finally:
            probe.close()
        raw = scratch.raw(raw_url)
        try:
            raw_sums = checksums(raw)
            figures["rows_match"] = project_sums == raw_sums
            if not figures["rows_match"]:
                console.print(f"[red]rows differ[/red]: tracker {project_sums} raw {raw_sums}")
            figures.update(time_metrics(project_url, raw, repeats))
            figures.update(
                time_advances(project_url, scratch.raw_args(raw_url), raw, repeats, args.advances)
            )
        finally:
            raw.close()
        figures.update(time_processes(project_url, repeats))
        if args.no_ui:
            figures["ui"] = "skipped (--no-ui)"
        elif ui_supported():
            figures.update(time_ui(project_url))
        else:
            figures["ui"] = "skipped (ui/bench_ui.py has no --db/--json)"
            console.print("UI: skipped (ui/bench_ui.py has no --db/--json)")
    finally:
        scratch.close()
    elapsed = time.perf_counter() - started
    console.print(f"[bold]{kind}[/bold]: done in {elapsed:.0f} s, {load_text()}")
    return summarize(kind, figures, load_before, os.getloadavg(), elapsed)


def summarize(
    kind: str,
    figures: dict[str, Any],
    load_before: tuple[float, ...],
    load_after: tuple[float, ...],
    elapsed: float,
) -> dict[str, Any]:
    """Figures, ratios and goal checks of one database."""
    ratios: dict[str, float] = {}
    checks: dict[str, bool] = {}
    for name, specs in goals(kind).items():
        value = figures.get(name)
        if value is None:
            continue
        results = []
        for other, how, limit in specs:
            if how == "true":
                results.append(bool(value))
                continue
            if other is None:
                results.append(value < limit if how == "lt" else value <= limit)
                continue
            if figures.get(other) in (None, 0):
                continue
            ratio = value / figures[other]
            ratios[f"{name}/{other}"] = ratio
            results.append(ratio <= limit if how == "ratio_le" else ratio >= limit)
        if results:
            checks[name] = all(results)
    return {
        "figures": {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
        "ratios": {k: round(v, 4) for k, v in ratios.items()},
        "checks": checks,
        "all_goals_met": all(checks.values()),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "elapsed_s": round(elapsed, 1),
    }


# --- report --------------------------------------------------------------------------------

#: The table's rows: (label, figure, raw figure, unit).
ROWS: tuple[tuple[str, str, str | None, str], ...] = (
    ("import, whole process", "import_process_s", "raw_load_s", "s"),
    ("import peak RSS", "import_peak_mb", None, "MB"),
    ("import rows and hashes = raw", "rows_match", None, "bool"),
    ("funnel", "funnel_s", "raw_funnel_s", "s"),
    ("funnel result = raw", "funnel_match", None, "bool"),
    ("dwell", "dwell_s", "raw_dwell_s", "s"),
    ("dwell result = raw", "dwell_match", None, "bool"),
    ("throughput", "throughput_s", "raw_throughput_s", "s"),
    ("throughput result = raw", "throughput_match", None, "bool"),
    ("advances, 1 process", "advances_1p_per_s", "raw_advances_1p_per_s", "/s"),
    ("advances, 4 processes", "advances_4p_per_s", "raw_advances_4p_per_s", "/s"),
    ("raw advances' hashes valid", "raw_hashes_valid", None, "bool"),
    ("incubator funnel --json", "funnel_process_s", None, "s"),
    ("incubator --help (start-up)", "help_process_s", None, "s"),
    ("incubator audit verify", "verify_s", None, "s"),
    ("audit verify peak RSS", "verify_peak_mb", None, "MB"),
    ("UI funnel first render", "ui_funnel_first_render_s", None, "s"),
    ("UI funnel filter change", "ui_funnel_filter_change_s", None, "s"),
    ("UI audit log", "ui_audit_log_s", None, "s"),
    ("UI board", "ui_board_s", None, "s"),
)


def fmt(value: Any, unit: str) -> str:
    if value is None:
        return ""
    if unit == "bool":
        return "yes" if value else "NO"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:.3f} s"


def goal_text(specs: list[Goal], unit: str) -> str:
    parts = []
    for other, how, limit in specs:
        if how == "true":
            parts.append("yes")
        elif how == "ratio_le":
            parts.append(f"≤ {limit:g}× raw")
        elif how == "ratio_ge":
            parts.append("≥ 1 process" if other == "advances_1p_per_s" else f"≥ {limit:g}× raw")
        else:
            amount = (
                f"{limit / 1024:g} GB" if unit == "MB" and limit >= 1024 else f"{limit:g} {unit}"
            )
            parts.append(f"{'<' if how == 'lt' else '≤'} {amount}")
    return ", ".join(parts)


def table(kind: str, companies: int, s: dict[str, Any], before: dict[str, Any] | None) -> Table:
    title = f"{kind}, {companies:,} companies — medians; goals are the issue's at 1,000,000"
    t = Table("figure", "tracker", "raw", "ratio", "goal (1M)", "met", title=title)
    if before is not None:
        t.add_column("before")
        t.add_column("now/before")
    figures, ratios, checks = s["figures"], s["ratios"], s["checks"]
    specs = goals(kind)
    for label, name, other, unit in ROWS:
        if name not in figures:
            continue
        value = figures[name]
        ratio = ratios.get(f"{name}/{other}") if other else None
        met = checks.get(name)
        row = [
            label,
            fmt(value, unit),
            fmt(figures.get(other), unit) if other else "",
            f"{ratio:.2f}×" if ratio is not None else "",
            goal_text(specs.get(name, []), unit),
            "" if met is None else ("✓" if met else "✗"),
        ]
        if before is not None:
            old = before.get(name)
            row.append(fmt(old, unit))
            change = (
                value / old
                if isinstance(old, int | float) and not isinstance(old, bool) and old
                and unit not in ("bool",)
                else None
            )  # fmt: skip
            row.append(f"{change:.2f}×" if change is not None else "")
        t.add_row(*row)
    if isinstance(figures.get("ui"), str):
        t.add_row("UI", figures["ui"], "", "", "", "")
    return t


def advance_runs_table(kind: str, s: dict[str, Any]) -> Table | None:
    """Each timed run of the advances, tracker and raw, with 4 processes against 1 in the same
    round (run r of one process and run r of four follow each other): the spread behind the
    medians of the main table."""
    runs = s["figures"].get("advance_runs")
    if not runs:
        return None
    t = Table(
        "run",
        "tracker, 1 process",
        f"tracker, {WORKERS} processes",
        f"tracker, {WORKERS} ÷ 1",
        "raw, 1 process",
        f"raw, {WORKERS} processes",
        f"raw, {WORKERS} ÷ 1",
        title=f"{kind}: advances, each run (committed per second)",
    )
    mine_1, mine_n = runs["advances_1p_per_s"], runs["advances_4p_per_s"]
    raw_1, raw_n = runs["raw_advances_1p_per_s"], runs["raw_advances_4p_per_s"]
    for r, (a, b, c, d) in enumerate(zip(mine_1, mine_n, raw_1, raw_n, strict=True), 1):
        t.add_row(
            str(r), f"{a:,.0f}", f"{b:,.0f}", f"{b / a:.2f}×", f"{c:,.0f}", f"{d:,.0f}",
            f"{d / c:.2f}×",
        )  # fmt: skip
    return t


#: Figures whose exponent is about 0 when all is well (per operation, or start-up).
PER_OPERATION = {"help_process_s", "advances_1p_per_s", "advances_4p_per_s"}


def exponents(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """log(f2/f1) / log(n2/n1) of each figure (rates: of the time per advance) between the
    smallest and the largest size, per database."""
    if len(runs) < 2:
        return {}
    small, large = runs[0], runs[-1]
    spread = math.log(large["companies"] / small["companies"])
    out: dict[str, dict[str, float]] = {}
    for kind, result in large["results"].items():
        first = small["results"].get(kind)
        if not first:
            continue
        out[kind] = {}
        for name, value in result["figures"].items():
            old = first["figures"].get(name)
            if not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in (old, value)
            ):
                continue
            if not old or not value or name.endswith("_mb") or name == "advances":
                continue
            ratio = value / old
            if name.endswith("_per_s"):
                ratio = 1 / ratio
            out[kind][name] = round(math.log(ratio) / spread, 3)
    return out


def exponent_table(found: dict[str, dict[str, float]], n1: int, n2: int) -> Table:
    kinds = list(found)
    t = Table("figure", *kinds, "expected", title=f"exponents from {n1:,} to {n2:,} companies")
    names = [name for name in found[kinds[0]]]
    for name in names:
        base = name.removeprefix("raw_")
        expected = "≈ 0" if base in PER_OPERATION else "≈ 1 (≤ 1)"
        t.add_row(name, *(f"{found[k].get(name, float('nan')):.2f}" for k in kinds), expected)
    return t


#: An older bench's figures under their names here (its `import_s` was in-process: left out).
OLD_NAMES = {"advances_per_s": "advances_1p_per_s", "import_s": "import_in_process_s"}


def read_saved(path: Path) -> dict[str, Any]:
    """A saved document (`--save`), or the last JSON line of a saved output; an older bench's
    document ({"companies", "results": {kind: {figure: value}}}) is read as one run."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        lines = [line for line in text.splitlines() if line.startswith("{")]
        doc = json.loads(lines[-1])
    if "runs" in doc:
        return doc
    results = {
        kind: {
            "figures": {OLD_NAMES.get(k, k): v for k, v in flat.items() if not isinstance(v, dict)}
        }
        for kind, flat in doc.get("results", {}).items()
    }
    return {"runs": [{"companies": doc.get("companies"), "results": results}]}


def before_of(saved: dict[str, Any] | None, companies: int, kind: str) -> dict[str, Any] | None:
    if saved is None:
        return None
    for run in saved["runs"]:
        if run.get("companies") == companies and kind in run["results"]:
            return dict(run["results"][kind]["figures"])
    console.print(f"--compare: the saved file has no {kind} run of {companies:,} companies")
    return None


def compile_project() -> None:
    """Byte-compile the project's modules, as an installed package has them (`make install`
    does it too): with PYTHONDONTWRITEBYTECODE set, every timed process would otherwise
    compile them again at its start."""
    for package in ("incubator", "ui", "fixtures"):
        compileall.compile_dir(ROOT / package, quiet=1)


def main(argv: list[str] | None = None) -> int:
    compile_project()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--companies", type=int, nargs="+", default=[100_000], metavar="N")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--all", action="store_true", help="run SQLite and PostgreSQL")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs per figure (median)")
    parser.add_argument(
        "--advances", type=int, default=ADVANCES, help="advances per timed run (default 2000)"
    )
    parser.add_argument("--no-ui", action="store_true", help="skip ui/bench_ui.py")
    parser.add_argument("--save", type=Path, metavar="FILE", help="write the JSON document")
    parser.add_argument("--compare", type=Path, metavar="FILE", help="a saved run: before column")
    parser.add_argument("--profile-import", action="store_true", help="cProfile one import")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.all else [args.db]
    saved = read_saved(args.compare) if args.compare else None
    sizes = sorted(set(args.companies))
    runs: list[dict[str, Any]] = []
    out = Console(width=None if sys.stdout.isatty() else 130)
    speed = reference_loop_ms()
    out.print(f"start: {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC, {load_text()}, "
              f"{os.cpu_count()} CPUs, reference loop {speed:.1f} ms")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="incubator-bench-") as tmp:
        workdir = Path(tmp)
        for companies in sizes:
            csv_path = workdir / f"events-{companies}.csv"
            events = generate_csv(csv_path, companies)
            run: dict[str, Any] = {"companies": companies, "events": events, "results": {}}
            for kind in kinds:
                result = bench_database(kind, csv_path, events, workdir, args)
                run["results"][kind] = result
                out.print(table(kind, companies, result, before_of(saved, companies, kind)))
                spread = advance_runs_table(kind, result)
                if spread is not None:
                    out.print(spread)
                out.print(
                    f"{kind}, {companies:,} companies ({events:,} events): "
                    f"{result['elapsed_s']:.0f} s wall; load before "
                    f"{result['load_before']}, after {result['load_after']}"
                )
            runs.append(run)
            csv_path.unlink()
        shutil.rmtree(workdir, ignore_errors=True)
    found = exponents(runs)
    if found:
        out.print(exponent_table(found, sizes[0], sizes[-1]))
    speeds = (speed, reference_loop_ms())
    out.print(f"reference loop: {speeds[0]:.1f} ms at the start, {speeds[1]:.1f} ms at the end")
    doc = {
        "bench": "incubator",
        "repeats": args.repeats,
        "reference_loop_ms": [round(v, 2) for v in speeds],
        "goals": {k: goals(k) for k in kinds},
        "runs": runs,
        "exponents": found,
        "all_goals_met": all(r["all_goals_met"] for run in runs for r in run["results"].values()),
    }
    if args.save:
        args.save.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
