"""Evidence and gates on a real database (SQLite, and PostgreSQL when configured): facts are
chained records with derived tables kept in step; moves pass their gate on the facts as of
their date, or are refused writing nothing, or are overridden; the outcome is in the event's
hash and in its history; the default policy is DESIGN §8's."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from incubator import services
from incubator.access import Actor, Role
from incubator.evidence import GateRefused, PolicyError
from incubator.stages import InvalidInput, InvalidTransition, PermissionDenied, UnknownCompany
from incubator.store import Database
from tests.conftest import NO_GATES, OWNER

MakeCompany = Callable[..., services.CompanyView]
USCC = "91420881MA4R0QMA42"
T = datetime(2025, 1, 6, tzinfo=UTC)


def rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    """The rows of raw SQL, dates as ISO text (SQLite's driver returns them as text)."""
    with db.engine.connect() as conn:
        return [
            tuple(v.isoformat() if isinstance(v, date) else v for v in r)
            for r in conn.exec_driver_sql(sql)
        ]


def counts(db: Database) -> tuple[object, ...]:
    """Everything a refused action must leave as it was."""
    tables = ("company", "stage_event", "company_fact", "spell", "qualification",
              "financing_round", "milestone", "annual_figures")  # fmt: skip
    return tuple(rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in tables) + tuple(
        rows(db, "SELECT key, stage, event_count, fact_count, fact_head FROM company ORDER BY key")
    )


def in_incubator(db: Database, make_company: MakeCompany, key: str = "JM-0001") -> None:
    """A company that entered the incubator on its merits: registered, founded recently."""
    make_company("nursery", key=key, at=T, uscc=USCC, founded="2024-05-01")
    services.advance(db, key, actor=OWNER, at=datetime(2025, 3, 3, tzinfo=UTC))


# --- recording facts -----------------------------------------------------------------------


def test_every_kind_of_fact_is_a_chained_record_with_its_derived_row(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", at=T)
    services.record_founding(db, "JM-0001", founded_on="2024-05-01", actor=OWNER)
    services.record_qualification(
        db, "jm-0001", "high_tech", granted_on="2025-03-01", level="national",
        number="GR202542000123", evidence="https://example.org/cert.pdf", actor=OWNER,
    )  # fmt: skip
    services.record_qualification(db, "JM-0001", "tech_sme", granted_on="2025-04-10", actor=OWNER)
    services.revoke_qualification(
        db, "JM-0001", "tech_sme", revoked_on="2025-09-01", reason="misreported R&D", actor=OWNER
    )
    services.record_financing(
        db, "JM-0001", amount="6,000,000", on="2025-06-01", round_name="A",
        investor="湖北高投", actor=OWNER,
    )  # fmt: skip
    services.record_milestone(db, "JM-0001", "acquired", on="2025-12-01", actor=OWNER)
    services.record_figures(
        db, "JM-0001", year=2024, values={"revenue": "4000000", "employees": "30"}, actor=OWNER
    )
    services.record_figures(
        db, "JM-0001", year=2024, values={"revenue": "4500000", "ip_valid": "3"}, actor=OWNER,
        note="audited figures",
    )  # fmt: skip
    assert rows(db, "SELECT founded_on FROM company") == [("2024-05-01",)]
    assert rows(
        db,
        "SELECT seq, kind, level, number, granted_on, expires_on, revoked_on, revoke_reason "
        "FROM qualification ORDER BY seq",
    ) == [
        (3, "high_tech", "national", "GR202542000123", "2025-03-01", "2028-03-01", None, None),
        (4, "tech_sme", None, None, "2025-04-10", "2026-01-01", "2025-09-01", "misreported R&D"),
    ]  # fmt: skip
    assert rows(
        db, "SELECT seq, financed_on, amount, round_name, investor FROM financing_round"
    ) == [(6, "2025-06-01", 6_000_000, "A", "湖北高投")]
    assert rows(db, "SELECT seq, kind, achieved_on FROM milestone") == [
        (7, "acquired", "2025-12-01")
    ]
    assert rows(db, "SELECT year, revenue, employees, ip_valid, rd_spend FROM annual_figures") == [
        (2024, 4_500_000, 30, 3, None)
    ]
    kinds = [r.kind for r in services.records(db, "JM-0001")]
    assert kinds == [
        "profile", "founded", "qualification", "qualification", "revocation", "financing",
        "milestone", "figures", "figures",
    ]  # fmt: skip
    result = services.verify_audit(db)
    assert result.ok and result.facts == 9, str(result)


def test_facts_as_of_a_day_go_by_each_facts_own_date(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", at=T, uscc=USCC, founded="2024-05-01")
    services.record_qualification(db, "JM-0001", "high_tech", granted_on="2025-03-01", actor=OWNER)
    services.revoke_qualification(
        db, "JM-0001", "high_tech", revoked_on="2025-09-01", reason="revoked", actor=OWNER
    )
    services.record_financing(db, "JM-0001", amount=100, on="2025-06-01", actor=OWNER)
    services.record_figures(db, "JM-0001", year=2025, values={"revenue": 9}, actor=OWNER)
    early = services.facts(db, "JM-0001", as_of="2025-02-28").to_json()
    assert (early["founded_on"], early["qualifications"], early["financing"]) == (
        "2024-05-01", [], [],
    )  # fmt: skip
    assert early["figures"] == [{"year": 2025, "revenue": 9}]  # the year of the day
    summer = services.facts(db, "JM-0001", as_of="2025-07-01").to_json()
    (q,) = summer["qualifications"]
    assert (q["status"], q["revoked_on"], q["actor"], q["record"]) == ("valid", None, "tester", 3)
    assert summer["financing_total"] == 100
    autumn = services.facts(db, "JM-0001", as_of="2025-09-01").to_json()
    assert autumn["qualifications"][0]["status"] == "revoked"


def test_facts_may_be_recorded_for_an_exited_company_and_before_its_admission(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", at=T)
    services.exit_company(db, "JM-0001", reason="withdrew", actor=OWNER, at=T)
    services.record_financing(db, "JM-0001", amount=5, on="2020-01-01", actor=OWNER)
    services.record_figures(db, "JM-0001", year=2019, values={"revenue": 1}, actor=OWNER)
    assert services.facts(db, "JM-0001").facts.financing_total == 5
    assert services.verify_audit(db).ok


def test_a_refused_fact_writes_nothing(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001", at=T, founded="2024-05-01")
    before = counts(db)
    refusals = [
        lambda: services.record_qualification(
            db, "JM-0001", "unicorn", granted_on="2025-01-01", actor=OWNER
        ),
        lambda: services.record_financing(db, "JM-0001", amount=5, on="2024-04-30", actor=OWNER),
        lambda: services.record_figures(
            db, "JM-0001", year=2025, values={"employees": 3, "employees_phd": 4}, actor=OWNER
        ),
        lambda: services.revoke_qualification(
            db, "JM-0001", "high_tech", revoked_on="2025-01-01", reason="none", actor=OWNER
        ),
        lambda: services.record_milestone(db, "JM-0001", "listed", on="2999-01-01", actor=OWNER),
    ]
    for refuse in refusals:
        with pytest.raises(InvalidInput) as refused:
            refuse()
        assert str(refused.value).startswith("cannot record ")
        assert " for JM-0001: " in str(refused.value)
    with pytest.raises(UnknownCompany):
        services.record_milestone(db, "JM-9999", "listed", on="2025-01-01", actor=OWNER)
    assert counts(db) == before


def test_managers_record_facts_of_their_own_site_and_viewers_none(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", at=T, site="钟祥")
    own = Actor("wang", Role.MANAGER, "钟祥")
    services.record_financing(db, "JM-0001", amount=5, on="2025-01-01", actor=own)
    for other in (Actor("li", Role.MANAGER, "京山"), Actor("v", Role.VIEWER)):
        with pytest.raises(PermissionDenied):
            services.record_financing(db, "JM-0001", amount=5, on="2025-01-01", actor=other)
    assert [r.actor for r in services.records(db, "JM-0001")][-1] == "wang"


def test_a_founding_date_is_set_with_the_profile_and_recorded_once(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", at=T)
    view = services.set_profile(db, "JM-0001", founded="2024-05-01", uscc=USCC, actor=OWNER)
    assert (view.founded_on, view.uscc) == (date(2024, 5, 1), USCC)
    with pytest.raises(InvalidInput) as same:
        services.set_profile(db, "JM-0001", founded="2024-05-01", actor=OWNER)
    assert "it has these values already" in str(same.value)
    services.set_profile(db, "JM-0001", founded="2024-04-30", actor=OWNER)  # a correction
    assert services.show(db, "JM-0001").founded_on == date(2024, 4, 30)
    assert [r.kind for r in services.records(db, "JM-0001")] == [
        "profile", "profile", "founded", "founded",
    ]  # fmt: skip
    assert services.verify_audit(db).ok


# --- the append-only log and tampering -----------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE company_fact SET payload = '{}' WHERE kind = 'financing'",
    "DELETE FROM company_fact WHERE kind = 'financing'",
])  # fmt: skip
def test_the_database_refuses_to_change_or_delete_a_fact(
    db: Database, make_company: MakeCompany, statement: str
) -> None:
    make_company("seed", key="JM-0001", at=T)
    services.record_financing(db, "JM-0001", amount=5, on="2025-01-01", actor=OWNER)
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert services.verify_audit(db).ok


def drop_guards(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("DROP TRIGGER company_fact_no_update_delete ON company_fact")
            conn.exec_driver_sql("DROP TRIGGER stage_event_no_update_delete ON stage_event")
        else:
            for name in ("company_fact_no_update", "company_fact_no_delete",
                         "stage_event_no_update", "stage_event_no_delete"):  # fmt: skip
                conn.exec_driver_sql(f"DROP TRIGGER {name}")


def with_evidence(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001", at=T)
    make_company("seed", key="JM-0002", at=T)
    services.record_founding(db, "JM-0002", founded_on="2024-05-01", actor=OWNER)
    services.record_qualification(db, "JM-0002", "high_tech", granted_on="2025-03-01", actor=OWNER)
    services.revoke_qualification(
        db, "JM-0002", "high_tech", revoked_on="2025-09-01", reason="r", actor=OWNER
    )
    services.record_financing(db, "JM-0002", amount=600, on="2025-06-01", actor=OWNER)
    services.record_milestone(db, "JM-0002", "listed", on="2025-12-01", actor=OWNER)
    services.record_figures(db, "JM-0002", year=2024, values={"revenue": 7}, actor=OWNER)
    make_company("seed", key="JM-0003", at=T)
    assert services.verify_audit(db).ok


@pytest.mark.parametrize(
    ("statement", "finding"),
    [
        ("UPDATE company_fact SET payload = replace(payload, '600', '6000000') "
         "WHERE kind = 'financing'",
         "record #5 (id {id}, financing round) does not match its hash"),
        ("DELETE FROM company_fact WHERE kind = 'milestone'",
         "breaks the record chain"),
        ("UPDATE financing_round SET amount = 6000000",
         "the financing_round table's row of record #5 records amount 6000000, but its records "
         "give 600"),
        ("UPDATE qualification SET revoked_on = NULL",
         "the qualification table's row of record #3 records revoked_on (none), but its records "
         "give 2025-09-01"),
        ("UPDATE qualification SET expires_on = '2030-01-01'",
         "records expires_on 2030-01-01, but its records give 2028-03-01"),
        ("DELETE FROM milestone",
         "the milestone table has 0 rows for the company, its records give 1 (a row was deleted"),
        ("UPDATE annual_figures SET revenue = 70000000",
         "the annual_figures table's row for 2024 records revenue 70000000, but its records "
         "give 7"),
        ("UPDATE annual_figures SET rd_spend = 1",
         "records rd_spend 1, but its records give (none)"),
        ("UPDATE company SET founded_on = '2020-01-01' WHERE key = 'JM-0002'",
         "the company row records founded_on 2020-01-01, but its founding records give 2024-05-01"),
        ("UPDATE company SET founded_on = '2020-01-01' WHERE key = 'JM-0001'",
         "the company row records founded_on 2020-01-01, but its founding records give (none)"),
    ],
)  # fmt: skip
def test_tampering_with_a_fact_or_a_derived_row_is_found_and_named(
    db: Database, make_company: MakeCompany, statement: str, finding: str
) -> None:
    with_evidence(db, make_company)
    drop_guards(db)
    fact_id = rows(db, "SELECT id FROM company_fact WHERE kind = 'financing'")[0][0]
    with db.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    result = services.verify_audit(db)
    assert not result.ok and result.checked
    subject = "JM-0001" if "JM-0001" in statement else "JM-0002"
    assert str(result).startswith(f"FAILED: {subject}: "), str(result)
    assert finding.format(id=fact_id) in str(result), str(result)
    assert result.localised("zh").startswith(f"未通过：{subject}：")


def test_a_derived_row_added_for_a_company_without_that_fact_is_found(
    db: Database, make_company: MakeCompany
) -> None:
    with_evidence(db, make_company)
    company = rows(db, "SELECT id FROM company WHERE key = 'JM-0003'")[0][0]
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO financing_round (company_id, seq, financed_on, amount) "
            f"VALUES ({company}, 2, '2025-01-01', 9000000)"
        )
    result = services.verify_audit(db)
    assert not result.ok
    assert str(result).startswith("FAILED: JM-0003: the financing_round table has 1 rows")


def test_a_checkpoint_still_catches_a_removed_fact(
    db: Database, make_company: MakeCompany, tmp_path: object
) -> None:
    from pathlib import Path

    with_evidence(db, make_company)
    checkpoint = Path(str(tmp_path)) / "checkpoint.json"
    services.write_checkpoint(db, checkpoint)
    services.record_figures(db, "JM-0002", year=2025, values={"revenue": 8}, actor=OWNER)
    assert services.verify_audit(db, checkpoint=checkpoint).ok
    drop_guards(db)
    with db.engine.begin() as conn:  # a consistent rewrite: last record and its row gone
        company = rows(db, "SELECT id FROM company WHERE key = 'JM-0002'")[0][0]
        conn.exec_driver_sql(f"DELETE FROM company_fact WHERE company_id = {company} AND seq >= 7")
        conn.exec_driver_sql(f"DELETE FROM annual_figures WHERE company_id = {company}")
        head = rows(db, f"SELECT hash FROM company_fact WHERE company_id = {company} AND seq = 6")
        conn.exec_driver_sql(
            f"UPDATE company SET fact_count = 6, fact_head = '{head[0][0]}' WHERE id = {company}"
        )
    assert services.verify_audit(db).ok  # consistent without the anchor
    result = services.verify_audit(db, checkpoint=checkpoint)
    assert not result.ok and "JM-0002" in str(result) and "fewer than" in str(result)


# --- gates on moves ------------------------------------------------------------------------


def test_a_move_that_fails_its_gate_is_refused_and_writes_nothing(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("nursery", key="JM-0001", at=T)
    before = counts(db)
    with pytest.raises(GateRefused) as refused:
        services.advance(db, "JM-0001", actor=OWNER, seen="nursery")
    assert str(refused.value).startswith(
        "JM-0001 does not meet the gate into incubator (all of): registered (has a USCC) — no "
        "USCC; founded no more than 24 months before "
    )
    assert [r.criterion.id for r in refused.value.outcome.unmet] == [
        "registered", "founded_within_months",
    ]  # fmt: skip
    assert counts(db) == before


def test_the_gate_outcome_is_recorded_in_the_event_its_hash_and_the_history(
    db: Database, make_company: MakeCompany
) -> None:
    in_incubator(db, make_company)
    event = services.history(db, "JM-0001")[-1]
    assert event.gate == {
        "stage": "incubator", "mode": "all", "passed": True,
        "met": [{"id": "registered", "value": USCC},
                {"id": "founded_within_months", "months": 24, "value": "2024-05-01"}],
        "unmet": [], "override": None,
    }  # fmt: skip
    assert event.to_json()["gate"] == event.gate
    assert services.history(db, "JM-0001")[0].gate is None  # admit into nursery: no gate
    assert services.verify_audit(db).ok
    drop_guards(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE stage_event SET gate = replace(gate, '\"passed\":true', '\"passed\":false') "
            "WHERE seq = 2"
        )
    result = services.verify_audit(db)
    assert not result.ok and "JM-0001 event #2" in str(result)
    assert "does not match its hash" in str(result)


def test_an_override_lets_a_failed_gate_through_and_is_recorded(
    db: Database, make_company: MakeCompany
) -> None:
    in_incubator(db, make_company)
    with pytest.raises(InvalidInput) as short:
        services.advance(db, "JM-0001", actor=OWNER, override="too short")
    assert "at least 10 characters (9 given)" in str(short.value)
    with pytest.raises(PermissionDenied):
        services.advance(
            db, "JM-0001", actor=Actor("v", Role.VIEWER), override="the board decided so"
        )
    manager = Actor("wang", Role.MANAGER, "钟祥")
    event = services.advance(db, "JM-0001", actor=manager, override="  the board decided so ")
    assert event.to_stage == "accelerator" and event.gate is not None
    assert (event.gate["passed"], event.gate["override"]) == (False, "the board decided so")
    assert len(event.gate["unmet"]) == 4 and event.gate["met"] == []
    assert services.verify_audit(db).ok
    overridden = services.audit_log(db, overrides_only=True)
    assert [(e["company_key"], e["to_stage"]) for e in overridden] == [("JM-0001", "accelerator")]
    assert len(services.audit_log(db)) == 3


def test_an_override_is_not_recorded_when_the_gate_passes(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("nursery", key="JM-0001", at=T, uscc=USCC, founded="2024-05-01")
    event = services.advance(db, "JM-0001", actor=OWNER, at=T, override="just in case, really")
    assert event.gate is not None and event.gate["passed"] and event.gate["override"] is None
    assert services.audit_log(db, overrides_only=True) == []


def test_a_backdated_move_is_judged_on_the_facts_as_of_its_date(
    db: Database, make_company: MakeCompany
) -> None:
    in_incubator(db, make_company)
    services.record_qualification(db, "JM-0001", "high_tech", granted_on="2025-06-01", actor=OWNER)
    services.revoke_qualification(
        db, "JM-0001", "high_tech", revoked_on="2025-10-01", reason="revoked", actor=OWNER
    )
    # before the grant: refused; now: refused (revoked); in between: passes
    for day in ("2025-05-31", None):
        with pytest.raises(GateRefused):
            services.advance(db, "JM-0001", actor=OWNER, at=day)
    assert not services.gate_check(db, "JM-0001", at="2025-10-01").passed
    assert services.gate_check(db, "JM-0001", at="2025-09-30").passed
    event = services.advance(db, "JM-0001", actor=OWNER, at="2025-09-30")
    assert event.gate is not None and event.gate["met"][0]["id"] == "qualification"


def test_an_admission_into_a_gated_stage_passes_its_gate_or_takes_an_override(
    db: Database, make_company: MakeCompany
) -> None:
    before = counts(db)
    with pytest.raises(GateRefused):
        make_company("incubator", key="JM-0001", at=T)
    with pytest.raises(GateRefused):  # founded more than 24 months before the admission
        make_company("incubator", key="JM-0001", at=T, uscc=USCC, founded="2022-12-31")
    assert counts(db) == before
    make_company("incubator", key="JM-0001", at=T, uscc=USCC, founded="2023-01-06")
    assert services.history(db, "JM-0001")[0].gate["passed"] is True  # type: ignore[index]
    assert services.show(db, "JM-0001").founded_on == date(2023, 1, 6)
    make_company("industrial_park", key="JM-0002", at=T, override="moved here with its plant")
    gate = services.history(db, "JM-0002")[0].gate
    assert gate is not None and gate["override"] == "moved here with its plant"
    assert services.verify_audit(db).ok


def test_exits_and_ungated_steps_record_no_gate(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001", at=T)
    assert services.advance(db, "JM-0001", actor=OWNER, at=T).gate is None
    assert services.exit_company(db, "JM-0001", reason="failed", actor=OWNER, at=T).gate is None


def test_gate_check_answers_without_writing_and_refuses_where_no_advance_is_left(
    db: Database, make_company: MakeCompany
) -> None:
    in_incubator(db, make_company)
    make_company("seed", key="JM-0002", at=T)
    make_company("industrial_park", key="JM-0003", at=T, override="admitted at the top")
    before = counts(db)
    view = services.gate_check(db, "JM-0001")
    assert (view.stage, view.to, view.passed) == ("incubator", "accelerator", False)
    assert set(view.to_json()) == {"key", "stage", "to", "mode", "passed", "met", "unmet"}
    seed = services.gate_check(db, "JM-0002").to_json()
    assert (seed["to"], seed["mode"], seed["passed"]) == ("nursery", None, True)
    with pytest.raises(InvalidTransition) as top:
        services.gate_check(db, "JM-0003")
    assert "JM-0003 is in industrial_park; allowed: exit" in str(top.value)
    assert counts(db) == before
    checks = services.gate_checks(db, ["JM-0001", "JM-0002", "JM-0003", "JM-9"])
    assert {k: v.passed for k, v in checks.items()} == {"JM-0001": False, "JM-0002": True}


def test_a_history_import_is_not_gated(db: Database) -> None:
    csv = (
        "company_key,company_name,event,to_stage,effective_at\n"
        "JM-0001,A,admit,incubator,2024-01-01\n"
        "JM-0001,A,advance,accelerator,2024-06-01\n"
    )
    services.import_events(db, csv, actor=OWNER)
    assert [e.gate for e in services.history(db, "JM-0001")] == [None, None]
    assert services.verify_audit(db).ok


# --- the policy ----------------------------------------------------------------------------


def test_the_policy_is_the_default_until_an_admin_sets_another(
    db: Database, make_company: MakeCompany
) -> None:
    shown = services.policy_show(db)
    assert shown.default and [g["stage"] for g in shown.to_json()["gates"]] == [
        "incubator", "accelerator", "industrial_park",
    ]  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.policy_set(db, NO_GATES, actor=Actor("wang", Role.MANAGER, "钟祥"))
    with pytest.raises(PolicyError) as bad:
        services.policy_set(db, '{"gates": [{"stage": "moon"}]}', actor=OWNER, source="p.json")
    assert str(bad.value).startswith("p.json is not a valid gate policy: line 1 (gate 1): ")
    assert services.policy_show(db).default  # nothing stored
    lenient = {"gates": [{"stage": "incubator", "mode": "any",
                          "criteria": [{"id": "registered"}]}]}  # fmt: skip
    view = services.policy_set(db, lenient, actor=Actor("root", Role.ADMIN))
    assert not view.default and services.policy_show(db).changed_by == "root"
    assert json.loads(json.dumps(services.policy_show(db).to_json())) == lenient
    make_company("nursery", key="JM-0001", at=T, uscc=USCC)
    event = services.advance(db, "JM-0001", actor=OWNER, at=T)
    assert event.gate is not None and event.gate["mode"] == "any"
    assert services.advance(db, "JM-0001", actor=OWNER, at=T).gate is None  # no accelerator gate


def test_a_stored_policy_outlives_its_engine(db: Database) -> None:
    services.policy_set(db, NO_GATES, actor=OWNER)
    again = Database(db.url)
    try:
        assert services.policy_show(again).policy.gates == ()
    finally:
        again.dispose()


def test_the_record_log_lists_profile_changes_and_facts_newest_first(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", at=T, name="绿野生物")
    make_company("seed", key="JM-0002", at=T)
    services.record_financing(db, "JM-0001", amount=5, on="2025-01-01", actor=OWNER)
    services.record_milestone(db, "JM-0002", "listed", on="2025-02-01", actor=Actor("li"))
    log = services.record_log(db)
    assert [(r["company_key"], r["kind"], r["seq"]) for r in log] == [
        ("JM-0002", "milestone", 2), ("JM-0001", "financing", 2),
        ("JM-0002", "profile", 1), ("JM-0001", "profile", 1),
    ]  # fmt: skip
    assert log[0]["fields"] == {"kind": "listed", "on": "2025-02-01", "evidence": None}
    assert [r["kind"] for r in services.record_log(db, company="绿野")] == ["financing", "profile"]
    assert [r["company_key"] for r in services.record_log(db, actor="li")] == ["JM-0002"]
    assert [r["seq"] for r in services.record_log(db, kind="financing")] == [2]
