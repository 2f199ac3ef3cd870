"""The evidence rules (incubator/evidence.py, DESIGN §8): every criterion on its boundaries,
validity windows, facts as of a day, the records a person may give, and gates in the
machine. Pure: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from incubator.evidence import (
    DEFAULT_POLICY,
    AnnualFigures,
    BadRecord,
    CompanyFacts,
    Evidence,
    FinancingOver,
    FinancingRound,
    FoundedWithinMonths,
    Gate,
    GateMode,
    GateRefused,
    HasQualification,
    Milestone,
    MilestoneKind,
    MilestoneReached,
    Policy,
    Qualification,
    QualificationKind,
    Registered,
    RevenueLastYearAtLeast,
    RevenueTwoYearsOver,
    add_months,
    clean_override,
    evaluate,
    fold,
    new_figures,
    new_financing,
    new_milestone,
    new_qualification,
    new_revocation,
    parse_whole,
)
from incubator.stages import (
    CompanyState,
    EventKind,
    InvalidInput,
    InvalidTransition,
    Stage,
    driving,
)

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
D = date(2026, 11, 27)
HIGH_TECH = QualificationKind.HIGH_TECH


def facts(**given: Any) -> CompanyFacts:
    return CompanyFacts("JM-0042", **given)


def rounds(*amounts_on: tuple[int, date]) -> tuple[FinancingRound, ...]:
    return tuple(FinancingRound(i, on, amount) for i, (amount, on) in enumerate(amounts_on, 1))


def revenue(**by_year: int | None) -> tuple[AnnualFigures, ...]:
    return tuple(
        AnnualFigures(int(y[1:]), {} if v is None else {"revenue": v})
        for y, v in sorted(by_year.items())
    )


def grant(kind: QualificationKind, granted: date, **more: Any) -> Qualification:
    expires = more.pop("expires_on", kind.default_expiry(granted))
    return Qualification(1, kind, granted, expires, **more)


def met(criterion: Any, company: CompanyFacts, day: date = D) -> bool:
    """Whether `criterion` holds for the company on `day` (a one-criterion gate)."""
    return evaluate(Gate(Stage.ACCELERATOR, GateMode.ALL, (criterion,)), company, day).passed


# --- financing -----------------------------------------------------------------------------


def test_financing_of_exactly_five_million_does_not_pass() -> None:
    five = rounds((3_000_000, date(2025, 1, 1)), (2_000_000, date(2026, 1, 1)))
    assert not met(FinancingOver(5_000_000), facts(financing=five))
    assert met(FinancingOver(5_000_000), facts(financing=(*five, *rounds((1, D)))))


def test_financing_counts_rounds_dated_up_to_the_move_day_only() -> None:
    later = rounds((6_000_000, date(2026, 11, 28)))
    assert not met(FinancingOver(5_000_000), facts(financing=later))
    on_the_day = rounds((6_000_000, D))
    assert met(FinancingOver(5_000_000), facts(financing=on_the_day))


# --- revenue -------------------------------------------------------------------------------


def test_revenue_of_two_years_must_sum_to_more_than_the_amount() -> None:
    exactly = facts(figures=revenue(y2024=4_000_000, y2025=6_000_000))
    assert not met(RevenueTwoYearsOver(10_000_000), exactly)
    assert met(
        RevenueTwoYearsOver(10_000_000), facts(figures=revenue(y2024=4_000_001, y2025=6_000_000))
    )


def test_the_current_incomplete_year_does_not_count() -> None:
    this_year = facts(figures=revenue(y2025=5_000_000, y2026=9_000_000))
    assert not met(RevenueTwoYearsOver(10_000_000), this_year)  # 2026 is D's year
    assert met(RevenueTwoYearsOver(10_000_000), this_year, date(2027, 1, 1))
    assert not met(RevenueLastYearAtLeast(5_000_000), facts(figures=revenue(y2026=9_000_000)))


def test_the_pair_may_be_any_two_consecutive_completed_years() -> None:
    old = facts(figures=revenue(y2019=6_000_000, y2020=6_000_000, y2024=1, y2025=1))
    result = evaluate(
        Gate(Stage.ACCELERATOR, GateMode.ANY, (RevenueTwoYearsOver(10_000_000),)), old, D
    )
    assert result.passed
    assert result.met[0].to_json() == {
        "id": "revenue_two_years_over", "amount": 10_000_000, "value": 12_000_000,
        "years": [2019, 2020],
    }  # fmt: skip


def test_a_year_without_figures_has_no_revenue() -> None:
    gap = facts(figures=revenue(y2022=6_000_000, y2024=6_000_000))  # 2023 has no figures
    assert not met(RevenueTwoYearsOver(10_000_000), gap)
    no_revenue_given = facts(figures=revenue(y2024=6_000_000, y2025=None))
    assert not met(RevenueTwoYearsOver(10_000_000), no_revenue_given)
    # one year alone above the amount: its neighbours have no revenue, so the pair's sum is it
    assert met(RevenueTwoYearsOver(10_000_000), facts(figures=revenue(y2025=10_000_001)))
    assert not met(RevenueTwoYearsOver(10_000_000), facts())


def test_revenue_of_the_last_completed_year_may_equal_the_amount() -> None:
    assert met(RevenueLastYearAtLeast(20_000_000), facts(figures=revenue(y2025=20_000_000)))
    assert not met(RevenueLastYearAtLeast(20_000_000), facts(figures=revenue(y2025=19_999_999)))
    assert not met(RevenueLastYearAtLeast(20_000_000), facts(figures=revenue(y2024=90_000_000)))


# --- qualifications ------------------------------------------------------------------------


def test_the_expiry_day_is_exclusive() -> None:
    cert = grant(HIGH_TECH, date(2023, 11, 27))
    assert cert.expires_on == date(2026, 11, 27)
    assert met(HasQualification(HIGH_TECH), facts(qualifications=(cert,)), date(2026, 11, 26))
    assert not met(HasQualification(HIGH_TECH), facts(qualifications=(cert,)), date(2026, 11, 27))


def test_a_revocation_on_the_move_day_blocks_and_one_after_it_does_not() -> None:
    on_the_day = grant(HIGH_TECH, date(2025, 3, 1), revoked_on=D, revoke_reason="fraud")
    assert not met(HasQualification(HIGH_TECH), facts(qualifications=(on_the_day,)))
    next_day = grant(HIGH_TECH, date(2025, 3, 1), revoked_on=date(2026, 11, 28))
    assert met(HasQualification(HIGH_TECH), facts(qualifications=(next_day,)))


def test_a_tech_sme_registration_is_valid_on_31_december_not_on_1_january() -> None:
    sme = grant(QualificationKind.TECH_SME, date(2025, 4, 10))
    assert sme.expires_on == date(2026, 1, 1)
    criterion = HasQualification(QualificationKind.TECH_SME)
    assert met(criterion, facts(qualifications=(sme,)), date(2025, 12, 31))
    assert not met(criterion, facts(qualifications=(sme,)), date(2026, 1, 1))


def test_default_validity_by_kind() -> None:
    granted = date(2024, 2, 29)
    assert QualificationKind.HIGH_TECH.default_expiry(granted) == date(2027, 2, 28)
    assert QualificationKind.SPECIALIZED.default_expiry(granted) == date(2027, 2, 28)
    assert QualificationKind.LITTLE_GIANT.default_expiry(granted) == date(2027, 2, 28)
    assert QualificationKind.HIDDEN_CHAMPION.default_expiry(granted) == date(2027, 2, 28)
    assert QualificationKind.GAZELLE.default_expiry(granted) == date(2025, 2, 28)
    assert QualificationKind.TECH_SME.default_expiry(granted) == date(2025, 1, 1)


def test_a_grant_dated_after_the_move_is_not_known_on_the_move_day() -> None:
    later = grant(HIGH_TECH, date(2026, 11, 28))
    assert not met(HasQualification(HIGH_TECH), facts(qualifications=(later,)))


def test_the_unmet_figure_says_whether_the_certificate_expired_or_was_revoked() -> None:
    gate = Gate(Stage.ACCELERATOR, GateMode.ANY, (HasQualification(HIGH_TECH),))
    expired = grant(HIGH_TECH, date(2022, 1, 10))
    outcome = evaluate(gate, facts(qualifications=(expired,)), D)
    assert str(outcome.unmet_messages()[0]) == (
        "high-tech certificate valid on 2026-11-27 — expired 2025-01-10"
    )
    revoked = grant(HIGH_TECH, date(2025, 1, 10), revoked_on=date(2026, 2, 1))
    outcome = evaluate(gate, facts(qualifications=(revoked,)), D)
    assert str(outcome.unmet_messages()[0]).endswith("— revoked 2026-02-01")
    assert outcome.unmet[0].to_json()["value"]["revoked_on"] == "2026-02-01"


# --- founding date, registration, milestones -----------------------------------------------


def test_founded_exactly_24_months_before_passes_and_one_day_more_fails() -> None:
    founded = date(2024, 11, 27)
    criterion = FoundedWithinMonths(24)
    assert met(criterion, facts(founded_on=founded), date(2026, 11, 27))
    assert not met(criterion, facts(founded_on=founded), date(2026, 11, 28))
    assert not met(criterion, facts(), D)  # unknown founding date: unmet


def test_months_are_calendar_months_and_a_missing_day_is_the_months_last() -> None:
    assert add_months(date(2024, 2, 29), 24) == date(2026, 2, 28)
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert met(FoundedWithinMonths(24), facts(founded_on=date(2024, 2, 29)), date(2026, 2, 28))
    assert not met(FoundedWithinMonths(24), facts(founded_on=date(2024, 2, 29)), date(2026, 3, 1))


def test_registered_means_a_uscc() -> None:
    assert met(Registered(), facts(uscc="91420881MA4R0QMA42"))
    assert not met(Registered(), facts())


def test_a_milestone_counts_from_its_date_and_only_of_the_kinds_asked() -> None:
    listed = (Milestone(1, MilestoneKind.LISTED, D),)
    assert met(MilestoneReached(), facts(milestones=listed))
    assert not met(MilestoneReached(), facts(milestones=listed), date(2026, 11, 26))
    assert not met(MilestoneReached((MilestoneKind.ACQUIRED,)), facts(milestones=listed))


# --- gates ---------------------------------------------------------------------------------


def test_every_criterion_is_evaluated_and_listed_also_in_any_mode() -> None:
    gate = DEFAULT_POLICY.gate_into("accelerator")
    assert gate is not None
    company = facts(
        qualifications=(grant(HIGH_TECH, date(2025, 3, 1)),),
        financing=rounds((1_200_000, date(2025, 6, 1))),
    )
    outcome = evaluate(gate, company, D)
    assert outcome.passed and outcome.mode is GateMode.ANY
    assert [r.criterion.id for r in outcome.met] == ["qualification"]
    assert [r.criterion.id for r in outcome.unmet] == [
        "financing_over", "revenue_two_years_over", "milestone",
    ]  # fmt: skip
    assert outcome.to_json()["unmet"][0] == {
        "id": "financing_over", "amount": 5_000_000, "value": 1_200_000,
    }  # fmt: skip


def test_an_all_gate_needs_every_criterion() -> None:
    gate = DEFAULT_POLICY.gate_into("incubator")
    assert gate is not None and gate.mode is GateMode.ALL
    registered_only = facts(uscc="91420881MA4R0QMA42")
    assert not evaluate(gate, registered_only, D).passed
    both = facts(uscc="91420881MA4R0QMA42", founded_on=date(2025, 1, 1))
    assert evaluate(gate, both, D).passed


def test_the_refusal_names_each_unmet_criterion_with_the_companys_figure() -> None:
    gate = DEFAULT_POLICY.gate_into("accelerator")
    assert gate is not None
    company = facts(financing=rounds((1_200_000, date(2025, 6, 1))))
    refused = GateRefused("JM-0042", evaluate(gate, company, D))
    assert str(refused).startswith(
        "JM-0042 does not meet the gate into accelerator (any of): high-tech certificate valid "
        "on 2026-11-27 — none; financing > 5,000,000 — 1,200,000; revenue of two consecutive "
        "completed years > 10,000,000 — no figures; listed or acquired by 2026-11-27 — none; "
    )
    assert refused.code == "gate.refused" and refused.outcome.unmet[1].check.value == 1_200_000
    assert refused.render("zh").startswith(
        "JM-0042 不满足进入加速器的门槛（满足其一即可）：高新技术企业资质在 2026-11-27 有效——无；"
        "融资总额 > 5,000,000 元——1,200,000 元；"
    )


def test_the_machine_enforces_the_gate_given_evidence_and_not_without() -> None:
    with driving(CompanyState("JM-0042", "incubator")) as life:
        assert life.fire(EventKind.ADVANCE) == "accelerator"  # no evidence: ungated (imports)
    evidence = Evidence(DEFAULT_POLICY, D, facts())
    with (
        driving(CompanyState("JM-0042", "incubator")) as life,
        pytest.raises(GateRefused) as refused,
    ):
        life.fire(EventKind.ADVANCE, evidence=evidence)
    assert refused.value.outcome.stage is Stage.ACCELERATOR
    overridden = Evidence(DEFAULT_POLICY, D, facts(), override="board decision 2026-11")
    with driving(CompanyState("JM-0042", "incubator")) as life:
        assert life.fire(EventKind.ADVANCE, evidence=overridden) == "accelerator"
    recorded = overridden.recorded()
    assert recorded is not None
    assert (recorded["passed"], recorded["override"]) == (False, "board decision 2026-11")


def test_an_ungated_step_records_no_gate_and_loads_no_facts() -> None:
    def never() -> CompanyFacts:
        raise AssertionError("facts were read for an ungated step")

    evidence = Evidence(DEFAULT_POLICY, D, never)
    with driving(CompanyState("JM-0042", "seed")) as life:
        assert life.fire(EventKind.ADVANCE, evidence=evidence) == "nursery"
    assert evidence.recorded() is None
    with driving(CompanyState("JM-0042", "incubator")) as life:
        assert life.fire(EventKind.EXIT, evidence=evidence) == "exited"  # exit: never gated


def test_an_admit_passes_the_gate_of_the_stage_it_enters() -> None:
    evidence = Evidence(DEFAULT_POLICY, D, facts())
    with driving(CompanyState("JM-0042")) as life, pytest.raises(GateRefused):
        life.fire(EventKind.ADMIT, "incubator", evidence=evidence)
    with driving(CompanyState("JM-0042")) as life:
        assert life.fire(EventKind.ADMIT, "nursery", evidence=evidence) == "nursery"
    with (
        driving(CompanyState("JM-0042", "industrial_park")) as life,
        pytest.raises(InvalidTransition),
    ):
        life.fire(EventKind.ADVANCE, evidence=evidence)  # the ladder refuses first


def test_no_gates_lets_every_move_through() -> None:
    evidence = Evidence(Policy(()), D, facts())
    with driving(CompanyState("JM-0042", "incubator")) as life:
        assert life.fire(EventKind.ADVANCE, evidence=evidence) == "accelerator"
    assert evidence.recorded() is None


# --- records a person gives ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: new_qualification("genius", granted_on="2025-01-01", now=NOW),
         "unknown qualification kind 'genius'; allowed: tech_sme, high_tech"),
        (lambda: new_qualification("high_tech", granted_on="2025-01-01", level="galactic", now=NOW),
         "unknown level 'galactic'; allowed: national, provincial, municipal"),
        (lambda: new_qualification("high_tech", granted_on="2025-01-01", expires_on="2024-12-31",
                                   now=NOW),
         "the expiry date 2024-12-31 is not after the grant date 2025-01-01"),
        (lambda: new_qualification("high_tech", granted_on="2026-11-29", now=NOW),
         "the grant date 2026-11-29 is after today"),
        (lambda: new_qualification("high_tech", granted_on="2025/01/01", now=NOW),
         "cannot read '2025/01/01' as the grant date"),
        (lambda: new_financing(facts(), amount="-5", on="2025-01-01", now=NOW),
         "the amount cannot be negative (-5)"),
        (lambda: new_financing(facts(), amount="1.5", on="2025-01-01", now=NOW),
         "the amount '1.5' is not a whole number"),
        (lambda: new_financing(facts(), amount="0", on="2025-01-01", now=NOW),
         "the amount must be above zero (0)"),
        (lambda: new_financing(facts(), amount="100", on="2027-01-01", now=NOW),
         "the financing date 2027-01-01 is after today"),
        (lambda: new_financing(facts(founded_on=date(2025, 3, 1)), amount="100",
                               on="2025-02-28", now=NOW),
         "the financing date 2025-02-28 is before the company was founded (2025-03-01)"),
        (lambda: new_milestone(facts(founded_on=date(2025, 3, 1)), "listed", on="2024-01-01",
                               now=NOW),
         "the milestone date 2024-01-01 is before the company was founded (2025-03-01)"),
        (lambda: new_milestone(facts(), "bankrupt", on="2024-01-01", now=NOW),
         "unknown milestone 'bankrupt'; allowed: listed, acquired"),
        (lambda: new_figures(year=2027, values={"revenue": "1"}, now=NOW),
         "figures for 2027 lie in the future; allowed: years up to 2026"),
        (lambda: new_figures(year=2025, values={"employees": "-1"}, now=NOW),
         "employees cannot be negative (-1)"),
        (lambda: new_figures(year=2025, values={"employees": "10", "employees_phd": "11"},
                             now=NOW),
         "employees_phd (11) cannot exceed employees (10) in the same record"),
        (lambda: new_figures(year=2025, values={"employees": "10", "employees_college": "12"},
                             now=NOW),
         "employees_college (12) cannot exceed employees (10) in the same record"),
        (lambda: new_figures(year=2025, values={}, now=NOW), "no figures given for 2025"),
        (lambda: new_revocation(facts(), "high_tech", revoked_on="2025-01-01", reason="x",
                                now=NOW),
         "JM-0042 has no high_tech qualification to revoke"),
        (lambda: new_revocation(
            facts(qualifications=(grant(HIGH_TECH, date(2024, 1, 1), revoked_on=date(2025, 1, 1)),)),
            "high_tech", revoked_on="2025-06-01", reason="again", now=NOW),
         "every high_tech qualification of JM-0042 is revoked already"),
        (lambda: new_revocation(
            facts(qualifications=(grant(HIGH_TECH, date(2024, 1, 1)),)),
            "high_tech", revoked_on="2023-06-01", reason="early", now=NOW),
         "the revocation date 2023-06-01 is before the high_tech grant of 2024-01-01"),
        (lambda: clean_override("too short"),
         "an override needs a reason of at least 10 characters (9 given)"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_what_is_wrong(make: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make()
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert refused.value.render("zh") != str(refused.value)


def test_net_profit_may_be_a_loss_and_numbers_may_be_grouped() -> None:
    payload = new_figures(
        year="2025", values={"net_profit": "-300,000", "revenue": "1_200_000"}, now=NOW
    )
    assert payload["values"] == {"revenue": 1_200_000, "net_profit": -300_000}
    assert parse_whole(" 12,000,000 ", "field.amount") == 12_000_000
    with pytest.raises(InvalidInput):
        parse_whole("12,00,000", "field.amount")
    with pytest.raises(InvalidInput):
        parse_whole(True, "field.amount")  # type: ignore[arg-type]


def test_revoke_applies_to_the_latest_unrevoked_grant_of_that_kind() -> None:
    older = Qualification(3, HIGH_TECH, date(2020, 1, 1), date(2023, 1, 1))
    newer = Qualification(5, HIGH_TECH, date(2023, 1, 1), date(2026, 1, 1))
    other = Qualification(7, QualificationKind.GAZELLE, date(2024, 1, 1), date(2025, 1, 1))
    company = facts(qualifications=(newer, older, other))
    payload = new_revocation(company, "high_tech", revoked_on="2024-05-01", reason="r", now=NOW)
    assert payload["grant"] == 5


# --- reading records back ------------------------------------------------------------------


def test_a_later_figures_record_replaces_only_the_fields_it_gives() -> None:
    company = fold(
        "JM-0042",
        None,
        [
            (2, "figures", new_figures(year=2025, values={"revenue": 5, "employees": 9}, now=NOW)),
            (3, "figures", new_figures(year=2025, values={"revenue": 7}, now=NOW)),
            (4, "figures", new_figures(year=2024, values={"ip_valid": 3}, now=NOW)),
        ],
    )
    assert [(f.year, dict(f.values)) for f in company.figures] == [
        (2024, {"ip_valid": 3}), (2025, {"revenue": 7, "employees": 9}),
    ]  # fmt: skip


def test_a_revocation_record_applies_to_the_grant_it_names() -> None:
    granted = new_qualification("high_tech", granted_on="2024-05-01", now=NOW)
    company = fold("JM-0042", None, [(2, "qualification", granted)])
    revocation = new_revocation(company, "high_tech", revoked_on="2025-01-02", reason="r", now=NOW)
    company = fold("JM-0042", None, [(2, "qualification", granted), (3, "revocation", revocation)])
    (q,) = company.qualifications
    assert (q.revoked_on, q.revoke_reason, q.revoke_seq) == (date(2025, 1, 2), "r", 3)
    assert company.as_of(date(2025, 1, 1)).qualifications[0].revoked_on is None  # not yet known


@pytest.mark.parametrize(
    "record",
    [
        (2, "figures", {"year": 2025, "values": {"revenue": "lots"}, "evidence": None}),
        (2, "revocation", {"kind": "high_tech", "grant": 9, "revoked_on": "2025-01-01",
                           "reason": "r", "evidence": None}),
        (2, "milestone", {"kind": "listed", "on": "someday", "evidence": None}),
        (2, "founded", {"founded_on": "2025-01-01"}),
        (2, "horoscope", {}),
    ],
)  # fmt: skip
def test_a_record_this_version_does_not_write_is_bad(record: tuple[int, str, Any]) -> None:
    with pytest.raises(BadRecord) as bad:
        fold("JM-0042", None, [record])
    assert bad.value.seq == 2


def test_only_ascii_digits_make_a_number_or_a_date() -> None:
    with pytest.raises(InvalidInput):
        parse_whole("١٢٣", "field.amount")  # Arabic-Indic digits
    with pytest.raises(InvalidInput) as day:
        new_financing(facts(), amount=5, on="２０２５-０１-０１", now=NOW)
    assert "cannot read" in str(day.value)
