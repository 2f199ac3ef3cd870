"""The metrics' read of `spell` on SQLite: `FROM spell INDEXED BY ix_spell_metrics` (and
`ix_spell_exits`; covering indexes, migration 0008) against the plan SQLite picks by itself.

    .venv/bin/python bench/spell_scan.py --companies 300000

Builds one SQLite database of N demo companies (`fixtures/generate_demo.py`, imported through
`services.import_events`), then times the funnel, dwell quantiles and throughput in-process
on the same database and the same connection pool, once with the hint and once without it
(`dbapi._Sql.spell` writing plain `FROM spell`), alternating, three runs each; prints the
medians, the query plans (EXPLAIN QUERY PLAN) and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fixtures.generate_demo import generate_rows, write_csv  # noqa: E402
from incubator import dbapi, metrics, services  # noqa: E402
from incubator.access import cli_owner  # noqa: E402
from incubator.cli import seed_demo_registry  # noqa: E402
from incubator.store import Database  # noqa: E402

WORK = {
    "funnel": lambda db: metrics.funnel(db),
    "dwell": lambda db: metrics.dwell_quantiles(db),
    "throughput": lambda db: metrics.throughput(db, by="quarter"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, db_path = Path(tmp) / "events.csv", Path(tmp) / "bench.db"
        rows = write_csv(csv_path, generate_rows(n_companies=args.companies, seed=7))
        db = Database(f"sqlite:///{db_path}", check_schema=False)
        db.upgrade()
        seed_demo_registry(db)  # the generated companies' sites (an unknown one is refused)
        started = time.perf_counter()
        services.import_events(db, csv_path.read_text(encoding="utf-8"), actor=cli_owner("bench"))
        print(f"{args.companies:,} companies, {rows:,} events imported in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        hinted = dbapi._Sql.spell
        tables = {"INDEXED BY": hinted, "planner's choice": lambda _sql, _index: "spell"}
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(3):
            for label, table in tables.items():
                dbapi._Sql.spell = table  # type: ignore[method-assign]
                db.engine.dispose()  # start from fresh connections
                for name, work in WORK.items():
                    t0 = time.perf_counter()
                    work(db)
                    times.setdefault((name, label), []).append(time.perf_counter() - t0)
        dbapi._Sql.spell = hinted  # type: ignore[method-assign]
        print(f"load average {os.getloadavg()[0]:.2f} (1 min), medians of 3 runs:")
        for name in WORK:
            with_hint = statistics.median(times[(name, "INDEXED BY")])
            plain = statistics.median(times[(name, "planner's choice")])
            print(f"  {name:<11} INDEXED BY {with_hint:6.3f} s   planner's choice {plain:6.3f} s"
                  f"   ({plain / with_hint:.2f}x)")  # fmt: skip
        with db.engine.connect() as conn:
            for label, clause in (("NOT INDEXED", "spell NOT INDEXED"), ("plain", "spell")):
                sql = f"SELECT stage, count(*) FROM {clause} WHERE start_us <= ? GROUP BY stage"
                plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (2**62,)).fetchall()
                print(f"  plan ({label}): {'; '.join(step[3] for step in plan)}")
        db.dispose()


if __name__ == "__main__":
    main()
