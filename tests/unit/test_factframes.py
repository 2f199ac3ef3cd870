"""The facts tables and record summaries: built from folded facts (no Streamlit, no database),
labelled in both languages, amounts with thousands separators, stored text as written."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from incubator.evidence import (
    FIGURE_NAMES,
    AnnualFigures,
    CompanyFacts,
    FinancingRound,
    Level,
    Milestone,
    MilestoneKind,
    Qualification,
    QualificationKind,
)
from ui import factframes, frames
from ui.i18n import TEXT, t

DAY = date(2026, 1, 15)
FACTS = CompanyFacts(
    key="JM-0042",
    founded_on=date(2023, 4, 1),
    qualifications=(
        Qualification(
            2, QualificationKind.HIGH_TECH, date(2025, 3, 1), date(2028, 3, 1),
            Level.NATIONAL, "GR2025", "国科发〔2025〕1号",
        ),
        Qualification(3, QualificationKind.GAZELLE, date(2024, 1, 1), date(2025, 1, 1)),
        Qualification(
            4, QualificationKind.TECH_SME, date(2025, 2, 1), date(2026, 1, 1),
            revoked_on=date(2025, 6, 1), revoke_reason="材料不实", revoke_seq=5,
        ),
    ),
    financing=(
        FinancingRound(6, date(2025, 6, 1), 6_000_000, "A", "湖北高投"),
        FinancingRound(7, date(2024, 1, 2), 1_500_000),
    ),
    milestones=(Milestone(8, MilestoneKind.LISTED, date(2025, 12, 1), "新三板 874321"),),
    figures=(
        AnnualFigures(2024, {"revenue": 8_000_000}),
        AnnualFigures(2025, {"revenue": 12_000_000, "net_profit": -300_000, "employees": 48}),
    ),
)  # fmt: skip


def test_the_qualifications_table_says_which_grant_is_valid_on_the_day() -> None:
    table = factframes.qualifications_table(FACTS, DAY, "en")
    assert table["Qualification"].tolist() == [
        "High-tech enterprise",
        "Gazelle",
        "Tech-based SME",
    ]
    assert table["Level"].tolist() == ["National", "", ""]
    assert table["Valid today"].tolist() == ["Yes", "No", "No"]  # expired, revoked
    assert table["Revoked on"].tolist() == ["", "", "2025-06-01"]
    assert table["Evidence"].tolist() == ["国科发〔2025〕1号", "", ""]
    zh = factframes.qualifications_table(FACTS, DAY, "zh")
    assert zh["资质类型"].tolist() == ["高新技术企业", "瞪羚企业", "科技型中小企业"]
    assert zh["级别"].tolist()[0] == "国家级"
    assert zh["今日有效"].tolist() == ["是", "否", "否"]


def test_the_financing_table_is_by_date_with_thousands_separators() -> None:
    table = factframes.financing_table(FACTS, "en")
    assert table.values.tolist() == [
        ["2024-01-02", "1,500,000", "", "", ""],
        ["2025-06-01", "6,000,000", "A", "湖北高投", ""],
    ]
    assert list(factframes.financing_table(FACTS, "zh").columns)[:2] == ["日期", "金额（元）"]


def test_the_milestones_table_names_the_milestone_in_the_reader_s_language() -> None:
    assert factframes.milestones_table(FACTS, "zh").values.tolist() == [
        ["上市/挂牌", "2025-12-01", "新三板 874321"]
    ]


def test_the_figures_table_is_newest_year_first_with_a_dash_for_a_field_not_given() -> None:
    table = factframes.figures_table(FACTS.figures, "en")
    assert table["Year"].tolist() == ["2025", "2024"]
    assert table["Revenue"].tolist() == ["12,000,000", "8,000,000"]
    assert table["Net profit"].tolist() == ["-300,000", "—"]
    assert list(table.columns) == ["Year"] + [
        factframes.figure_label(n, "en") for n in factframes.MAIN_FIGURES
    ]
    every = factframes.figures_table(FACTS.figures, "zh", factframes.ALL_FIGURES)
    assert len(every.columns) == 1 + len(FIGURE_NAMES)
    assert "场地面积（平方米）" in every.columns


def test_every_figure_qualification_level_milestone_and_record_kind_has_a_name() -> None:
    for family, members in [
        ("facts.figure", FIGURE_NAMES),
        ("facts.qualification", [k.value for k in QualificationKind]),
        ("facts.level", [v.value for v in Level]),
        ("facts.milestone", [k.value for k in MilestoneKind]),
        ("facts.kind", ["profile", "founded", "qualification", "revocation", "financing",
                        "milestone", "figures"]),
    ]:  # fmt: skip
        for member in members:
            assert f"{family}.{member}" in TEXT, (family, member)
    assert factframes.figure_label("revenue", "en", unit=True) == "Revenue (yuan)"
    assert factframes.figure_label("employees", "zh", unit=True) == "从业人员"
    assert factframes.qualification_label("moon", "en") == "moon"  # unknown: as stored


@pytest.mark.parametrize(
    ("kind", "fields", "en", "zh"),
    [
        ("founded", {"founded_on": "2023-04-01", "evidence": None},
         "founded on 2023-04-01", "成立于 2023-04-01"),
        ("qualification",
         {"kind": "high_tech", "level": "national", "number": "GR1", "granted_on": "2025-03-01",
          "expires_on": "2028-03-01", "evidence": "证书"},
         "High-tech enterprise; National; certificate GR1; granted 2025-03-01; expires "
         "2028-03-01; evidence 证书",
         "高新技术企业；国家级；证书编号 GR1；认定日期 2025-03-01；到期日期 2028-03-01；证明材料 证书"),
        ("revocation",
         {"kind": "gazelle", "grant": 3, "revoked_on": "2025-06-01", "reason": "材料不实",
          "evidence": None},
         "Gazelle (record #3) revoked from 2025-06-01: 材料不实",
         "瞪羚企业（第 3 条记录）自 2025-06-01 起撤销：材料不实"),
        ("financing",
         {"on": "2025-06-01", "amount": 6000000, "round": "A", "investor": "湖北高投",
          "evidence": None},
         "6,000,000 yuan on 2025-06-01; round A; investor 湖北高投",
         "2025-06-01 融资 6,000,000 元；轮次 A；投资方 湖北高投"),
        ("milestone", {"kind": "acquired", "on": "2025-08-08", "evidence": None},
         "Acquired on 2025-08-08", "2025-08-08 被并购"),
        ("figures", {"year": 2025, "values": {"employees": 48, "revenue": 12000000},
                     "evidence": None},
         "2025: Revenue 12,000,000, Employees 48", "2025 年：营业收入 12,000,000，从业人员 48"),
        ("profile", {"name": "荆门光谷", "sector": "biomedicine", "site": "钟祥", "uscc": None},
         "Name 荆门光谷; Sector biomedicine; Site 钟祥; USCC —",
         "名称 荆门光谷；行业 生物医药；站点 钟祥；统一社会信用代码 —"),
    ],
)  # fmt: skip
def test_a_record_is_summed_up_in_the_reader_s_language(
    kind: str, fields: dict[str, object], en: str, zh: str
) -> None:
    assert factframes.record_summary(kind, fields, "en") == en
    assert factframes.record_summary(kind, fields, "zh") == zh


def test_the_records_table_lists_records_newest_first_as_given() -> None:
    rows = [
        {
            "company_key": "JM-0042", "company_name": "荆门光谷", "kind": "milestone",
            "fields": {"kind": "listed", "on": "2025-12-01", "evidence": None},
            "recorded_at": datetime(2026, 1, 2, 8, 30, tzinfo=UTC), "actor": "wang",
            "note": "=cmd", "hash": "ab" * 32,
        },
    ]  # fmt: skip
    table = factframes.records_table(rows, "en")
    assert table.values.tolist() == [
        ["2026-01-02 08:30", "JM-0042", "荆门光谷", "Milestone", "Listed on 2025-12-01",
         "wang", "=cmd", "ab" * 6],
    ]  # fmt: skip
    headers = [t(header, "zh") for header, _ in factframes.RECORDS_LAYOUT]
    assert headers == list(factframes.records_table(rows, "zh").columns)
    assert sum(w or 0 for _, w in factframes.RECORDS_LAYOUT) <= 930  # a 1,400-px window


def test_the_gate_column_says_met_overridden_or_nothing() -> None:
    met = '{"stage":"incubator","mode":"all","passed":true,"met":[],"unmet":[],"override":null}'
    overridden = (
        '{"stage":"incubator","mode":"all","passed":false,"met":[],"unmet":[],'
        '"override":"园区领导批准，材料后补"}'
    )
    assert frames.gate_label(None, "en") == ""
    assert frames.gate_label(met, "en") == "Met"
    assert frames.gate_label(met, "zh") == "已满足"
    assert frames.gate_label(overridden, "en") == "Overridden: 园区领导批准，材料后补"
    assert frames.gate_label(overridden, "zh") == "强制通过：园区领导批准，材料后补"
