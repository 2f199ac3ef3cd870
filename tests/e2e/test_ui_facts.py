"""The company page's facts panel and forms, and the audit page's gate outcomes and company
records, through Streamlit's AppTest on the small pipeline of test_ui.py (JM-0001, JM-0002
and JM-0004 at 钟祥, JM-0003 at 京山; wang manages 钟祥, li 京山)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.evidence import DEFAULT_POLICY
from incubator.store import Database
from tests.e2e.test_ui import (  # noqa: F401  (app_db is a fixture)
    OWNER,
    app_db,
    open_page,
    run_as_a_browser,
    sign_in,
    texts,
    widget,
)


@pytest.fixture
def pipeline(app_db: Database) -> Database:  # noqa: F811
    """test_ui.py's pipeline, the app pointed at it."""
    return app_db


def company_page(user: str, key: str) -> AppTest:
    return open_page(sign_in(user, company=key), "company")


def fill(at: AppTest, form: str, **values: Any) -> AppTest:
    """Fill in the facts form `form` (`facts_<form>_<field>`) and submit it."""
    for field, value in values.items():
        widget(at, f"facts_{form}_{field}").set_value(value)
    at.button(key=f"facts_{form}_submit").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


#: A column only each facts table has (AppTest does not give a table's key).
TABLES = {
    "facts_qualifications": ("Certificate No.", "证书编号"),
    "facts_financing": ("Investor", "投资方"),
    "facts_milestones": ("Milestone", "里程碑"),
    "facts_figures": ("Year", "年份"),
}


def table(at: AppTest, key: str) -> pd.DataFrame:
    """The facts table `key` on the page (in either language)."""
    (found,) = [d for d in at.dataframe if set(TABLES[key]) & set(d.value.columns)]
    return found.value


def form_errors(at: AppTest, form: str) -> list[str]:
    """The refusals shown inside the facts form `form` (under its button)."""
    (block,) = [b for b in at.main if getattr(b, "key", None) == f"facts_{form}_form"]
    return texts(block.error)


def form_buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key and b.key.startswith("facts_")}


def chain(db: Database, key: str) -> list[str]:
    """The kinds of the company's records, oldest first (its profile record first)."""
    return [r.kind for r in services.records(db, key)]


# --- the panel -----------------------------------------------------------------------------


def test_a_company_without_facts_says_so_in_english_and_chinese(pipeline: Database) -> None:
    at = company_page("viewer", "JM-0001")
    captions = texts(at.caption)
    for empty in ("No founding date recorded.", "No qualifications recorded.",
                  "No financing recorded.", "No milestones recorded.",
                  "No annual figures recorded."):  # fmt: skip
        assert empty in captions
    at = open_page(sign_in("viewer", company="JM-0001", lang="zh"), "company")
    captions = texts(at.caption)
    for empty in ("尚未记录成立日期。", "尚未记录资质认定。", "尚未记录融资。", "尚未记录里程碑。",
                  "尚未记录年度数据。"):  # fmt: skip
        assert empty in captions


def test_the_panel_shows_every_kind_of_fact(pipeline: Database) -> None:
    key = "JM-0002"
    services.record_founding(pipeline, key, founded_on="2023-04-01", actor=OWNER)
    services.record_qualification(
        pipeline, key, "high_tech", granted_on="2024-03-01", level="national",
        number="GR2024001", actor=OWNER, evidence="国科发火〔2024〕12号",
    )  # fmt: skip
    services.record_qualification(pipeline, key, "gazelle", granted_on="2023-05-01", actor=OWNER)
    services.record_qualification(pipeline, key, "tech_sme", granted_on="2025-02-01", actor=OWNER)
    services.revoke_qualification(
        pipeline, key, "tech_sme", revoked_on="2025-06-01", reason="材料不实", actor=OWNER
    )
    services.record_financing(
        pipeline, key, amount=6_000_000, on="2024-06-01", round_name="A", investor="湖北高投",
        actor=OWNER,
    )  # fmt: skip
    services.record_financing(pipeline, key, amount="1,500,000", on="2023-09-01", actor=OWNER)
    services.record_milestone(pipeline, key, "listed", on="2025-01-10", actor=OWNER)
    services.record_figures(
        pipeline, key, year=2023, values={"revenue": 8_000_000, "rd_spend": 500_000}, actor=OWNER
    )
    services.record_figures(
        pipeline, key, year=2024,
        values={"revenue": 12_000_000, "rd_spend": 900_000, "employees": 48,
                "employees_phd": 3, "net_profit": -200_000},
        actor=OWNER,
    )  # fmt: skip
    at = company_page("viewer", key)
    assert {m.label: m.value for m in at.metric}["Founded"] == "2023-04-01"
    assert {m.label: m.value for m in at.metric}["Qualifications valid today"] == "1"
    quals = table(at, "facts_qualifications")
    assert quals["Qualification"].tolist() == [
        "High-tech enterprise", "Gazelle", "Tech-based SME",
    ]  # fmt: skip
    assert quals["Level"].tolist() == ["National", "", ""]
    assert quals["Certificate No."].tolist() == ["GR2024001", "", ""]
    assert quals["Expires"].tolist() == ["2027-03-01", "2024-05-01", "2026-01-01"]
    assert quals["Valid today"].tolist() == ["Yes", "No", "No"]
    assert quals["Revoked on"].tolist() == ["", "", "2025-06-01"]
    assert quals["Revocation reason"].tolist() == ["", "", "材料不实"]
    assert quals["Evidence"].tolist()[0] == "国科发火〔2024〕12号"
    rounds = table(at, "facts_financing")
    assert rounds["Date"].tolist() == ["2023-09-01", "2024-06-01"]
    assert rounds["Amount (yuan)"].tolist() == ["1,500,000", "6,000,000"]
    assert rounds["Investor"].tolist() == ["", "湖北高投"]
    assert "Total: 7,500,000 yuan in 2 round(s)." in texts(at.caption)
    assert table(at, "facts_milestones").values.tolist() == [["Listed", "2025-01-10", ""]]
    figures = table(at, "facts_figures")
    assert figures["Year"].tolist() == ["2024", "2023"]
    assert figures["Revenue"].tolist() == ["12,000,000", "8,000,000"]
    assert figures["Net profit"].tolist() == ["-200,000", "—"]
    assert figures["PhDs"].tolist() == ["3", "—"]
    assert "Exports" not in figures.columns
    at.toggle(key="facts_figures_all").set_value(True).run()
    assert "Exports" in table(at, "facts_figures").columns
    specs = [str(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("Revenue and R&D spend" in spec for spec in specs)

    at = open_page(sign_in("viewer", company=key, lang="zh"), "company")
    quals = table(at, "facts_qualifications")
    assert quals["资质类型"].tolist() == ["高新技术企业", "瞪羚企业", "科技型中小企业"]
    assert quals["今日有效"].tolist() == ["是", "否", "否"]
    assert quals["级别"].tolist()[0] == "国家级"
    assert table(at, "facts_milestones")["里程碑"].tolist() == ["上市/挂牌"]
    assert "合计：7,500,000 元，共 2 轮。" in texts(at.caption)


# --- who sees the forms --------------------------------------------------------------------


def test_a_viewer_sees_the_facts_but_no_forms(pipeline: Database) -> None:
    at = company_page("viewer", "JM-0001")
    assert "No qualifications recorded." in texts(at.caption)
    assert not form_buttons(at)


def test_a_manager_of_another_site_sees_no_forms(pipeline: Database) -> None:
    at = company_page("li", "JM-0001")  # li manages 京山; JM-0001 is at 钟祥
    assert "No qualifications recorded." in texts(at.caption)
    assert not form_buttons(at)
    at = company_page("li", "JM-0003")  # a company of li's own site
    assert "facts_qualification_submit" in form_buttons(at)


def test_managers_of_the_site_and_admins_see_a_form_for_each_kind(pipeline: Database) -> None:
    for user in ("wang", "admin"):
        at = company_page(user, "JM-0001")
        # No grant to revoke yet: the revocation tab says so instead of showing a form.
        assert form_buttons(at) == {
            f"facts_{form}_submit"
            for form in ("founded", "qualification", "financing", "milestone", "figures")
        }
        assert "No qualification of this company can be revoked." in texts(at.caption)
    assert "facts_founded_submit" in form_buttons(company_page("admin", "JM-0003"))


# --- recording -----------------------------------------------------------------------------


def test_a_manager_records_a_qualification_grant(pipeline: Database) -> None:
    at = company_page("wang", "JM-0001")
    fill(
        at, "qualification", kind="high_tech", level="provincial", number="GR202542000123",
        granted=date(2025, 3, 1), evidence="鄂科技〔2025〕3号", note="复审通过",
    )  # fmt: skip
    assert not at.error
    assert "Qualification recorded for JM-0001 (record #2)." in texts(at.toast)
    (grant,) = services.facts(pipeline, "JM-0001").facts.qualifications
    assert (grant.kind.value, grant.level.value if grant.level else None, grant.number) == (
        "high_tech",
        "provincial",
        "GR202542000123",
    )
    assert (grant.granted_on, grant.expires_on) == (date(2025, 3, 1), date(2028, 3, 1))
    assert grant.evidence == "鄂科技〔2025〕3号"
    record = services.records(pipeline, "JM-0001")[-1]
    assert (record.actor, record.note) == ("wang", "复审通过")
    quals = table(at, "facts_qualifications")  # shown at once
    assert quals["Qualification"].tolist() == ["High-tech enterprise"]
    assert quals["Valid today"].tolist() == ["Yes"]
    # The form starts afresh, and the grant can be revoked now.
    assert widget(at, "facts_qualification_kind").value is None
    assert widget(at, "facts_qualification_number").value == ""
    assert "facts_revocation_submit" in form_buttons(at)


def test_an_expiry_before_the_grant_is_refused_and_writes_nothing(pipeline: Database) -> None:
    at = company_page("wang", "JM-0001")
    fill(
        at, "qualification", kind="gazelle", number="DL-7", granted=date(2025, 3, 1),
        expires=date(2025, 1, 1),
    )  # fmt: skip
    (error,) = texts(at.error)
    assert form_errors(at, "qualification") == [error]  # under the form's button
    assert error.startswith("Not recorded: cannot record qualification for JM-0001")
    assert "expiry date 2025-01-01 is not after the grant date 2025-03-01" in error
    assert chain(pipeline, "JM-0001") == ["profile"]
    assert not at.toast
    # The form keeps what was typed, to correct it.
    assert widget(at, "facts_qualification_kind").value == "gazelle"
    assert widget(at, "facts_qualification_number").value == "DL-7"
    assert widget(at, "facts_qualification_expires").value == date(2025, 1, 1)


def test_a_form_without_its_kind_asks_for_it(pipeline: Database) -> None:
    at = company_page("wang", "JM-0001")
    fill(at, "qualification", granted=date(2025, 3, 1))
    assert form_errors(at, "qualification") == ["Not recorded: choose the qualification first"]
    fill(at, "milestone", on=date(2025, 3, 1))
    assert form_errors(at, "milestone") == ["Not recorded: choose the milestone first"]
    assert chain(pipeline, "JM-0001") == ["profile"]
    # Each form keeps its own refusal until its next try; a record clears it.
    assert form_errors(at, "qualification") == ["Not recorded: choose the qualification first"]
    fill(at, "qualification", kind="tech_sme")
    assert form_errors(at, "qualification") == []
    assert chain(pipeline, "JM-0001") == ["profile", "qualification"]


def test_another_company_gets_fresh_forms(pipeline: Database) -> None:
    at = company_page("wang", "JM-0001")
    fill(at, "financing", amount="-5", investor="湖北高投")
    assert form_errors(at, "financing")
    at.selectbox(key="company").set_value("JM-0004").run()
    assert widget(at, "facts_financing_investor").value == ""
    assert widget(at, "facts_financing_amount").value == ""
    assert form_errors(at, "financing") == []


def test_a_refusal_is_shown_in_chinese_to_a_chinese_reader(pipeline: Database) -> None:
    at = open_page(sign_in("wang", company="JM-0001", lang="zh"), "company")
    fill(at, "figures", year=2024, employees="10", employees_phd="12")
    (error,) = texts(at.error)
    assert error.startswith("未能记录：无法为 JM-0001 记录年度数据")
    assert "博士（12）不能多于同一记录中的从业人员（10）" in error
    assert chain(pipeline, "JM-0001") == ["profile"]


def test_phds_above_employees_are_refused_and_write_nothing(pipeline: Database) -> None:
    at = company_page("admin", "JM-0002")
    fill(at, "figures", year=2024, revenue="3,000,000", employees="10", employees_phd="12")
    (error,) = texts(at.error)
    assert "cannot exceed employees (10)" in error
    assert services.facts(pipeline, "JM-0002").facts.figures == ()
    assert widget(at, "facts_figures_revenue").value == "3,000,000"  # kept
    # Corrected, it is recorded, shown, and charted.
    fill(at, "figures", employees_phd="2", rd_spend="250000")
    assert not at.error
    (year,) = services.facts(pipeline, "JM-0002").facts.figures
    assert (year.year, dict(year.values)) == (
        2024,
        {"revenue": 3_000_000, "rd_spend": 250_000, "employees": 10, "employees_phd": 2},
    )
    figures = table(at, "facts_figures")
    assert figures["Revenue"].tolist() == ["3,000,000"]
    assert figures["R&D spend"].tolist() == ["250,000"]
    assert widget(at, "facts_figures_year").value is None  # reset
    assert widget(at, "facts_figures_revenue").value == ""


def test_a_financing_round_is_recorded_and_the_form_resets_in_the_browser_too(
    pipeline: Database,
) -> None:
    at = company_page("wang", "JM-0004")
    for field, value in [("on", date(2024, 6, 1)), ("amount", "6,000,000"), ("round", "A"),
                         ("investor", "湖北高投"), ("note", "首轮")]:  # fmt: skip
        widget(at, f"facts_financing_{field}").set_value(value)
    run_as_a_browser(at, click="facts_financing_submit")
    (first,) = services.facts(pipeline, "JM-0004").facts.financing
    assert (first.amount, first.round_name, first.investor) == (6_000_000, "A", "湖北高投")
    assert [widget(at, f"facts_financing_{f}").value for f in ("amount", "investor", "note")] == [
        ""
    ] * 3
    # The next round gets none of the first one's fields.
    widget(at, "facts_financing_on").set_value(date(2025, 1, 2))
    widget(at, "facts_financing_amount").set_value("2000000")
    run_as_a_browser(at, click="facts_financing_submit")
    second = services.facts(pipeline, "JM-0004").facts.financing[1]
    assert (second.amount, second.round_name, second.investor) == (2_000_000, None, None)
    assert services.records(pipeline, "JM-0004")[-1].note == ""
    assert table(at, "facts_financing")["Amount (yuan)"].tolist() == ["6,000,000", "2,000,000"]
    assert "Total: 8,000,000 yuan in 2 round(s)." in texts(at.caption)


def test_a_bad_amount_is_refused(pipeline: Database) -> None:
    at = company_page("wang", "JM-0004")
    fill(at, "financing", on=date(2024, 6, 1), amount="-5")
    (error,) = texts(at.error)
    assert "the amount cannot be negative (-5)" in error
    assert chain(pipeline, "JM-0004") == ["profile"]


def test_founding_milestone_and_revocation_forms(pipeline: Database) -> None:
    at = company_page("admin", "JM-0003")
    fill(at, "founded", on=date(2022, 5, 20), evidence="营业执照")
    assert {m.label: m.value for m in at.metric}["Founded"] == "2022-05-20"
    # A milestone before the founding date is refused.
    fill(at, "milestone", kind="acquired", on=date(2021, 1, 1))
    assert any("is before the company was founded (2022-05-20)" in e for e in texts(at.error))
    fill(at, "milestone", on=date(2025, 8, 8))
    assert table(at, "facts_milestones")["Milestone"].tolist() == ["Acquired"]
    fill(at, "qualification", kind="tech_sme", granted=date(2025, 2, 1))
    fill(at, "revocation", kind="tech_sme", on=date(2025, 3, 1), reason="年报未填")
    (grant,) = services.facts(pipeline, "JM-0003").facts.qualifications
    assert (grant.revoked_on, grant.revoke_reason) == (date(2025, 3, 1), "年报未填")
    assert table(at, "facts_qualifications")["Revoked on"].tolist() == ["2025-03-01"]
    assert chain(pipeline, "JM-0003") == [
        "profile", "founded", "milestone", "qualification", "revocation",
    ]  # fmt: skip
    # Every grant is revoked now: no revocation form.
    assert "facts_revocation_submit" not in form_buttons(at)


def test_a_revocation_before_its_grant_is_refused(pipeline: Database) -> None:
    services.record_qualification(
        pipeline, "JM-0001", "gazelle", granted_on="2025-02-01", actor=OWNER
    )
    at = company_page("wang", "JM-0001")
    fill(at, "revocation", kind="gazelle", on=date(2025, 1, 1), reason="误登")
    assert any("is before the gazelle grant of 2025-02-01" in e for e in texts(at.error))
    assert chain(pipeline, "JM-0001") == ["profile", "qualification"]


# --- the audit page ------------------------------------------------------------------------


def override_a_gate(db: Database) -> None:
    """Turn §8's default gates back on and move JM-0003 into the incubator, whose gate it
    does not meet (no USCC, no founding date), with an override reason."""
    services.policy_set(db, DEFAULT_POLICY.to_json(), actor=OWNER)
    services.advance(db, "JM-0003", actor=OWNER, seen="nursery", override="园区领导批准，材料后补")


def test_the_overrides_only_filter_shows_the_overridden_moves(pipeline: Database) -> None:
    override_a_gate(pipeline)
    at = open_page(sign_in("viewer"), "audit")
    assert "Events shown: 6" in texts(at.caption)
    (events,) = at.dataframe
    assert events.value["Gate"].tolist()[0] == "Overridden: 园区领导批准，材料后补"
    assert set(events.value["Gate"].tolist()[1:]) == {""}  # moved while the gates were off
    at.checkbox(key="audit_overrides").check().run()
    assert "Events shown: 1" in texts(at.caption)
    (events,) = at.dataframe
    assert events.value["Key"].tolist() == ["JM-0003"]
    assert events.value["Move"].tolist() == ["Nursery → Incubator"]
    at = open_page(sign_in("viewer", lang="zh"), "audit")
    (events,) = at.dataframe
    assert events.value["门槛"].tolist()[0] == "强制通过：园区领导批准，材料后补"


def test_a_gate_that_was_met_says_so(pipeline: Database) -> None:
    services.policy_set(pipeline, DEFAULT_POLICY.to_json(), actor=OWNER)
    services.record_founding(pipeline, "JM-0003", founded_on="2025-01-01", actor=OWNER)
    services.set_profile(pipeline, "JM-0003", uscc="91420881MA4R0QMA42", actor=OWNER)
    services.advance(pipeline, "JM-0003", actor=OWNER, seen="nursery")
    at = open_page(sign_in("viewer"), "audit")
    (events,) = at.dataframe
    assert events.value["Gate"].tolist()[0] == "Met"
    at.checkbox(key="audit_overrides").check().run()
    assert "No events match these filters." in texts(at.info)


def test_the_company_records_view_lists_profiles_and_facts(pipeline: Database) -> None:
    services.record_qualification(
        pipeline, "JM-0001", "high_tech", granted_on="2025-03-01", level="national",
        number="GR1", actor=OWNER, note="证书已核验",
    )  # fmt: skip
    services.record_financing(
        pipeline, "JM-0003", amount=6_000_000, on="2025-06-01", round_name="A", actor=OWNER
    )
    at = open_page(sign_in("viewer"), "audit")
    at.segmented_control(key="audit_view").set_value("records").run()
    assert not at.exception
    assert "Records shown: 6" in texts(at.caption)  # four profiles and two facts
    assert texts(at.caption)[0].startswith("Every change of a company's profile and every fact")
    (records,) = at.dataframe
    rows = records.value
    assert rows["Record"].tolist()[:2] == ["Financing round", "Qualification"]
    assert rows["Key"].tolist()[:2] == ["JM-0003", "JM-0001"]
    assert rows["Details"].tolist()[0] == "6,000,000 yuan on 2025-06-01; round A"
    assert rows["Details"].tolist()[1] == (
        "High-tech enterprise; National; certificate GR1; granted 2025-03-01; expires 2028-03-01"
    )
    assert rows["Note"].tolist()[1] == "证书已核验"
    assert rows["By"].tolist()[0] == OWNER.name
    assert len(rows["Hash"].tolist()[0]) == 12
    assert set(rows["Record"].tolist()[2:]) == {"Profile"}
    # The same company search as the events; and a kind filter.
    at.text_input(key="audit_company").input("0001").run()
    (records,) = at.dataframe
    assert records.value["Key"].tolist() == ["JM-0001", "JM-0001"]
    at.selectbox(key="audit_record_kind").set_value("profile").run()
    (records,) = at.dataframe
    assert records.value["Record"].tolist() == ["Profile"]
    assert "钟祥绿野生物医药有限公司" in records.value["Details"].tolist()[0]
    # Back to the events: the company search is kept.
    at.segmented_control(key="audit_view").set_value("events").run()
    assert at.text_input(key="audit_company").value == "0001"
    (events,) = at.dataframe
    assert set(events.value["Key"].tolist()) == {"JM-0001"}


def test_the_records_view_in_chinese(pipeline: Database) -> None:
    services.record_milestone(pipeline, "JM-0002", "listed", on="2025-01-10", actor=OWNER)
    at = open_page(sign_in("viewer", lang="zh"), "audit")
    at.segmented_control(key="audit_view").set_value("records").run()
    (records,) = at.dataframe
    assert records.value["记录类型"].tolist()[0] == "里程碑"
    assert records.value["内容"].tolist()[0] == "2025-01-10 上市/挂牌"


def test_an_admin_still_imports_and_exports_from_the_audit_page(pipeline: Database) -> None:
    at = open_page(sign_in("admin"), "audit")
    at.segmented_control(key="audit_view").set_value("records").run()
    assert {"audit_import_button"} <= {b.key for b in at.button}
    assert at.get("download_button")  # the event log and facts downloads
