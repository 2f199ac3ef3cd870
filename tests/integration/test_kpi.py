"""The city's targets and KPIs (DESIGN §9), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from incubator import reports, services
from incubator.access import Actor, Role
from incubator.stages import InvalidInput, PermissionDenied
from incubator.store import Database
from tests.conftest import OWNER

MakeCompany = Callable[..., services.CompanyView]
pytestmark = pytest.mark.ungated


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def rows(db: Database, year: int) -> dict[str, tuple[int | None, int]]:
    doc = reports.kpi(db, year)
    assert doc["year"] == year and [r["metric"] for r in doc["rows"]] == list(reports.METRICS)
    return {r["metric"]: (r["target"], r["actual"]) for r in doc["rows"]}


def test_targets_are_set_replaced_listed_and_recorded(db: Database) -> None:
    reports.set_target(db, "high_tech", 360, year=2021, actor=OWNER)
    reports.set_target(db, "tech_contract_value", "3,500,000,000", year=2021, actor=OWNER)
    reports.set_target(db, "High_Tech", 400, year=2021, actor=Actor("wang", Role.ADMIN))
    listed = reports.list_targets(db)
    assert [(t.metric, t.year, t.value, t.changed_by) for t in listed] == [
        ("high_tech", 2021, 400, "wang"), ("tech_contract_value", 2021, 3_500_000_000, "tester"),
    ]  # fmt: skip
    assert reports.list_targets(db, year=2022) == []
    with db.unit() as uow:
        records = uow.registry_records("target:high_tech:2021")
    assert [(r["kind"], r["actor"], r["payload"]) for r in records] == [
        ("target", "tester", '{"value": 360}'), ("target", "wang", '{"value": 400}'),
    ]  # fmt: skip
    assert rows(db, 2021)["high_tech"][0] == 400 and rows(db, 2021)["specialized"][0] is None


@pytest.mark.parametrize(
    ("metric", "value", "year", "message"),
    [
        ("patents", 3, 2024, "unknown metric 'patents'; allowed: high_tech, tech_sme"),
        ("high_tech", -1, 2024, "cannot be negative"),
        ("high_tech", "many", 2024, "is not a whole number"),
        ("high_tech", 1, 1989, "year 1989 is out of range"),
        ("high_tech", 1, datetime.now(UTC).year + 2, "is out of range"),
    ],
)
def test_bad_targets_are_refused_and_write_nothing(
    db: Database, metric: str, value: object, year: int, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        reports.set_target(db, metric, value, year=year, actor=OWNER)  # type: ignore[arg-type]
    assert reports.list_targets(db) == []


def test_only_admins_set_targets(db: Database) -> None:
    with pytest.raises(PermissionDenied, match="only admins"):
        reports.set_target(db, "high_tech", 1, year=2024, actor=Actor("li", Role.MANAGER))
    with pytest.raises(InvalidInput, match="year 1989 is out of range"):
        reports.kpi(db, 1989)


def test_each_kpi_counts_as_defined(db: Database, make_company: MakeCompany) -> None:
    for key in ("A", "B", "C", "D"):
        make_company("incubator", key=key, at=at(2022, 1, 1))
    # high_tech valid on 2024-12-31: A (2022-06-01 + 3 years); B's expired 2024-12-31 (not
    # valid that day); C's valid but C exited in 2024; D's granted 2025
    services.record_qualification(db, "A", "high_tech", granted_on="2022-06-01", actor=OWNER)
    services.record_qualification(db, "B", "high_tech", granted_on="2021-12-31", actor=OWNER)
    services.record_qualification(db, "C", "high_tech", granted_on="2023-01-01", actor=OWNER)
    services.record_qualification(db, "D", "high_tech", granted_on="2025-01-01", actor=OWNER)
    services.exit_company(db, "C", reason="relocated", actor=OWNER, at=at(2024, 12, 31, 23))
    # tech_sme granted in 2024: A and B; B's revoked on 2024-12-31 does not count; C's of 2023
    services.record_qualification(db, "A", "tech_sme", granted_on="2024-03-01", actor=OWNER)
    services.record_qualification(db, "B", "tech_sme", granted_on="2024-01-01", actor=OWNER)
    services.revoke_qualification(db, "B", "tech_sme", revoked_on="2024-12-31",
                                  reason="false declaration", actor=OWNER)  # fmt: skip
    services.record_qualification(db, "C", "tech_sme", granted_on="2023-05-01", actor=OWNER)
    services.record_qualification(db, "D", "hidden_champion", granted_on="2024-05-01",
                                  actor=OWNER)  # fmt: skip
    services.record_qualification(db, "A", "little_giant", granted_on="2024-12-31", actor=OWNER)
    # figures of 2024 (all companies, exited or not) and of 2023
    services.record_figures(
        db,
        "A",
        year=2024,
        actor=OWNER,
        values={"tech_contracts": 3, "tech_contract_value": 1_000_000},
    )
    services.record_figures(
        db,
        "C",
        year=2024,
        actor=OWNER,
        values={"tech_contracts": 2, "tech_contract_value": 500_000},
    )
    services.record_figures(db, "B", year=2023, actor=OWNER, values={"tech_contracts": 9})
    # graduations: A at exactly 2025-01-01T00:00Z (2025), D on 2024-12-31
    services.advance(db, "A", actor=OWNER, at=at(2025, 1, 1))
    services.advance(db, "D", actor=OWNER, at=at(2024, 12, 31, 12))  # fmt: skip
    reports.set_target(db, "graduated", 2, year=2024, actor=OWNER)
    found = rows(db, 2024)
    assert found == {
        "high_tech": (None, 1),
        "tech_sme": (None, 1),
        "hidden_champion": (None, 1),
        "little_giant": (None, 1),
        "specialized": (None, 0),
        "achievements": (None, 5),
        "tech_contract_value": (None, 1_500_000),
        "graduated": (2, 1),
    }
    assert rows(db, 2025)["graduated"] == (None, 1)
    assert rows(db, 2025)["high_tech"] == (None, 1)  # D (A's expired on 2025-06-01)
    assert rows(db, 2023)["tech_sme"] == (None, 1) and rows(db, 2023)["achievements"] == (None, 9)
