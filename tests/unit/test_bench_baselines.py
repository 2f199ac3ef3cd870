"""The raw baselines of `bench/` are tuned as the tracker is: a setting changed in
`incubator.store` and not in `bench/raw.py` would make every ratio dishonest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
