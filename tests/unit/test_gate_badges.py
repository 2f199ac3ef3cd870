"""The board's gate badges and the policy page's lines, rendered from a gate's outcome in
both languages (`ui.gates`): pure, no database, no Streamlit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from incubator.evidence import DEFAULT_POLICY, CompanyFacts, FinancingRound, evaluate
from incubator.facts import GateView
from ui import gates

DAY = date(2026, 11, 27)


def view(stage: str, to: str, facts: CompanyFacts) -> GateView:
    gate = DEFAULT_POLICY.gate_into(to)
    outcome = evaluate(gate, facts, DAY) if gate else None
    return GateView(facts.key, stage, to, datetime(2026, 11, 27, tzinfo=UTC), outcome)


@pytest.mark.parametrize(
    ("amount", "en", "zh"),
    [
        (0, "0", "0元"),
        (999, "999", "999元"),
        (12_345, "12.34k", "1.23万"),
        (1_200_000, "1.2M", "120万"),
        (4_999_999, "4.99M", "499.99万"),  # cut, never rounded up to the threshold
        (5_000_000, "5M", "500万"),
        (10_000_000, "10M", "1000万"),
        (1_250_000_000_000, "1,250,000M", "12500亿"),
        (250_000_000, "250M", "2.5亿"),
        (-1_500_000, "-1.5M", "-150万"),
    ],
)
def test_money_in_a_badge_is_short_and_never_rounded_up(amount: int, en: str, zh: str) -> None:
    assert (gates.short_yuan(amount, "en"), gates.short_yuan(amount, "zh")) == (en, zh)


def test_an_ungated_step_has_no_badge() -> None:
    assert gates.badge(view("seed", "nursery", CompanyFacts("JM-1")), "en") is None
    assert gates.badge(None, "en") is None


def test_a_failing_graduation_lists_what_is_missing_with_the_figures() -> None:
    facts = CompanyFacts("JM-1", financing=(FinancingRound(2, date(2025, 6, 1), 1_200_000),))
    failing = view("incubator", "accelerator", facts)
    assert gates.badge(failing, "en") == (
        "missing",
        "✗ needs one of: no high-tech certificate · financing 1.2M (needs over 5M) · "
        "no revenue figures · not listed or acquired",
    )
    assert gates.badge(failing, "zh") == (
        "missing",
        "✗ 须满足其一：无高新技术企业资质 · 融资 120万（须超过 500万） · 无营业收入数据 · "
        "未上市/挂牌或被并购",
    )
    assert gates.unmet_lines(failing, "en")[1] == "financing > 5,000,000 — 1,200,000"
    assert gates.unmet_lines(failing, "zh")[1] == "融资总额 > 5,000,000 元——1,200,000 元"


def test_an_all_of_gate_lists_each_unmet_criterion_without_one_of() -> None:
    facts = CompanyFacts("JM-1", founded_on=date(2020, 1, 1))
    kind, text = gates.badge(view("nursery", "incubator", facts), "en") or ("", "")
    assert (kind, text) == ("missing", "✗ no USCC · founded 82 months ago (limit 24)")


def test_a_passing_gate_says_ready_and_graduation_says_so() -> None:
    registered = CompanyFacts("JM-1", uscc="91420881MA4R0QMA4X", founded_on=date(2026, 1, 1))
    assert gates.badge(view("nursery", "incubator", registered), "en") == ("ready", "✓ ready")
    listed = CompanyFacts("JM-1", financing=(FinancingRound(2, date(2025, 6, 1), 6_000_000),))
    assert gates.badge(view("incubator", "accelerator", listed), "zh") == ("ready", "✓ 可毕业")


def test_the_policy_lines_state_the_criteria_in_both_languages() -> None:
    gate = DEFAULT_POLICY.gate_into("industrial_park")
    assert gate is not None
    assert gates.gate_heading(gate, "en") == "Into Industrial park: any one of"
    assert gates.criterion_lines(gate, "en") == ["revenue of the last completed year >= 20,000,000"]
    assert gates.criterion_lines(gate, "zh") == ["上一完整年度营业收入 >= 20,000,000 元"]
