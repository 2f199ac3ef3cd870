"""The raw baselines of `bench/` are tuned as the tracker is: a setting changed in
`incubator.store` and not in `bench/raw.py` would make every ratio dishonest. And
`bench/run.py` prints the runs behind its advance medians, not the medians alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rich.console import Console

from incubator import store
from tests.conftest import BENCH, bench_module


def test_the_raw_sqlite_connection_has_the_trackers_settings() -> None:
    raw = bench_module("raw")
    text = (BENCH / "raw.py").read_text(encoding="utf-8")
    assert f'"wal_autocheckpoint = {store.WAL_AUTOCHECKPOINT_PAGES}"' in text
    assert raw.BULK_CACHE_KIB == store.BULK_CACHE_KIB
    advances = (BENCH / "advances.py").read_text(encoding="utf-8")
    assert f"PRAGMA wal_autocheckpoint = {store.WAL_AUTOCHECKPOINT_PAGES}" in advances


#: What makes a SQLite connection faster or slower at the same work.
TUNING = ("journal_mode", "synchronous", "foreign_keys", "cache_size", "wal_autocheckpoint")


def test_every_raw_sqlite_connection_is_tuned_as_the_trackers(tmp_path: Path) -> None:
    path = tmp_path / "tuned.db"
    db = store.Database(f"sqlite:///{path}", check_schema=False)
    with db.engine.connect() as conn:
        tracker = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in TUNING}
    db.dispose()
    raw = bench_module("raw").Raw("sqlite", str(path))
    step = bench_module("advances").raw_sqlite_worker(f"sqlite:///{path}")
    (advancing,) = (
        cell.cell_contents
        for cell in step.__closure__ or ()
        if isinstance(cell.cell_contents, sqlite3.Connection)
    )
    for conn in (raw.conn, advancing):
        assert {p: conn.execute(f"PRAGMA {p}").fetchone()[0] for p in TUNING} == tracker
        conn.close()


def test_the_advance_runs_are_printed_run_by_run_with_four_processes_against_one() -> None:
    run = bench_module("run")
    figures = {
        "advance_runs": {
            "advances_1p_per_s": [1000.0, 2000.0, 1500.0],
            "advances_4p_per_s": [900.0, 2200.0, 1500.0],
            "raw_advances_1p_per_s": [3000.0, 4000.0, 2500.0],
            "raw_advances_4p_per_s": [1500.0, 4400.0, 3000.0],
        }
    }
    summary = run.summarize("sqlite", figures, (0.5,), (0.7,), 1.0)
    assert summary["figures"]["advance_runs"] == figures["advance_runs"]  # kept for the JSON
    table = run.advance_runs_table("sqlite", summary)
    console = Console(record=True, width=200)
    console.print(table)
    lines = [line for line in console.export_text().splitlines() if "×" in line]
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines]
    assert cells == [
        ["1", "1,000", "900", "0.90×", "3,000", "1,500", "0.50×"],
        ["2", "2,000", "2,200", "1.10×", "4,000", "4,400", "1.10×"],
        ["3", "1,500", "1,500", "1.00×", "2,500", "3,000", "1.20×"],
    ]
    assert run.advance_runs_table("sqlite", run.summarize("sqlite", {}, (0,), (0,), 1.0)) is None
