"""Append-only events, tamper-evident chains, and concurrent writers that lose nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from incubator import audit, services
from incubator.store import Database
from tests.conftest import OWNER, T0

#: About the ladder, the audit or the metrics, not evidence: the stage gates are off.
pytestmark = pytest.mark.ungated

ROOT = Path(__file__).resolve().parents[2]
MakeCompany = Callable[..., services.CompanyView]


def three_events(db: Database, make_company: MakeCompany, key: str = "JM-0001") -> None:
    make_company("seed", key=key)
    services.advance(db, key, actor=OWNER, at=T0 + timedelta(days=40), note="pitch")
    services.advance(db, key, actor=OWNER, at=T0 + timedelta(days=90), note="registered")


def drop_guards(db: Database) -> None:
    """What an attacker with database access could do: remove the append-only triggers."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("DROP TRIGGER stage_event_no_update_delete ON stage_event")
        else:
            conn.exec_driver_sql("DROP TRIGGER stage_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER stage_event_no_delete")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stage_event SET note = 'edited' WHERE seq = 2",
        "UPDATE stage_event SET effective_at = effective_at WHERE seq = 1",
        "DELETE FROM stage_event WHERE seq = 3",
        "DELETE FROM stage_event",
    ],
)
def test_the_database_refuses_to_change_or_delete_events(
    db: Database, make_company: MakeCompany, statement: str
) -> None:
    three_events(db, make_company)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert [e.note for e in services.history(db, "JM-0001")] == ["", "pitch", "registered"]
    assert services.verify_audit(db).ok


def test_postgresql_refuses_truncate_too(make_database: Callable[[str], Database]) -> None:
    db = make_database("postgresql")
    services.admit(db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE stage_event CASCADE")


def test_verify_counts_every_event_of_every_company(
    db: Database, make_company: MakeCompany
) -> None:
    three_events(db, make_company, "JM-0001")
    three_events(db, make_company, "JM-0002")
    result = services.verify_audit(db)
    assert (result.ok, result.events, result.companies) == (True, 6, 2)
    assert str(result) == (
        "OK: 6 events in 2 companies verified "
        "(with 2 company records, the company rows, the spells and the evidence tables)"
    )


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("UPDATE stage_event SET note = 'nothing happened' WHERE seq = 2", "JM-0001 event #2"),
        (
            "UPDATE stage_event SET effective_at = effective_at - INTERVAL '1 day' WHERE seq = 3",
            "JM-0001 event #3",
        ),
        ("UPDATE stage_event SET actor = 'someone else' WHERE seq = 1", "JM-0001 event #1"),
    ],
)
def test_an_edited_event_is_found_after_the_triggers_are_dropped(
    db: Database, make_company: MakeCompany, statement: str, found: str
) -> None:
    three_events(db, make_company)
    drop_guards(db)
    if db.dialect == "sqlite":
        statement = statement.replace(
            "effective_at - INTERVAL '1 day'", "datetime(effective_at, '-1 day')"
        )
    with db.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    result = services.verify_audit(db)
    assert not result.ok
    assert str(result).startswith(f"FAILED: {found}")


def test_a_deleted_last_event_is_found_through_the_chain_head(
    db: Database, make_company: MakeCompany
) -> None:
    three_events(db, make_company)
    drop_guards(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stage_event WHERE seq = 3")
    result = services.verify_audit(db)
    assert not result.ok and result.company_key == "JM-0001"
    assert "chain head does not match" in result.problem


def test_a_deleted_middle_event_breaks_the_chain(db: Database, make_company: MakeCompany) -> None:
    three_events(db, make_company)
    drop_guards(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stage_event WHERE seq = 2")
    result = services.verify_audit(db)
    assert not result.ok and "breaks the chain" in result.problem


def test_with_an_audit_key_a_rehashed_forgery_is_still_caught(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    make_company("seed", key="JM-0001")
    assert services.verify_audit(db).ok
    drop_guards(db)
    # The forger edits the note and recomputes a plain SHA-256 chain, without the key.
    [event] = services.history(db, "JM-0001")
    fields = {**event.__dict__, "note": "forged"}
    forged = audit.chain_hash(audit.GENESIS, fields)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE stage_event SET note = 'forged', hash = '{forged}'")
        conn.exec_driver_sql(f"UPDATE company SET head_hash = '{forged}'")
    assert not services.verify_audit(db).ok
    monkeypatch.delenv("INCUBATOR_AUDIT_KEY")
    # Without the key the forgery would pass a plain check; the database knows it is keyed.
    result = services.verify_audit(db)
    assert not result.ok and not result.checked
    assert str(result) == (
        "cannot verify: this database's audit chain is keyed (INCUBATOR_AUDIT_KEY); set the "
        "same key to verify"
    )


# --- concurrent writers --------------------------------------------------------------------


def race(db: Database, mode: str, keys: list[str], processes: int) -> list[str]:
    start_at = time.time() + 2.0
    url = db.engine.url.render_as_string(hide_password=False)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.race_worker",
                url,
                str(start_at),
                mode,
                *keys,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(processes)
    ]
    lines: list[str] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        lines += out.splitlines()
        assert proc.returncode == 0, out
    assert not [line for line in lines if "locked" in line or line.startswith("error")]
    return lines


def test_six_processes_racing_on_the_same_companies_lose_and_duplicate_nothing(
    db: Database, make_company: MakeCompany
) -> None:
    keys = [make_company("seed").key for _ in range(8)]
    lines = race(db, "ladder", keys, processes=6)
    outcomes = Counter(line.split()[0] for line in lines)
    assert outcomes["ok"] == 8 * 4  # every company climbed exactly four rungs
    assert outcomes["ok"] + outcomes["refused"] == 6 * 8 * 5
    for key in keys:
        history = services.history(db, key)
        assert [e.seq for e in history] == [1, 2, 3, 4, 5]
        assert [e.to_stage for e in history][-1] == "industrial_park"
    assert services.verify_audit(db).events == 8 * 5


def test_of_six_managers_advancing_from_the_same_screen_exactly_one_succeeds(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0042")
    lines = race(db, "from-seed", ["JM-0042"], processes=6)
    assert sorted(line.split()[0] for line in lines) == ["conflict"] * 5 + ["ok"]
    assert [e.to_stage for e in services.history(db, "JM-0042")] == ["seed", "nursery"]


def test_a_company_row_edited_outside_the_tracker_is_found(
    db: Database, make_company: MakeCompany
) -> None:
    three_events(db, make_company)
    with db.engine.begin() as conn:  # the company table has no triggers: only the audit sees it
        conn.exec_driver_sql("UPDATE company SET stage = 'industrial_park'")
    result = services.verify_audit(db)
    assert not result.ok and result.company_key == "JM-0001"
    assert "recorded in industrial_park, but its last event moved it to incubator" in result.problem


def test_an_event_that_is_not_a_ladder_move_is_found_even_when_rehashed(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001")
    drop_guards(db)
    [event] = services.history(db, "JM-0001")
    # The forger turns the admit into one at the top of the ladder and recomputes the chain.
    fields = {**event.__dict__, "kind": "advance", "from_stage": "accelerator"}
    forged = audit.chain_hash(audit.GENESIS, {**fields, "to_stage": "industrial_park"})
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE stage_event SET kind = 'advance', from_stage = 'accelerator', "
            f"to_stage = 'industrial_park', hash = '{forged}'"
        )
        conn.exec_driver_sql(
            f"UPDATE company SET head_hash = '{forged}', stage = 'industrial_park'"
        )
    result = services.verify_audit(db)
    assert not result.ok and "is not a move the ladder allows from new" in result.problem


def test_events_of_a_deleted_company_row_are_not_silently_skipped(
    db: Database, make_company: MakeCompany
) -> None:
    three_events(db, make_company, "JM-0001")
    three_events(db, make_company, "JM-0002")
    drop_guards(db)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "ALTER TABLE stage_event DROP CONSTRAINT stage_event_company_id_fkey"
            )
            conn.exec_driver_sql("ALTER TABLE spell DROP CONSTRAINT spell_company_id_fkey")
            conn.exec_driver_sql(
                "ALTER TABLE company_fact DROP CONSTRAINT company_fact_company_id_fkey"
            )
            conn.exec_driver_sql("DELETE FROM spell WHERE company_id = 2")
            conn.exec_driver_sql("DELETE FROM company WHERE key = 'JM-0002'")
    else:  # a plain sqlite3 client does not enforce foreign keys unless asked to
        raw = sqlite3.connect(str(db.engine.url.database))
        with raw:
            raw.execute("DELETE FROM spell WHERE company_id = 2")
            raw.execute("DELETE FROM company WHERE key = 'JM-0002'")
        raw.close()
    result = services.verify_audit(db)
    assert not result.ok
    assert "3 events in the log belong to no recorded company" in result.problem


def test_a_company_without_events_is_named_in_key_order(
    db: Database, make_company: MakeCompany
) -> None:
    for key in ("JM-0001", "JM-0002", "JM-0003"):
        make_company("seed", key=key)
    drop_guards(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "DELETE FROM stage_event WHERE company_id = (SELECT id FROM company WHERE key = 'JM-0002')"
        )
    result = services.verify_audit(db)
    assert (result.ok, result.company_key) == (False, "JM-0002")
    assert "records 1 events but the log has none" in result.problem
