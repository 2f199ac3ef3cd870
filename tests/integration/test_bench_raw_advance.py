"""The raw advance of `bench/run.py` (`bench/raw.py`'s `advance_many`) does the tracker's
work: it writes the gate outcome the tracker records, hashed into the same chain, so that
`audit verify` accepts its events and its rows are as heavy as the tracker's."""

from __future__ import annotations

from types import ModuleType

import pytest

from incubator import services
from incubator.auditing import verify_audit
from incubator.store import Database
from tests.conftest import OWNER, T0, bench_module


def raw_of(db: Database, raw: ModuleType) -> object:
    url = db.engine.url
    if db.dialect == "sqlite":
        assert url.database
        return raw.Raw("sqlite", url.database)
    schema = str(url.query["options"]).rsplit("=", 1)[1]
    libpq = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    return raw.Raw("postgresql", libpq, schema)


@pytest.mark.parametrize("stage", ["seed", "nursery", "incubator", "accelerator"])
def test_a_raw_advance_writes_the_gate_the_tracker_records_and_verifies(
    db: Database, stage: str
) -> None:
    run = bench_module("run")
    for key in ("JM-0001", "JM-0002"):
        services.admit(db, key, name=key, stage=stage, actor=OWNER, at=T0, override=run.OVERRIDE)
    tracked = services.advance(db, "JM-0001", actor=OWNER, seen=stage, override=run.OVERRIDE)
    gates = run.gate_texts(tracked.effective_at.date())
    raw = raw_of(db, run.rawdb)
    try:
        assert run.rawdb.advance_many(raw, ["JM-0002"], OWNER.name, "bench", gates) == 1
        assert run.rawdb.check_heads(raw, ["JM-0002"])
        stored = raw.query(  # type: ignore[attr-defined]
            "SELECT e.gate FROM stage_event e JOIN company c ON c.id = e.company_id"
            " WHERE e.seq = c.event_count ORDER BY c.key"
        )
    finally:
        raw.close()  # type: ignore[attr-defined]
    assert stored[0] == stored[1]  # the tracker's event and the raw one record the same gate
    assert (stored[1][0] is None) == (tracked.gate is None)
    result = verify_audit(db, parts=1)
    assert result.ok, result
    assert services.show(db, "JM-0002").stage == tracked.to_stage
