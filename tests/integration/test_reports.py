"""The Torch statistics (DESIGN §9) on hand-made histories at the year boundaries (an event
at exactly 1 January 00:00 UTC belongs to the new year), on SQLite and PostgreSQL, and a
randomized comparison of the counting indicators against a brute-force reference."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from incubator import reports, services
from incubator.stages import InvalidInput
from incubator.store import Database
from tests.conftest import OWNER

MakeCompany = Callable[..., services.CompanyView]
pytestmark = pytest.mark.ungated  # the report reads what happened; gates are tested elsewhere


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


JAN_1_2025 = at(2025, 1, 1)
JUST_BEFORE_2025 = JAN_1_2025 - timedelta(microseconds=1)


def site_row(report: reports.TorchReport, site: str) -> dict[str, Any]:
    (row,) = [r for r in report.sites if r["site"] == site]
    return row


@pytest.fixture
def boundary(db: Database, make_company: MakeCompany) -> Database:
    """Companies whose moves fall on and around 2025-01-01T00:00Z, at 钟祥 and 京山."""
    # A: into the incubator at exactly 2025-01-01T00:00Z: new in 2025, not incubated in 2024
    make_company("incubator", key="A", at=JAN_1_2025)
    # B: incubated since 2023; graduates at exactly 2025-01-01T00:00Z: still incubated at the
    # end of 2024, graduated in 2025
    make_company("incubator", key="B", at=at(2023, 5, 1))
    services.advance(db, "B", actor=OWNER, at=JAN_1_2025)
    # C: exits one microsecond before 2025: exited in 2024, not incubated at its end
    make_company("incubator", key="C", at=at(2023, 3, 1))
    services.exit_company(db, "C", reason="failed", actor=OWNER, at=JUST_BEFORE_2025)
    # D: in the incubator since 2019 (beyond the 48 months' limit), with facts
    make_company("incubator", key="D", at=at(2019, 1, 1), sector="organic food")
    # E: at 京山, graduated in 2024 with an override
    make_company("incubator", key="E", at=at(2022, 1, 1), site="京山")
    services.policy_set(db, {"gates": [{"stage": "accelerator", "mode": "any", "criteria": [
        {"id": "qualification", "kind": "high_tech"}]}]}, actor=OWNER)  # fmt: skip
    services.advance(db, "E", actor=OWNER, at=at(2024, 6, 1), override="graduation review 2024")
    services.policy_set(db, {"gates": []}, actor=OWNER)
    # F: at 京山, incubated since 2024-06-01, biomedicine (60 months' limit)
    make_company("incubator", key="F", at=at(2024, 6, 1), site="京山", sector="biomedicine")
    # facts of D and F
    services.record_qualification(db, "D", "high_tech", granted_on="2022-01-01", actor=OWNER)
    services.record_qualification(db, "D", "tech_sme", granted_on="2024-03-01", actor=OWNER)
    services.record_qualification(db, "F", "tech_sme", granted_on="2024-12-31", actor=OWNER)
    services.record_qualification(db, "F", "high_tech", granted_on="2025-01-01", actor=OWNER)
    services.record_financing(db, "D", amount=800_000, on="2024-12-31", actor=OWNER)
    services.record_financing(db, "F", amount=500_000, on="2025-01-01", actor=OWNER)
    services.record_figures(db, "D", year=2024, actor=OWNER, values={
        "revenue": 1_000_000, "employees": 10, "ip_valid": 3, "tech_contract_value": 250_000,
    })  # fmt: skip
    # a later record gives figures that do not agree with the first one's (the checks' case)
    services.record_figures(db, "D", year=2024, actor=OWNER,
                            values={"rd_spend": 1_200_000, "employees_phd": 12})  # fmt: skip
    services.record_figures(db, "B", year=2024, actor=OWNER, values={
        "revenue": 5_000_000, "rd_spend": 400_000, "employees": 30, "ip_valid": 0,
    })  # fmt: skip
    services.set_figures(db, "钟祥", year=2024, floor_area_m2=12_000, staff=9, actor=OWNER)
    return db


def test_a_year_is_half_open_and_year_end_is_just_before_the_next_year(boundary: Database) -> None:
    r2024 = reports.torch_report(boundary, 2024)
    zx, js = site_row(r2024, "钟祥"), site_row(r2024, "京山")
    assert (zx["incubated"], zx["new"], zx["graduated"], zx["exited"]) == (2, 0, 0, 1)  # B, D
    assert zx["graduated_total"] == 0
    assert (js["incubated"], js["new"], js["graduated"], js["graduated_total"]) == (1, 1, 1, 1)
    r2025 = reports.torch_report(boundary, 2025)
    zx25 = site_row(r2025, "钟祥")
    assert (zx25["incubated"], zx25["new"], zx25["graduated"], zx25["graduated_total"]) == (
        2, 1, 1, 1,  # A, D; A new; B graduated at 2025-01-01T00:00Z
    )  # fmt: skip
    r2023 = reports.torch_report(boundary, 2023)
    assert site_row(r2023, "钟祥")["incubated"] == 3  # B, C, D
    assert site_row(r2023, "钟祥")["new"] == 2


def test_qualifications_financing_and_figures_count_at_year_end(boundary: Database) -> None:
    report = reports.torch_report(boundary, 2024)
    zx, js, total = site_row(report, "钟祥"), site_row(report, "京山"), report.total
    assert (zx["high_tech"], zx["tech_sme"], zx["financed"], zx["ip_holders"]) == (1, 1, 1, 1)
    # F: tech_sme granted on 12-31 counts, high_tech and financing of 2025-01-01 do not
    assert (js["high_tech"], js["tech_sme"], js["financed"]) == (0, 1, 0)
    assert (zx["revenue"], zx["rd_spend"], zx["employees"]) == (6_000_000, 1_600_000, 40)
    assert zx["tech_contract_value"] == 250_000 and js["revenue"] == 0
    assert zx["overstayed"] == 1 and js["overstayed"] == 0
    assert zx["share_financed"] == 0.5 and js["share_financed"] == 0.0
    assert zx["floor_area_m2"] == 12_000 and zx["incubated_per_1000_m2"] == pytest.approx(2 / 12)
    assert js["floor_area_m2"] is None and js["incubated_per_1000_m2"] is None
    assert total["incubated"] == 3 and total["floor_area_m2"] == 12_000
    assert total["revenue"] == 6_000_000 and total["share_high_tech"] == pytest.approx(1 / 3)
    assert {r["site"] for r in report.sites} == {"高新区", "钟祥", "京山", "沙洋"}
    assert site_row(report, "沙洋")["incubated"] == 0 and site_row(report, "沙洋")["share_financed"] is None  # fmt: skip
    for key in reports.COUNTS + reports.SUMS:
        assert total[key] == sum(r[key] for r in report.sites), key


def test_the_checks_name_company_and_field(boundary: Database) -> None:
    report = reports.torch_report(boundary, 2024)
    found = {(c.check, c.key, c.field) for c in report.checks}
    assert found == {
        ("overstayed", "D", "stay"),
        ("phd_above_employees", "D", "employees_phd"),
        ("rd_above_revenue", "D", "rd_spend"),
        ("missing_figures", "F", "figures"),
    }
    doc = report.to_json()["checks"]
    assert {"check", "key", "name", "site", "field", "message"} <= set(doc[0])
    phd = next(c for c in report.checks if c.check == "phd_above_employees")
    assert phd.message.render("en") == "D: employees_phd 12 is above employees 10"
    assert phd.message.render("zh") == "D：博士 12 大于从业人员数 10"
    # B graduated in 2025 without a gate (gates off): a check of 2025; E had an override
    checks_2025 = {(c.check, c.key) for c in reports.torch_report(boundary, 2025).checks}
    assert ("graduated_without_gate", "B") in checks_2025
    (e,) = reports.torch_report(boundary, 2024).graduated
    assert e["key"] == "E" and e["override"] == "graduation review 2024" and e["criterion"] is None


def test_a_site_report_has_that_site_as_its_total_and_bad_input_is_refused(
    boundary: Database,
) -> None:
    report = reports.torch_report(boundary, 2024, site="京山")
    assert [r["site"] for r in report.sites] == ["京山"]
    assert report.total == {k: v for k, v in report.sites[0].items() if k != "site"}
    assert all(c.site == "京山" for c in report.checks)
    with pytest.raises(InvalidInput, match="unknown site '宜昌'; known sites"):
        reports.torch_report(boundary, 2024, site="宜昌")
    with pytest.raises(InvalidInput, match="year 1989 is out of range"):
        reports.torch_report(boundary, 1989)
    with pytest.raises(InvalidInput, match="is out of range"):
        reports.torch_report(boundary, date.today().year + 2)


def test_a_graduation_through_a_met_gate_names_its_criterion(
    db: Database, make_company: MakeCompany
) -> None:
    services.policy_set(db, {"gates": [{"stage": "accelerator", "mode": "any", "criteria": [
        {"id": "qualification", "kind": "high_tech"},
        {"id": "financing_over", "amount": 5_000_000}]}]}, actor=OWNER)  # fmt: skip
    make_company("incubator", key="G", at=at(2023, 1, 1))
    services.record_qualification(db, "G", "high_tech", granted_on="2024-01-01", actor=OWNER)
    services.advance(db, "G", actor=OWNER, at=at(2024, 7, 1))
    report = reports.torch_report(db, 2024)
    assert report.graduated[0]["criterion"] == "qualification"
    assert not [c for c in report.checks if c.check == "graduated_without_gate"]


# --- randomized comparison with a brute-force reference --------------------------------------

YEARS = (2021, 2022, 2023)
#: Moments that hit the year boundaries exactly, and others.
MOMENTS = sorted(
    {at(y, 1, 1) for y in (2020, *YEARS, 2024)}
    | {at(y, 1, 1) - timedelta(microseconds=1) for y in (*YEARS, 2024)}
    | {at(y, m, 15, 12) for y in (2020, *YEARS) for m in (3, 7, 11)}
)
LADDER = ("seed", "nursery", "incubator", "accelerator", "industrial_park")


def brute_force(histories: dict[str, tuple[str, list[tuple[str, str, datetime]]]], year: int,
                site: str) -> dict[str, int]:  # fmt: skip
    """The counting indicators straight from each company's events (kind, stage entered,
    time), with no spells and no SQL."""
    start, end = at(year, 1, 1), at(year + 1, 1, 1)
    found = dict.fromkeys(("incubated", "new", "graduated", "graduated_total", "exited"), 0)
    for where, events in histories.values():
        if where != site:
            continue
        stage = None
        for kind, to, moment in events:
            leaving_incubator = stage == "incubator"
            if to == "incubator" and start <= moment < end:
                found["new"] += 1
            if leaving_incubator and kind == "advance":
                found["graduated"] += start <= moment < end
                found["graduated_total"] += moment < end
            if leaving_incubator and kind == "exit":
                found["exited"] += start <= moment < end
            if moment < end:
                stage = to
        found["incubated"] += stage == "incubator"
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counting_indicators_match_a_brute_force_reference(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    histories: dict[str, tuple[str, list[tuple[str, str, datetime]]]] = {}
    for n in range(40):
        key, site = f"R-{n:03d}", rng.choice(["钟祥", "京山"])
        moments = sorted(rng.sample(MOMENTS, rng.randint(1, 4)))
        stage = rng.choice(LADDER[:3])
        events = [("admit", stage, moments[0])]
        services.admit(db, key, name=key, stage=stage, actor=OWNER, at=moments[0], site=site)
        for moment in moments[1:]:
            if stage == "exited":
                break
            if stage != "industrial_park" and rng.random() < 0.7:
                stage = LADDER[LADDER.index(stage) + 1]
                services.advance(db, key, actor=OWNER, at=moment)
                events.append(("advance", stage, moment))
            else:
                stage = "exited"
                services.exit_company(db, key, reason="failed", actor=OWNER, at=moment)
                events.append(("exit", "exited", moment))
        histories[key] = (site, events)
    for year in YEARS:
        report = reports.torch_report(db, year)
        for site in ("钟祥", "京山"):
            row = site_row(report, site)
            expected = brute_force(histories, year, site)
            assert {k: row[k] for k in expected} == expected, (year, site)
