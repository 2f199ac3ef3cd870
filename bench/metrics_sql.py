"""Funnel, time in stage and monthly throughput in-process against plain SQL on the driver.

    .venv/bin/python bench/metrics_sql.py sqlite:///path/to/imported.db
    .venv/bin/python bench/metrics_sql.py "postgresql+psycopg://…?options=-csearch_path%3Dx"

On an existing, imported database (schema at head), times `metrics.funnel`, `metrics.dwell` and
`metrics.throughput(by="month")` (as of one fixed instant), then the same results computed
with plain SQL on the DBAPI connection (sqlite3 / psycopg) and numpy, in two ways each:
  - "table": the plain query over the table, as one would write it (the planner's choice;
    time in stage fetches one row of three integers per spell into numpy);
  - "index": the queries the store sends (covering index hints on SQLite; time in stage as
    one comma-separated text per stage parsed by numpy), on the driver, without SQLAlchemy.
Both compute every figure the metric returns (the statistics with the same numpy code).
Prints medians of three, the ratio to the faster plain variant, and the load average.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from incubator import metrics  # noqa: E402
from incubator.stages import LADDER  # noqa: E402
from incubator.store import Database  # noqa: E402
from incubator.values import to_micros  # noqa: E402

AS_OF = datetime(2026, 11, 27, tzinfo=UTC)
T = to_micros(AS_OF)
STAGES = [s.value for s in LADDER]


def dwell_figures(spells: dict[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    """Every figure of `metrics.dwell` from (completed, open) microseconds per stage."""
    none = np.empty(0, dtype=np.int64)
    out = []
    for stage in STAGES:
        done, still = (np.sort(a) for a in spells.get(stage, (none, none)))
        s = metrics._StageSpells(done, still)
        out.append(
            {
                "completed": done.size,
                "mean": metrics._mean_days(done),
                "pct": metrics._percentiles(done, (50, 90)),
                "open": metrics._percentiles(still, (50,)),
                "km": metrics._km_days(s),
            }
        )
    return out


def plain(cur: Any, pg: bool) -> dict[str, Callable[[], Any]]:
    p = "%s" if pg else "?"
    hint_m = "" if pg else " INDEXED BY ix_spell_metrics"
    hint_x = "" if pg else " INDEXED BY ix_spell_exits"
    agg = "string_agg(CAST({v} AS TEXT), ',')" if pg else "group_concat({v})"

    def q(sql: str, n: int) -> list[Any]:
        cur.execute(sql.replace("?", p), (T,) * n)
        return cur.fetchall()

    funnel = (
        "SELECT stage, count(*), sum(CASE WHEN end_us <= ? AND end_kind = 'advance' THEN 1"
        " ELSE 0 END), sum(CASE WHEN end_us <= ? AND end_kind = 'exit' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN end_us <= ? THEN 1 ELSE 0 END) FROM spell{h} WHERE start_us <= ?"
        " GROUP BY stage"
    )
    entries = (
        "SELECT start_ym, stage, count(*) FROM spell{h} WHERE start_us <= ?"
        " GROUP BY start_ym, stage"
    )
    entries_i = (
        "SELECT stage, start_ym, count(*) FROM spell{h} WHERE start_us <= ?"
        " GROUP BY stage, start_ym"
    )
    exits = (
        "SELECT end_ym, exit_reason, count(*) FROM spell{h} WHERE start_us <= ? AND end_us <= ?"
        " AND end_kind = 'exit' GROUP BY end_ym, exit_reason"
    )
    exits_i = exits.replace("end_ym, exit_reason", "exit_reason, end_ym")
    value = "CASE WHEN end_us <= ? THEN end_us - start_us ELSE start_us - ? - 1 END"
    rows = (
        "SELECT CASE stage " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STAGES))
        + " ELSE -1 END, CASE WHEN end_us <= ? THEN end_us - start_us ELSE ? - start_us END,"
        " CASE WHEN end_us <= ? THEN 1 ELSE 0 END FROM spell WHERE start_us <= ?"
    )  # fmt: skip
    joined = (
        f"SELECT stage, count(*), {agg.format(v=value)} FROM spell{hint_m}"
        " WHERE start_us <= ? GROUP BY stage"
    )

    def dwell_rows() -> Any:
        cur.execute(rows.replace("?", p), (T,) * 4)
        table = np.fromiter(chain.from_iterable(cur), dtype=np.int64).reshape(-1, 3)
        spells = {}
        for i, stage in enumerate(STAGES):
            mine = table[table[:, 0] == i]
            done = mine[:, 2] == 1
            spells[stage] = (mine[done, 1], mine[~done, 1])
        return dwell_figures(spells)

    def dwell_joined() -> Any:
        spells = {}
        for stage, _n, text in q(joined, 3):
            values = np.fromstring(text, dtype=np.int64, sep=",")
            done = values >= 0
            spells[stage] = (values[done], -1 - values[~done])
        return dwell_figures(spells)

    return {
        "funnel table": lambda: q(funnel.format(h=""), 4),
        "funnel index": lambda: q(funnel.format(h=hint_m), 4),
        "dwell table": dwell_rows,
        "dwell index": dwell_joined,
        "throughput table": lambda: (q(entries.format(h=""), 1), q(exits.format(h=""), 2)),
        "throughput index": lambda: (q(entries_i.format(h=hint_m), 1), q(exits_i.format(h=hint_x), 2)),
    }  # fmt: skip


def main() -> None:
    db = Database(sys.argv[1])
    work = {
        "funnel": lambda: metrics.funnel(db, as_of=AS_OF),
        "dwell": lambda: metrics.dwell(db, as_of=AS_OF),
        "throughput": lambda: metrics.throughput(db, by="month", as_of=AS_OF),
    }
    raw = db.engine.raw_connection()
    cur = raw.cursor()
    baselines = plain(cur, db.engine.dialect.name == "postgresql")
    both = {**work, **baselines}
    for fn in both.values():
        fn()  # warm the caches: every variant reads the same pages
    times: dict[str, list[float]] = {name: [] for name in both}
    for _ in range(3):  # round robin: the load drifts, each variant gets the same share of it
        for name, fn in both.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    ours = {name: statistics.median(times[name]) for name in work}
    theirs = {name: statistics.median(times[name]) for name in baselines}
    raw.close()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{sys.argv[1]}  load average {load}; medians of 3:")
    for name, mine in ours.items():
        table, index = theirs[f"{name} table"], theirs[f"{name} index"]
        print(
            f"  {name:<11} in-process {mine:6.3f} s   plain SQL: table {table:6.3f} s,"
            f" index {index:6.3f} s   ratio {mine / min(table, index):.2f}x"
        )


if __name__ == "__main__":
    main()
