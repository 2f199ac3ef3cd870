"""The raw baselines of `bench/` are tuned as the tracker is: a setting changed in
`incubator.store` and not in `bench/raw.py` would make every ratio dishonest."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from incubator import store

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_raw_sqlite_connection_has_the_trackers_settings() -> None:
    raw = bench_module("raw")
    text = (BENCH / "raw.py").read_text(encoding="utf-8")
    assert f'"wal_autocheckpoint = {store.WAL_AUTOCHECKPOINT_PAGES}"' in text
    assert raw.BULK_CACHE_KIB == store.BULK_CACHE_KIB
    advances = (BENCH / "advances.py").read_text(encoding="utf-8")
    assert f"PRAGMA wal_autocheckpoint = {store.WAL_AUTOCHECKPOINT_PAGES}" in advances
