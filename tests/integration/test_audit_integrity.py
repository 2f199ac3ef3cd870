"""What someone with write access to the database can change, and how `audit verify` (with a
checkpoint kept outside the database, and the audit key) finds it."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from incubator import audit, auditing, services
from incubator.auditing import AuditKeyMismatch
from incubator.stages import InvalidInput
from incubator.store import (
    _AUDIT_RECORDS,
    AUDIT_TABLES,
    COMPANY,
    Database,
    _audit_select,
    sqlite_file,
)
from incubator.values import to_micros, year_month
from tests.conftest import OWNER, T0

#: About the ladder, the audit or the metrics, not evidence: the stage gates are off.
pytestmark = pytest.mark.ungated

MakeCompany = Callable[..., services.CompanyView]
KEY_SET = "cannot verify: this database's audit chain is keyed (INCUBATOR_AUDIT_KEY); set the same key to verify"


def three_events(db: Database, make_company: MakeCompany, key: str = "JM-0001") -> None:
    make_company("seed", key=key)
    services.advance(db, key, actor=OWNER, at=T0 + timedelta(days=40), note="pitch")
    services.advance(db, key, actor=OWNER, at=T0 + timedelta(days=90), note="registered")


def two_companies(db: Database, make_company: MakeCompany) -> None:
    three_events(db, make_company, "JM-0001")
    three_events(db, make_company, "JM-0002")
    make_company("nursery", key="JM-0003")


def sql(db: Database, *statements: str) -> None:
    with db.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def drop_guards(db: Database) -> None:
    """What an attacker with database access could do: remove the append-only triggers."""
    if db.dialect == "postgresql":
        sql(
            db,
            "DROP TRIGGER stage_event_no_update_delete ON stage_event",
            "DROP TRIGGER company_fact_no_update_delete ON company_fact",
        )
    else:
        sql(
            db,
            "DROP TRIGGER stage_event_no_update",
            "DROP TRIGGER stage_event_no_delete",
            "DROP TRIGGER company_fact_no_update",
            "DROP TRIGGER company_fact_no_delete",
        )


def company_id(db: Database, key: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT id FROM company WHERE key = '{key}'").scalar_one())


def failure(db: Database, **options: object) -> services.AuditResult:
    result = services.verify_audit(db, **options)  # type: ignore[arg-type]
    assert not result.ok and result.checked, str(result)
    return result


def take_checkpoint(db: Database, tmp_path: Path) -> Path:
    path = tmp_path / "checkpoint.json"
    services.write_checkpoint(db, path)
    return path


# --- the company row -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE company SET site = '京山' WHERE key = 'JM-0002'", "records site '京山', but its profile records give '钟祥'"),
        ("UPDATE company SET name = 'Forged Ltd' WHERE key = 'JM-0002'", "records name 'Forged Ltd'"),
        ("UPDATE company SET sector = 'organic food' WHERE key = 'JM-0002'", "records sector 'organic food'"),
        ("UPDATE company SET uscc = '91350100M000100Y43' WHERE key = 'JM-0002'", "records uscc '91350100M000100Y43', but its profile records give (none)"),
        ("UPDATE company SET cohort = 2019 WHERE key = 'JM-0002'", "records cohort 2019, but the year of its admit event is 2024"),
    ],
)  # fmt: skip
def test_a_changed_company_profile_or_cohort_is_found(
    db: Database, make_company: MakeCompany, statement: str, message: str
) -> None:
    two_companies(db, make_company)
    sql(db, statement)
    result = failure(db)
    assert result.company_key == "JM-0002"
    assert message in result.problem and "changed outside the tracker" in result.problem
    assert str(result).startswith("FAILED: JM-0002: ")


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("last_event_at", "records last_event_at 2099-01-01T00:00:00+00:00, but its last event gives"),
        ("admitted_at", "records admitted_at 2099-01-01T00:00:00+00:00, but its admit event gives"),
        ("entered_stage_at", "records entered_stage_at 2099-01-01T00:00:00+00:00"),
    ],
)  # fmt: skip
def test_a_changed_company_time_is_found(
    db: Database, make_company: MakeCompany, column: str, message: str
) -> None:
    two_companies(db, make_company)
    with db.engine.begin() as conn:
        conn.execute(
            update(COMPANY)
            .where(COMPANY.c.key == "JM-0001")
            .values({column: datetime(2099, 1, 1, tzinfo=UTC)})
        )
    result = failure(db)
    assert result.company_key == "JM-0001" and message in result.problem


def test_a_last_event_moved_to_2099_is_found_and_the_next_advance_is_not_dated_2099(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001")
    with db.engine.begin() as conn:
        conn.execute(update(COMPANY).values(last_event_at=datetime(2099, 1, 1, tzinfo=UTC)))
    assert failure(db).company_key == "JM-0001"
    with pytest.raises(
        InvalidInput, match="previous event is recorded at 2099-01-01.* in the future"
    ):
        services.advance(db, "JM-0001", actor=OWNER)
    [admit] = services.history(db, "JM-0001")  # nothing was written
    assert admit.effective_at == T0


# --- the spell table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE spell SET start_us = start_us - 86400000000 WHERE stage = 'nursery' AND {c}", "spell 2 (nursery from 2024-02-10T00:00:00+00:00) records start_us 2024-02-09T00:00:00+00:00"),
        ("UPDATE spell SET end_us = end_us + 86400000000 WHERE stage = 'seed' AND {c}", "spell 1 (seed from 2024-01-01T00:00:00+00:00) records end_us 2024-02-11T00:00:00+00:00, but its events give 2024-02-10T00:00:00+00:00"),
        ("UPDATE spell SET end_us = NULL, end_ym = NULL, end_kind = NULL WHERE stage = 'seed' AND {c}", "records end_us (open)"),
        ("UPDATE spell SET stage = 'accelerator' WHERE stage = 'incubator' AND {c}", "records stage 'accelerator', but its events give 'incubator'"),
        ("UPDATE spell SET site = '京山' WHERE stage = 'seed' AND {c}", "records site '京山', but its events give '钟祥'"),
        ("UPDATE spell SET end_kind = 'exit', exit_reason = 'failed' WHERE stage = 'seed' AND {c}", "records end_kind 'exit', but its events give 'advance'"),
        ("DELETE FROM spell WHERE stage = 'nursery' AND {c}", "the spell table has 2 spells, its events give 3 (a spell was deleted"),
        ("INSERT INTO spell (company_id, stage, start_us, start_ym, site, sector, cohort) SELECT company_id, 'seed', start_us, start_ym, site, sector, cohort FROM spell WHERE stage = 'seed' AND {c}", "the spell table has 4 spells, its events give 3 (a spell was added"),
    ],
)  # fmt: skip
def test_an_edited_spell_is_found(
    db: Database, make_company: MakeCompany, statement: str, message: str
) -> None:
    two_companies(db, make_company)
    sql(db, statement.format(c=f"company_id = {company_id(db, 'JM-0002')}"))
    result = failure(db)
    assert result.company_key == "JM-0002"
    assert message in result.problem, result.problem


# --- the record chain (profile records) ----------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE company_fact SET note = 'edited'",
        "DELETE FROM company_fact",
    ],
)
def test_the_database_refuses_to_change_or_delete_company_records(
    db: Database, make_company: MakeCompany, statement: str
) -> None:
    make_company("seed", key="JM-0001")
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert services.verify_audit(db).ok


def test_postgresql_refuses_to_truncate_company_records(
    make_database: Callable[[str], Database],
) -> None:
    db = make_database("postgresql")
    services.admit(db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE company_fact CASCADE")


def test_an_edited_profile_record_is_found_with_the_company_row(
    db: Database, make_company: MakeCompany
) -> None:
    two_companies(db, make_company)
    drop_guards(db)
    forged = audit.payload_json(
        {"name": "Company JM-0002", "sector": "biomedicine", "site": "京山", "uscc": None}
    )
    sql(
        db,
        f"UPDATE company_fact SET payload = '{forged}' WHERE company_id = {company_id(db, 'JM-0002')}",
        "UPDATE company SET site = '京山' WHERE key = 'JM-0002'",
        "UPDATE spell SET site = '京山' WHERE company_id = (SELECT id FROM company WHERE key = 'JM-0002')",
    )
    result = failure(db)
    assert result.company_key == "JM-0002"
    assert "record #1" in result.problem and "does not match its hash" in result.problem


def test_a_deleted_last_profile_record_is_found_through_the_record_head(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", site="钟祥")
    services.set_profile(db, "JM-0001", site="京山", actor=OWNER)
    drop_guards(db)
    sql(
        db,
        "DELETE FROM company_fact WHERE seq = 2",
        "UPDATE company SET site = '钟祥'",
        "UPDATE spell SET site = '钟祥'",
    )
    result = failure(db)
    assert result.company_key == "JM-0001"
    assert "record chain head does not match" in result.problem


def test_with_the_key_a_profile_record_forged_without_it_is_caught(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    make_company("seed", key="JM-0001", site="钟祥")
    # The forger moves the company to another site with a second profile record chained
    # with plain SHA-256 (they do not hold the key), and updates the row and spells to match.
    [first] = _facts(db)
    payload = audit.payload_json({"site": "京山"})
    recorded = datetime(2024, 6, 1, tzinfo=UTC)
    forged = audit.fact_hash(first["hash"], "JM-0001", 2, "profile", payload, recorded, "x", "")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO company_fact (company_id, seq, kind, payload, recorded_at, actor, note, "
            f"prev_hash, hash) VALUES (1, 2, 'profile', '{payload}', "
            f"'{'2024-06-01 00:00:00.000000' if db.dialect == 'sqlite' else '2024-06-01T00:00:00+00:00'}', "
            f"'x', '', '{first['hash']}', '{forged}')"
        )
        conn.exec_driver_sql(
            f"UPDATE company SET site = '京山', fact_count = 2, fact_head = '{forged}'"
        )
        conn.exec_driver_sql("UPDATE spell SET site = '京山'")
    result = failure(db)
    assert result.company_key == "JM-0001" and "record #2" in result.problem
    assert "does not match its hash" in result.problem


def _facts(db: Database) -> list[dict[str, object]]:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT seq, kind, payload, hash FROM company_fact ORDER BY id")
        return [dict(r._mapping) for r in rows]


# --- truncation and deletion: the checkpoint -----------------------------------------------


def rewind_to_two_events(db: Database, key: str) -> None:
    """Remove the company's last event and rewrite everything derived to match, as a
    careful attacker would: the chain that is left is consistent."""
    cid = company_id(db, key)
    drop_guards(db)
    with db.engine.connect() as conn:
        head, at = conn.exec_driver_sql(
            f"SELECT hash, effective_at FROM stage_event WHERE company_id = {cid} AND seq = 2"
        ).one()
    sql(
        db,
        f"DELETE FROM stage_event WHERE company_id = {cid} AND seq = 3",
        f"DELETE FROM spell WHERE company_id = {cid} AND stage = 'incubator'",
        f"UPDATE spell SET end_us = NULL, end_ym = NULL, end_kind = NULL WHERE company_id = {cid} AND stage = 'nursery'",
    )
    with db.engine.begin() as conn:
        conn.execute(
            update(COMPANY)
            .where(COMPANY.c.id == cid)
            .values(
                head_hash=head,
                event_count=2,
                stage="nursery",
                entered_stage_at=_aware(at),
                last_event_at=_aware(at),
            )
        )


def _aware(value: object) -> datetime:
    if isinstance(value, str):  # SQLite hands back the stored text
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_truncated_events_with_a_rewound_head_are_caught_by_a_checkpoint(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    two_companies(db, make_company)
    checkpoint = take_checkpoint(db, tmp_path)
    rewind_to_two_events(db, "JM-0002")
    assert services.verify_audit(db).ok  # consistent: only an outside anchor can tell
    result = failure(db, checkpoint=checkpoint)
    assert result.company_key == "JM-0002"
    assert "has 2 events, fewer than the 3 in the checkpoint of" in result.problem


def test_a_truncated_history_that_grew_again_is_caught_by_a_checkpoint(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    two_companies(db, make_company)
    checkpoint = take_checkpoint(db, tmp_path)
    rewind_to_two_events(db, "JM-0002")
    services.advance(db, "JM-0002", actor=OWNER, note="a different third event")
    result = failure(db, checkpoint=checkpoint)
    assert result.company_key == "JM-0002"
    assert "its event #3 is not the one in the checkpoint" in result.problem


def test_a_deleted_company_is_caught_by_a_checkpoint(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    two_companies(db, make_company)
    checkpoint = take_checkpoint(db, tmp_path)
    drop_guards(db)
    cid = company_id(db, "JM-0002")
    sql(
        db,
        *(f"DELETE FROM {t} WHERE company_id = {cid}" for t in ("spell", "company_fact", "stage_event")),
        f"DELETE FROM company WHERE id = {cid}",
    )  # fmt: skip
    assert services.verify_audit(db).ok
    result = failure(db, checkpoint=checkpoint)
    assert result.company_key == "JM-0002"
    assert (
        "is in the checkpoint of" in result.problem
        and "missing from the database" in result.problem
    )


def test_the_last_company_deleted_is_caught_by_a_checkpoint_too(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    two_companies(db, make_company)
    checkpoint = take_checkpoint(db, tmp_path)
    drop_guards(db)
    cid = company_id(db, "JM-0003")
    sql(
        db,
        *(f"DELETE FROM {t} WHERE company_id = {cid}" for t in ("spell", "company_fact", "stage_event")),
        f"DELETE FROM company WHERE id = {cid}",
    )  # fmt: skip
    assert failure(db, checkpoint=checkpoint).company_key == "JM-0003"


def test_a_checkpoint_holds_while_the_database_grows(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    two_companies(db, make_company)
    checkpoint = take_checkpoint(db, tmp_path)
    services.advance(db, "JM-0001", actor=OWNER)
    services.set_profile(db, "JM-0002", name="Renamed", actor=OWNER)
    make_company("seed", key="JM-0004")
    result = services.verify_audit(db, checkpoint=checkpoint)
    assert result.ok, str(result)
    assert "the checkpoint of" in str(result) and "(3 companies) holds" in str(result)


def test_a_changed_checkpoint_file_fails_its_signature(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    two_companies(db, make_company)
    checkpoint = take_checkpoint(db, tmp_path)
    text = checkpoint.read_text()
    checkpoint.write_text(text.replace('"JM-0002", 3,', '"JM-0002", 2,'))
    result = failure(db, checkpoint=checkpoint)
    assert "signature does not verify" in result.problem


def test_a_checkpoint_is_one_json_document_that_says_what_protects_it(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    two_companies(db, make_company)
    doc = json.loads(take_checkpoint(db, tmp_path).read_text())
    assert doc["statement"]["audit_key"] == "none"
    assert "protects only as well as this file is kept" in doc["statement"]["signature"]
    assert doc["signature"]["algorithm"] == "SHA-256"
    assert [row[1:3] for row in doc["companies"]] == [
        ["JM-0001", 3],
        ["JM-0002", 3],
        ["JM-0003", 1],
    ]


def test_no_checkpoint_is_written_when_the_audit_fails(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    two_companies(db, make_company)
    sql(db, "UPDATE company SET site = '京山' WHERE key = 'JM-0002'")
    out = tmp_path / "checkpoints"
    out.mkdir()
    with pytest.raises(
        services.AuditFailed, match="no checkpoint written: the audit fails: FAILED: JM-0002"
    ):
        services.write_checkpoint(db, out / "cp.json")
    assert list(out.iterdir()) == []


def test_a_file_that_is_not_a_checkpoint_is_refused_in_one_line(
    db: Database, make_company: MakeCompany, tmp_path: Path
) -> None:
    make_company("seed")
    path = tmp_path / "events.csv"
    path.write_text("company_key,event\n")
    with pytest.raises(InvalidInput, match="is not an audit checkpoint written by"):
        services.verify_audit(db, checkpoint=path)
    with pytest.raises(InvalidInput, match="cannot read"):
        services.verify_audit(db, checkpoint=tmp_path / "missing.json")


# --- the audit key -------------------------------------------------------------------------


def state(db: Database) -> tuple[int, ...]:
    with db.engine.connect() as conn:
        return tuple(
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
            for t in ("company", "stage_event", "company_fact", "spell")
        )


CSV = (
    "company_key,company_name,event,from_stage,to_stage,effective_at,actor,note,reason,sector,site,uscc\n"
    "JM-9,Nine,admit,,seed,2024-01-01,wang,,,biomedicine,钟祥,\n"
)

WRITES: dict[str, Callable[[Database], object]] = {
    "admit": lambda db: services.admit(db, "JM-0005", name="New", stage="seed", actor=OWNER),
    "advance": lambda db: services.advance(db, "JM-0001", actor=OWNER),
    "exit": lambda db: services.exit_company(db, "JM-0001", reason="failed", actor=OWNER),
    "import": lambda db: services.import_events(db, CSV, actor=OWNER),
    "company set": lambda db: services.set_profile(db, "JM-0001", name="Other", actor=OWNER),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_on_a_keyed_database_a_write_without_the_key_is_refused_and_writes_nothing(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    make_company("seed", key="JM-0001")
    before = state(db)
    monkeypatch.delenv("INCUBATOR_AUDIT_KEY")
    with pytest.raises(AuditKeyMismatch) as refused:
        WRITES[write](db)
    assert str(refused.value) == (
        "this database's audit chain is keyed (INCUBATOR_AUDIT_KEY); set the same key to write"
    )
    assert state(db) == before
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    assert services.verify_audit(db).ok


@pytest.mark.parametrize("write", list(WRITES))
def test_on_a_keyed_database_a_write_with_another_key_is_refused_and_writes_nothing(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    make_company("seed", key="JM-0001")
    before = state(db)
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "a-guess")
    with pytest.raises(AuditKeyMismatch, match="the INCUBATOR_AUDIT_KEY given does not match"):
        WRITES[write](db)
    assert state(db) == before


def test_on_an_unkeyed_database_a_write_with_a_key_is_refused(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_company("seed", key="JM-0001")
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    with pytest.raises(
        AuditKeyMismatch, match="audit chain has no key, but INCUBATOR_AUDIT_KEY is set"
    ):
        services.advance(db, "JM-0001", actor=OWNER)
    assert len(services.history(db, "JM-0001")) == 1


def test_the_database_keeps_a_fingerprint_of_the_key_never_the_key(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    make_company("seed", key="JM-0001")
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT value FROM setting WHERE key = 'audit_key'").scalar()
        everything = " ".join(
            str(r) for t in ("setting", "company", "company_fact", "stage_event")
            for r in conn.exec_driver_sql(f"SELECT * FROM {t}")
        )  # fmt: skip
    assert stored == audit.key_mode(b"kept-in-the-vault") and stored.startswith("hmac-sha256:")
    assert "kept-in-the-vault" not in everything


def test_verify_with_a_wrong_or_missing_key_says_so_plainly(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    three_events(db, make_company)
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "a-guess")
    result = services.verify_audit(db)
    fingerprint = audit.key_mode(b"kept-in-the-vault")[len("hmac-sha256:") :][:12]
    assert (result.ok, result.checked) == (False, False)
    assert str(result) == (
        "cannot verify: the INCUBATOR_AUDIT_KEY given does not match this database's audit key "
        f"(fingerprint {fingerprint}…); set the key it was written with to verify"
    )
    monkeypatch.delenv("INCUBATOR_AUDIT_KEY")
    assert str(services.verify_audit(db)) == KEY_SET


def test_an_unkeyed_rewrite_of_a_keyed_database_fails_for_whoever_holds_the_key(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    make_company("seed", key="JM-0001")
    # The attacker says the database has no key and rechains everything with plain SHA-256.
    drop_guards(db)
    [event] = services.history(db, "JM-0001")
    event_hash = audit.chain_hash(audit.GENESIS, {**event.__dict__})
    [fact] = _facts(db)
    with db.engine.connect() as conn:
        recorded = conn.exec_driver_sql("SELECT recorded_at FROM company_fact").scalar()
    fact_hash = audit.fact_hash(
        audit.GENESIS, "JM-0001", 1, "profile", str(fact["payload"]), _aware(recorded), "tester", ""
    )
    sql(
        db,
        "UPDATE setting SET value = 'none' WHERE key = 'audit_key'",
        f"UPDATE stage_event SET hash = '{event_hash}'",
        f"UPDATE company_fact SET hash = '{fact_hash}'",
        f"UPDATE company SET head_hash = '{event_hash}', fact_head = '{fact_hash}'",
    )
    result = services.verify_audit(db)
    assert not result.ok and "has no key, but INCUBATOR_AUDIT_KEY is set" in str(result)
    monkeypatch.delenv("INCUBATOR_AUDIT_KEY")
    assert services.verify_audit(db).ok  # without the key nobody can tell


def test_a_keyed_checkpoint_needs_the_key(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    two_companies(db, make_company)
    checkpoint = take_checkpoint(db, tmp_path)
    doc = json.loads(checkpoint.read_text())
    assert doc["signature"]["algorithm"] == "HMAC-SHA-256"
    assert services.verify_audit(db, checkpoint=checkpoint).ok
    monkeypatch.delenv("INCUBATOR_AUDIT_KEY")
    with pytest.raises(AuditKeyMismatch, match="set the same key to sign a checkpoint"):
        services.write_checkpoint(db, tmp_path / "other.json")
    assert str(services.verify_audit(db, checkpoint=checkpoint)) == KEY_SET


# --- the quick check and the full check ----------------------------------------------------
#
# `audit verify` reads the rows as the driver gives them and checks most companies with a
# quick check (`auditing._Quick`); a company it cannot vouch for is checked again by the full
# check, which names what is wrong. The quick check must never pass what the full check
# fails: every verdict, count and finding is the same with the quick check turned off.


def with_evidence(db: Database, make_company: MakeCompany) -> None:
    """Three companies of `two_companies`, a profile change, and a company with a record of
    every evidence kind (its rows in every derived table)."""
    two_companies(db, make_company)
    services.set_profile(db, "JM-0003", name="新名字", actor=OWNER)
    make_company("seed", key="JM-0004")
    services.record_founding(db, "JM-0004", founded_on="2020-01-02", actor=OWNER)
    services.record_qualification(db, "JM-0004", "high_tech", granted_on="2022-06-01", actor=OWNER)
    services.record_financing(db, "JM-0004", amount=100, on="2025-01-02", actor=OWNER)
    services.record_milestone(db, "JM-0004", "listed", on="2025-01-02", actor=OWNER)
    services.record_figures(
        db, "JM-0004", year=2025, values={"revenue": 1200, "employees": 12}, actor=OWNER
    )
    make_company("nursery", key="JM-0005")


def orphan_event(db: Database) -> None:
    """An event of a company that is not recorded (the foreign key is bypassed)."""
    values = (
        "(999, 1, 'admit', NULL, 'seed', '2024-01-01 00:00:00.000000', "
        "'2024-01-01 00:00:00.000000', 'x', '', NULL, 'p', 'h')"
    )
    columns = (
        "company_id, seq, kind, from_stage, to_stage, effective_at, recorded_at, actor, note, "
        "reason, prev_hash, hash"
    )
    if db.dialect == "postgresql":
        sql(
            db,
            "SET session_replication_role = replica",
            f"INSERT INTO stage_event ({columns}) VALUES {values}",
            "SET session_replication_role = DEFAULT",
        )
        return
    import sqlite3

    path = sqlite_file(db.engine)
    assert path is not None
    with closing(sqlite3.connect(path)) as conn, conn:  # foreign keys off
        conn.execute(f"INSERT INTO stage_event ({columns}) VALUES {values}")


TAMPERS: dict[str, Callable[[Database], None]] = {
    "nothing": lambda db: None,
    "event note": lambda db: sql(db, "UPDATE stage_event SET note = 'x' WHERE seq = 2"),
    "event deleted": lambda db: sql(db, "DELETE FROM stage_event WHERE seq = 3"),
    "event actor": lambda db: sql(db, "UPDATE stage_event SET actor = 'y' WHERE seq = 1"),
    "event gate": lambda db: sql(
        db, """UPDATE stage_event SET gate = '{"stage":"x"}' WHERE seq = 2"""
    ),
    "event seq": lambda db: sql(db, "UPDATE stage_event SET seq = seq + 10 WHERE seq = 3"),
    "chain rewound": lambda db: rewind_to_two_events(db, "JM-0002"),
    "record note": lambda db: sql(db, "UPDATE company_fact SET note = 'x' WHERE seq = 1"),
    "record deleted": lambda db: sql(db, "DELETE FROM company_fact WHERE seq = 2"),
    "record payload": lambda db: sql(
        db, "UPDATE company_fact SET payload = replace(payload, '钟祥', '京山')"
    ),
    "company stage": lambda db: sql(db, "UPDATE company SET stage = 'accelerator'"),
    "company cohort": lambda db: sql(db, "UPDATE company SET cohort = 2019"),
    "company name": lambda db: sql(db, "UPDATE company SET name = 'Forged' WHERE id > 2"),
    "company uscc": lambda db: sql(db, "UPDATE company SET uscc = '91350100M000100Y43'"),
    "company founded": lambda db: sql(db, "UPDATE company SET founded_on = '2020-01-01'"),
    "company counts": lambda db: sql(db, "UPDATE company SET event_count = event_count + 1"),
    "spell moved": lambda db: sql(db, "UPDATE spell SET start_us = start_us + 1 WHERE id = 2"),
    "spell deleted": lambda db: sql(db, "DELETE FROM spell WHERE id = 3"),
    "spell added": lambda db: sql(
        db,
        "INSERT INTO spell (company_id, stage, start_us, start_ym, site, sector, cohort) "
        "SELECT company_id, stage, start_us, start_ym, site, sector, cohort FROM spell "
        "WHERE id = 1",
    ),
    "spell reason": lambda db: sql(db, "UPDATE spell SET exit_reason = 'failed'"),
    "evidence row": lambda db: sql(db, "UPDATE financing_round SET amount = 5"),
    "figures row": lambda db: sql(db, "DELETE FROM annual_figures"),
    "orphan event": orphan_event,
}
#: Stored times in another text than the tracker writes, read as the same times (SQLite).
SQLITE_TAMPERS: dict[str, Callable[[Database], None]] = {
    "times with a T": lambda db: sql(
        db,
        "UPDATE stage_event SET effective_at = replace(effective_at, ' ', 'T'), "
        "recorded_at = replace(recorded_at, ' ', 'T')",
        "UPDATE company SET admitted_at = replace(admitted_at, ' ', 'T'), "
        "entered_stage_at = replace(entered_stage_at, ' ', 'T'), "
        "last_event_at = replace(last_event_at, ' ', 'T')",
    ),
    "times with an offset": lambda db: sql(
        db, "UPDATE company_fact SET recorded_at = recorded_at || '+00:00'"
    ),
    "times without microseconds": lambda db: sql(
        db, "UPDATE stage_event SET effective_at = substr(effective_at, 1, 19)"
    ),
    "a time that is not one": lambda db: sql(
        db, "UPDATE stage_event SET effective_at = 'soon' WHERE id = 4"
    ),
}


def outcome(db: Database, **options: object) -> tuple[object, ...]:
    try:
        r = services.verify_audit(db, **options)  # type: ignore[arg-type]
    except Exception as exc:  # the full check's own failure must be the quick check's too
        return ("raised", type(exc).__name__, str(exc))
    return (r.ok, r.checked, r.events, r.companies, r.facts, r.company_key, r.seq, str(r))


#: The tampers also tried on a database whose chains are keyed.
KEYED = ("nothing", "event note", "record payload", "spell moved")


@pytest.mark.parametrize(
    ("tamper", "keyed"),
    [*((t, False) for t in (*TAMPERS, *SQLITE_TAMPERS)), *((t, True) for t in KEYED)],
)
def test_the_quick_check_passes_only_what_the_full_check_passes(
    db: Database,
    make_company: MakeCompany,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    tamper: str,
    keyed: bool,
) -> None:
    if tamper in SQLITE_TAMPERS and db.dialect != "sqlite":
        pytest.skip("PostgreSQL stores times as times")
    if keyed:
        monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "kept-in-the-vault")
    with_evidence(db, make_company)
    checkpoint = take_checkpoint(db, tmp_path)
    if tamper != "chain rewound":  # it drops them itself
        drop_guards(db)
    {**TAMPERS, **SQLITE_TAMPERS}[tamper](db)
    quick = outcome(db), outcome(db, checkpoint=checkpoint)
    monkeypatch.setattr(auditing._Quick, "company", lambda self, *args: False)
    full = outcome(db), outcome(db, checkpoint=checkpoint)
    assert quick == full
    if tamper == "nothing":
        assert quick[0][0] is True and quick[0][3] == 5 and quick[1][0] is True
    elif tamper == "chain rewound":  # consistent: only the checkpoint can tell
        assert quick[0][0] is True and quick[1][0] is False
    elif tamper in TAMPERS:
        assert quick[0][0] is not True and quick[1][0] is not True


def test_the_quick_check_vouches_for_plain_companies(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_evidence(db, make_company)
    vouched: list[bool] = []
    check = auditing._Quick.company

    def spy(self: auditing._Quick, c: tuple[object, ...], *args: object) -> bool:
        vouched.append(check(self, c, *args))  # type: ignore[arg-type]
        return vouched[-1]

    monkeypatch.setattr(auditing._Quick, "company", spy)
    assert services.verify_audit(db).ok
    # JM-0003 changed its profile and JM-0004 has evidence: the full check checks them
    assert vouched == [True, True, False, True]


def test_a_company_that_is_not_recorded_is_named_by_its_id(
    db: Database, make_company: MakeCompany
) -> None:
    two_companies(db, make_company)
    orphan_event(db)
    result = failure(db)
    assert "999" in str(result) and "events in the log" in result.problem, str(result)


def test_the_driver_rows_convert_to_the_records_a_sqlalchemy_read_gives(
    db: Database, make_company: MakeCompany
) -> None:
    with_evidence(db, make_company)
    with db.unit() as uow:
        for table in AUDIT_TABLES:
            convert = uow.audit_converter(table)
            driver = [convert(row) for rows in uow.audit_batches(table, batch=2) for row in rows]
            read = [
                _AUDIT_RECORDS[table](list(row))
                for row in uow.connection.execute(_audit_select(table))
            ]
            assert driver == read and read, table


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    form=st.sampled_from(["stored", "T", "seconds", "offset", "minutes", "comma", "week"]),
)
def test_the_quick_conversion_of_sqlite_times_is_sqlalchemys(moment: datetime, form: str) -> None:
    week = moment.isocalendar()
    text = {
        "stored": moment.isoformat(" ", timespec="microseconds"),
        # the stored text's length, but not its spelling (`_Quick.instant`'s short cut)
        "comma": moment.isoformat(" ", timespec="microseconds").replace(".", ","),
        "week": f"{week.year:04d}-W{week.week:02d}-{week.weekday} "
        + moment.time().isoformat(timespec="microseconds"),
        "T": moment.isoformat("T", timespec="microseconds"),
        "seconds": moment.isoformat(" ", timespec="seconds"),
        "offset": moment.isoformat(" ") + "+05:30",
        "minutes": moment.isoformat(" ", timespec="minutes"),
    }[form]
    quick = auditing._Quick(None, _SQLITE_TIME, text_times=True).instant(text)
    slow = auditing._Quick(None, _SQLITE_TIME, text_times=False).instant(text)
    converted = _SQLITE_TIME(text)
    assert converted is not None
    assert (
        quick
        == slow
        == (
            converted.isoformat(timespec="microseconds"),
            to_micros(converted),
            year_month(converted),
        )
    )


def _sqlite_time() -> Callable[[object], datetime | None]:
    """The SQLAlchemy converter of a stored time on SQLite."""
    from sqlalchemy.dialects import sqlite

    proc = COMPANY.c.admitted_at.type._cached_result_processor(sqlite.dialect(), None)
    assert proc is not None
    return proc  # type: ignore[no-any-return]


_SQLITE_TIME = _sqlite_time()


def test_rows_are_taken_by_company_across_batches() -> None:
    rows = [(1, "a"), (1, "b"), (2, "c"), (2, "d"), (2, "e"), (4, "f"), (5, "g")]
    batches = iter([rows[:1], [], rows[1:3], rows[3:4], rows[4:6], rows[6:]])
    table = auditing._Rows(batches, 0, "audit.rows.events", lambda row: row)
    assert table.next_id == 1 and table.take(1) == rows[:2]
    assert table.next_id == 2 and table.take(2) == rows[2:5]
    assert table.next_id == 4
    with pytest.raises(auditing._Failed) as failed:
        table.orphans()
    assert failed.value.problem.params["n"] == 1
    assert table.take(5) == rows[6:] and table.next_id == auditing._END


# --- verify in parts -----------------------------------------------------------------------
#
# A large database is verified in ranges of company ids, each in a process of its own reading
# the same snapshot (`auditing._run_parts`). The result must be the one a single pass gives:
# the first failure in company-id order, with the counts of everything checked before it.


@pytest.mark.parametrize("tamper", [*TAMPERS, *SQLITE_TAMPERS, "orphan event"])
def test_verify_in_parts_finds_what_one_pass_finds(
    db: Database, make_company: MakeCompany, tamper: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if tamper in SQLITE_TAMPERS and db.dialect != "sqlite":
        pytest.skip("PostgreSQL stores times as times")
    with_evidence(db, make_company)
    if tamper != "chain rewound":
        drop_guards(db)
    {**TAMPERS, **SQLITE_TAMPERS, "orphan event": orphan_event}[tamper](db)
    one_pass = outcome(db, parts=1)
    checked_here: list[tuple[int | None, int | None]] = []
    run = auditing._run

    def spied(uow: Any, walk: Any, ids: tuple[int | None, int | None] = (None, None)) -> Any:
        checked_here.append(ids)
        return run(uow, walk, ids)

    monkeypatch.setattr(auditing, "_run", spied)
    # whatever was done to the database, verify reports it: it does not crash
    assert one_pass[0] != "raised", one_pass
    assert outcome(db, parts=3) == one_pass
    # the other two parts ran in their processes: this one checked only its own range, and
    # never fell back to checking everything itself
    assert len(checked_here) == 1
    assert checked_here[0][0] is None and checked_here[0][1] is not None
    if tamper == "nothing":
        assert one_pass[0] is True and one_pass[3] == 5
    # the writers are not kept waiting once it is done
    make_company("seed", key="JM-0099")


def test_a_part_that_fails_is_checked_here_and_prints_nothing(
    db: Database,
    make_company: MakeCompany,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A part's process that fails (here: it cannot read the audit key its environment
    gives it) leaves no traceback on the terminal the parts share: the check done here covers
    its range, and reports once."""
    with_evidence(db, make_company)
    started = auditing._run_parts

    def with_failing_parts(*args: object) -> object:
        # this process read its key already; the parts' processes read this one, and fail
        monkeypatch.setenv("INCUBATOR_AUDIT_KEY", "\udcff")
        return started(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(auditing, "_run_parts", with_failing_parts)
    capfd.readouterr()
    result = services.verify_audit(db, parts=2)
    assert result.ok and result.companies == 5, str(result)
    assert "Traceback" not in capfd.readouterr().err


def test_a_stored_value_that_cannot_be_read_is_a_failure_that_names_it(
    db: Database, make_company: MakeCompany
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL stores times as times")
    with_evidence(db, make_company)
    drop_guards(db)
    SQLITE_TAMPERS["a time that is not one"](db)
    result = services.verify_audit(db, parts=1)
    assert not result.ok
    assert "a stored value cannot be read (events in the log)" in str(result)
    assert "'soon'" in str(result)


def test_verify_in_parts_reads_one_snapshot_while_a_writer_waits(
    db: Database, make_company: MakeCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A company admitted while the parts start is in none of them: on PostgreSQL they share
    the snapshot of the first read; on SQLite the writer waits until every part has begun."""
    import threading

    with_evidence(db, make_company)
    started = auditing._run_parts
    writer = threading.Thread(target=make_company, args=("seed",), kwargs={"key": "JM-0098"})

    def with_a_write(*args: object) -> object:
        if db.dialect == "postgresql":  # its writers never wait for a reader
            writer.run()
        else:
            writer.start()  # waits for the lock verify holds
        return started(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(auditing, "_run_parts", with_a_write)
    result = services.verify_audit(db, parts=2)
    if writer.is_alive() or writer.ident is not None:
        writer.join(timeout=60)
    assert result.ok and result.companies == 5, str(result)
    assert services.verify_audit(db, parts=1).companies == 6
