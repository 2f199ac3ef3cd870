"""Schema 0002 upgrades a 0001 database in place: every event kept, a profile record for
every company, the audit key mode recorded, and the audit verifies. Schema 0005 (evidence and
gates) upgrades a database in use at 0004 in place, every event and record kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from incubator import audit, services
from incubator.store import SCHEMA_HEAD, Database, StoreError, schema_version
from tests.conftest import BACKENDS, OWNER

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo_events.csv"
MakeDatabase = Callable[..., Database]
#: The tables and columns of schema 0001.
TABLES_0001 = {
    "company": (
        "id", "key", "name", "sector", "site", "uscc", "stage", "entered_stage_at",
        "admitted_at", "last_event_at", "cohort", "event_count", "head_hash",
    ),
    "stage_event": (
        "id", "company_id", "seq", "kind", "from_stage", "to_stage", "effective_at",
        "recorded_at", "actor", "note", "reason", "prev_hash", "hash",
    ),
    "spell": (
        "id", "company_id", "stage", "start_us", "start_ym", "end_us", "end_ym", "end_kind",
        "exit_reason", "site", "sector", "cohort",
    ),
}  # fmt: skip


def database_at_0001_with_demo_data(make_database: MakeDatabase, backend: str) -> Database:
    """A database made by schema 0001 holding the demo data as 0001 wrote it: the demo CSV is
    imported into a current database and its 0001 tables are copied over row by row (the
    event hashes and spells have not changed between the two schemas)."""
    source = make_database(backend)
    services.import_events(source, DEMO, actor=OWNER)
    old = make_database(backend, "0001")
    assert schema_version(old.engine) == "0001"
    with source.engine.connect() as read, old.engine.begin() as write:
        for table, columns in TABLES_0001.items():
            names = ", ".join(columns)
            rows = [tuple(r) for r in read.exec_driver_sql(f"SELECT {names} FROM {table}")]
            marks = ", ".join(["%s" if old.dialect == "postgresql" else "?"] * len(columns))
            write.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            if old.dialect == "postgresql":  # as if the rows had been inserted one by one
                write.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
    return old


def events(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT company_id, seq, kind, effective_at, recorded_at, actor, note, hash "
                "FROM stage_event ORDER BY id"
            )
        ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_0001_database_upgrades_keeps_every_event_and_verifies(
    make_database: MakeDatabase, backend: str
) -> None:
    db = database_at_0001_with_demo_data(make_database, backend)
    before = events(db)
    assert db.upgrade() == ("0001", SCHEMA_HEAD)
    assert events(db) == before and len(before) > 600
    with db.engine.connect() as conn:
        per_company = conn.exec_driver_sql(
            "SELECT count(*), min(actor), max(actor), min(seq), max(seq) FROM company_fact"
        ).one()
        mode = conn.exec_driver_sql("SELECT value FROM setting WHERE key = 'audit_key'").scalar()
    assert tuple(per_company) == (300, "migration", "migration", 1, 1)
    assert mode == "none"
    result = services.verify_audit(db)
    assert result.ok, str(result)
    assert (result.events, result.companies, result.facts) == (len(before), 300, 300)
    # and it is a working database (the demo data has no evidence for the gates)
    services.advance(db, "JM-0001", actor=OWNER, override="upgraded without evidence yet")
    services.set_profile(db, "JM-0001", name="Renamed after the upgrade", actor=OWNER)
    services.admit(db, "JM-9999", name="New", stage="seed", actor=OWNER)
    assert services.verify_audit(db).ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_keyed_0001_database_upgrades_with_its_key_and_only_with_it(
    make_database: MakeDatabase, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    db = database_at_0001_with_demo_data(make_database, backend)
    for wrong in (None, "a-guess"):
        if wrong is None:
            monkeypatch.delenv("INCUBATOR_AUDIT_KEY")
        else:
            monkeypatch.setenv("INCUBATOR_AUDIT_KEY", wrong)
        with pytest.raises(StoreError) as refused:
            db.upgrade()
        assert str(refused.value).startswith("cannot upgrade: the audit hash of event id 1 ")
        assert "set INCUBATOR_AUDIT_KEY to the key this database was written with" in str(
            refused.value
        )
        assert schema_version(db.engine) == "0001"  # nothing changed
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    assert db.upgrade() == ("0001", SCHEMA_HEAD)
    with db.engine.connect() as conn:
        mode = conn.exec_driver_sql("SELECT value FROM setting WHERE key = 'audit_key'").scalar()
    assert mode == audit.key_mode(b"kept-in-the-vault")
    assert services.verify_audit(db).ok
    monkeypatch.delenv("INCUBATOR_AUDIT_KEY")
    assert not services.verify_audit(db).checked


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_empty_0001_database_upgrades_and_its_first_write_decides_the_key(
    make_database: MakeDatabase, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_database(backend, "0001")
    assert db.upgrade() == ("0001", SCHEMA_HEAD)
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    services.admit(db, "JM-0001", name="First", stage="seed", actor=OWNER)
    assert services.verify_audit(db).ok


def database_at_0004(make_database: MakeDatabase, backend: str) -> Database:
    """A database as schema 0004 (main before evidence) left it, in use: the demo data, a
    renamed company, a user and the stuck-list limits. They are written by the current code
    and every column schema 0004 has is copied over, table by table (0005 only adds)."""
    from sqlalchemy import inspect

    source = make_database(backend)
    services.import_events(source, DEMO, actor=OWNER)
    services.set_profile(source, "JM-0002", name="改名后的公司", actor=OWNER)
    services.add_user(source, "wang", role="manager", site="钟祥", password="pass-word-1", actor=OWNER)  # fmt: skip
    services.put_setting(source, "stage_limits", '{"incubator": 36}', actor=OWNER)
    old = make_database(backend, "0004")
    with source.engine.connect() as read, old.engine.begin() as write:
        for table in ("company", "stage_event", "company_fact", "spell", "app_user", "setting"):
            columns = [c["name"] for c in inspect(write).get_columns(table)]
            names = ", ".join(columns)
            found = [tuple(r) for r in read.exec_driver_sql(f"SELECT {names} FROM {table}")]
            marks = ", ".join(["%s" if old.dialect == "postgresql" else "?"] * len(columns))
            write.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", found)
            if old.dialect == "postgresql" and "id" in columns:
                write.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
    assert schema_version(old.engine) == "0004"
    return old


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_of_schema_0004_upgrades_in_place_and_gets_evidence_and_gates(
    make_database: MakeDatabase, backend: str
) -> None:
    db = database_at_0004(make_database, backend)
    before = events(db)
    with db.engine.connect() as conn:
        records = conn.exec_driver_sql("SELECT count(*) FROM company_fact").scalar()
    assert db.upgrade() == ("0004", SCHEMA_HEAD)
    assert events(db) == before and len(before) > 600
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM company_fact").scalar() == records
        assert conn.exec_driver_sql("SELECT count(*) FROM stage_event WHERE gate IS NOT NULL").scalar() == 0  # fmt: skip
        assert conn.exec_driver_sql("SELECT count(*) FROM company WHERE founded_on IS NOT NULL").scalar() == 0  # fmt: skip
    result = services.verify_audit(db)
    assert result.ok and result.events == len(before), str(result)
    assert services.get_setting(db, "stage_limits") == '{"incubator": 36}'
    assert services.policy_show(db).default  # the national rules apply from now on
    # a nursery company of the demo: gated into the incubator, then let in on its evidence
    nursery = services.list_companies(db, stage="nursery")[0].key
    with pytest.raises(services.GateRefused):
        services.advance(db, nursery, actor=OWNER)
    services.set_profile(
        db, nursery, uscc="91420881MA4R0QMA42", founded=services.now_utc().date(), actor=OWNER
    )
    event = services.advance(db, nursery, actor=OWNER)
    assert event.gate is not None and event.gate["passed"]
    services.record_figures(db, nursery, year=2025, values={"revenue": 1}, actor=OWNER)
    assert services.verify_audit(db).ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_schema_0006_registers_every_site_in_use_as_mixed_without_level(
    make_database: MakeDatabase, backend: str
) -> None:
    db = database_at_0004(make_database, backend)
    with db.engine.connect() as conn:
        in_use = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT site FROM company")}
    assert db.upgrade() == ("0004", SCHEMA_HEAD)
    sites = services.list_sites(db)
    assert {s.name for s in sites} == in_use == {"高新区", "钟祥", "京山", "沙洋"}
    assert {(s.kind.value, s.level.value, s.changed_by) for s in sites} == {
        ("mixed", "none", "migration")
    }
    with db.unit() as uow:
        records = uow.registry_records()
    assert sorted((r["subject"], r["kind"], r["actor"]) for r in records) == sorted(
        (f"site:{name}", "add", "migration") for name in in_use
    )
    assert services.verify_audit(db).ok
    # the manager of 钟祥 keeps a registry site; companies are admitted at registry sites only
    services.admit(db, "JM-9001", name="新企业", stage="seed", site="沙洋", actor=OWNER)
    with pytest.raises(services.InvalidInput, match="unknown site '宜昌'"):
        services.admit(db, "JM-9002", name="新企业", stage="seed", site="宜昌", actor=OWNER)
