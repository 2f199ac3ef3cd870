"""The raw baselines of `bench/` are tuned as the tracker is: a setting changed in
`incubator.store` and not in `bench/raw.py` would make every ratio dishonest."""

from __future__ import annotations

from incubator import store
from tests.conftest import BENCH, bench_module


def test_the_raw_sqlite_connection_has_the_trackers_settings() -> None:
    raw = bench_module("raw")
    text = (BENCH / "raw.py").read_text(encoding="utf-8")
    assert f'"wal_autocheckpoint = {store.WAL_AUTOCHECKPOINT_PAGES}"' in text
    assert raw.BULK_CACHE_KIB == store.BULK_CACHE_KIB
    advances = (BENCH / "advances.py").read_text(encoding="utf-8")
    assert f"PRAGMA wal_autocheckpoint = {store.WAL_AUTOCHECKPOINT_PAGES}" in advances
