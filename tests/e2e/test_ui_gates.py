"""The gates on the web app (DESIGN §8): the board's gate badges, the move form's override
flow, and the Gate policy page, through Streamlit's AppTest on a real SQLite database.

The pipeline of test_ui.py (gates off) gets the default policy back, and two companies of
钟祥 in the incubator: JM-0020 holds a valid high-tech certificate (ready to graduate),
JM-0021 has only 1,200,000 yuan of financing (its gate into the accelerator fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.evidence import DEFAULT_POLICY
from incubator.store import Database
from tests.e2e.test_ui import (  # noqa: F401  (app_db is a fixture)
    OWNER,
    app_db,
    board_as,
    fill_admit_form,
    open_page,
    panel_with,
    sign_in,
    texts,
    widget,
)

REASON = "省科技厅特批，提前毕业入园"
TODAY = datetime.now(UTC).date()


@pytest.fixture
def gated(app_db: Database) -> Iterator[Database]:  # noqa: F811
    at = datetime(2024, 3, 1, tzinfo=UTC)
    for key, name in [("JM-0020", "钟祥高新示范有限公司"), ("JM-0021", "Thin Wallet Tech Ltd.")]:
        services.admit(
            app_db, key, name=name, stage="incubator", actor=OWNER, at=at, site="钟祥",
            sector="biomedicine",
        )  # fmt: skip
    services.record_qualification(
        app_db, "JM-0020", "high_tech", granted_on="2025-03-01", actor=OWNER, number="GR2025001"
    )
    services.record_financing(app_db, "JM-0021", amount=1_200_000, on="2025-06-01", actor=OWNER)
    services.policy_set(app_db, DEFAULT_POLICY.to_json(), actor=OWNER)  # the gates on again
    yield app_db


def card(at: AppTest, key: str) -> str:
    """The board card of the company `key`, as a browser shows it."""
    found = [c for m in texts(at.markdown) for c in m.split("\n\n") if key in c]
    assert len(found) == 1, (key, found)
    return found[0]


def option(at: AppTest, key: str) -> str:
    (label,) = [o for o in widget(at, "board_selection").options if f" · {key} · " in o]
    return label


def pick(at: AppTest, keys: list[str], **fields: object) -> AppTest:
    widget(at, "board_selection").set_value(keys)
    at.radio(key="board_action").set_value("advance")
    at.run()
    for name, value in fields.items():
        widget(at, name).set_value(value)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def apply(at: AppTest) -> AppTest:
    at.button(key="board_apply").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


# --- badges --------------------------------------------------------------------------------


def test_the_badge_says_ready_to_graduate_or_what_is_missing(gated: Database) -> None:
    at = board_as("wang")
    assert "✓ ready to graduate" in card(at, "JM-0020")
    missing = card(at, "JM-0021")
    assert "✗ needs one of: no high-tech certificate" in missing
    assert "financing 1.2M (needs over 5M)" in missing  # the company's own figure
    assert "not listed or acquired" in missing
    assert "✓" not in card(at, "JM-0001") and "✗" not in card(at, "JM-0001")  # seed: no gate
    # The move picker shows the same badge after each company.
    assert option(at, "JM-0020").endswith("✓ ready to graduate")
    assert "financing 1.2M (needs over 5M)" in option(at, "JM-0021")


def test_a_gate_into_another_stage_says_ready_or_its_figure(gated: Database) -> None:
    year = TODAY.year - 1
    services.record_figures(gated, "JM-0002", year=year, values={"revenue": 8_000_000}, actor=OWNER)
    at = board_as("wang")
    assert f"✗ {year} revenue 8M (needs 20M)" in card(at, "JM-0002")
    services.record_figures(
        gated, "JM-0002", year=year, values={"revenue": 20_000_000}, actor=OWNER
    )
    st.cache_data.clear()  # written behind the app: as when the cache's minute is over
    at.run()
    assert "✓ ready" in card(at, "JM-0002") and "graduate" not in card(at, "JM-0002")


def test_the_badges_are_computed_in_one_cached_batch_cleared_by_a_write(
    gated: Database,
) -> None:
    at = board_as("wang")
    assert "✓ ready to graduate" in card(at, "JM-0020")
    services.revoke_qualification(
        gated, "JM-0020", "high_tech", revoked_on=TODAY, reason="证书被撤销", actor=OWNER
    )
    at.run()  # cached: the board shows what it computed until a write from the app
    assert "✓ ready to graduate" in card(at, "JM-0020")
    pick(at, ["JM-0001"])  # a move through the app clears the cache
    apply(at)
    assert "✗ needs one of: high-tech revoked" in card(at, "JM-0020")


# --- the override flow ---------------------------------------------------------------------


def test_a_failing_company_without_a_reason_does_not_move_and_the_form_says_why(
    gated: Database,
) -> None:
    at = pick(board_as("wang"), ["JM-0021"])
    form = panel_with(at, "board_apply")
    (warning,) = texts(form.warning)
    assert "Thin Wallet Tech Ltd. (JM-0021) does not meet the gate into Accelerator (any of)" in (
        warning
    )
    assert "financing > 5,000,000 — 1,200,000" in warning
    assert f"high-tech certificate valid on {TODAY} — none" in warning
    assert at.button(key="board_apply").disabled
    assert any("JM-0021: the gate is not met" in c for c in texts(form.caption))
    assert len(services.history(gated, "JM-0021")) == 1
    # A browser that sends the reason cleared with the click (Apply was enabled for it):
    # refused in the callback, nothing written.
    widget(at, "board_override").set_value(REASON)
    at.run()
    widget(at, "board_override").set_value("")
    apply(at)
    (error,) = texts(panel_with(at, "board_apply").error)
    assert error.startswith("Nothing was moved: JM-0021 do not meet their gate")
    assert services.show(gated, "JM-0021").stage == "incubator"
    assert len(services.history(gated, "JM-0021")) == 1


def test_a_reason_too_short_keeps_apply_disabled_and_says_how_long_it_must_be(
    gated: Database,
) -> None:
    at = pick(board_as("wang"), ["JM-0021"], board_override="too short")
    assert at.button(key="board_apply").disabled
    assert "The override reason needs at least 10 characters (9 given)." in texts(
        panel_with(at, "board_apply").caption
    )
    assert services.show(gated, "JM-0021").stage == "incubator"


def test_with_a_reason_the_failing_company_moves_and_its_event_records_the_override(
    gated: Database,
) -> None:
    at = pick(board_as("wang"), ["JM-0020", "JM-0021"], board_override=REASON)
    assert not at.button(key="board_apply").disabled
    (warning,) = texts(panel_with(at, "board_apply").warning)  # only the failing one
    assert "JM-0021" in warning and "JM-0020" not in warning
    apply(at)
    (success,) = texts(panel_with(at, "board_apply").success)
    assert "JM-0021: Incubator → Accelerator (gate overridden)" in success
    assert "JM-0020: Incubator → Accelerator;" in success or success.endswith(
        "JM-0020: Incubator → Accelerator"
    )
    overridden = services.history(gated, "JM-0021")[-1]
    assert overridden.to_stage == "accelerator"
    assert overridden.gate is not None
    assert (overridden.gate["passed"], overridden.gate["override"]) == (False, REASON)
    assert {u["id"] for u in overridden.gate["unmet"]} == {
        "qualification", "financing_over", "revenue_two_years_over", "milestone",
    }  # fmt: skip
    passed = services.history(gated, "JM-0020")[-1]  # the reason went to JM-0021 only
    assert passed.gate is not None
    assert (passed.to_stage, passed.gate["passed"], passed.gate["override"]) == (
        "accelerator",
        True,
        None,
    )
    assert widget(at, "board_selection").value == []  # the form starts afresh


def test_a_passing_company_moves_without_a_reason(gated: Database) -> None:
    at = pick(board_as("wang"), ["JM-0020"])
    assert not at.button(key="board_apply").disabled
    assert not [w for w in at.main if (getattr(w, "key", "") or "").startswith("board_override")]
    apply(at)
    event = services.history(gated, "JM-0020")[-1]
    assert event.to_stage == "accelerator" and event.override is None
    assert event.gate is not None and event.gate["passed"]


def test_a_gate_that_fails_meanwhile_refuses_the_move_with_its_criteria(
    gated: Database,
) -> None:
    at = pick(board_as("wang", lang="zh"), ["JM-0020"])  # shown passing
    services.revoke_qualification(
        gated, "JM-0020", "high_tech", revoked_on=TODAY, reason="证书被撤销", actor=OWNER
    )
    apply(at)
    (error,) = texts(panel_with(at, "board_apply").error)
    assert error.startswith("JM-0020 未流转：JM-0020 不满足进入加速器的门槛（满足其一即可）")
    assert f"已于 {TODAY} 撤销" in error
    assert services.show(gated, "JM-0020").stage == "incubator"


def test_the_gate_is_checked_on_the_move_s_date(gated: Database) -> None:
    # On 2025-01-01 JM-0020's certificate (granted 2025-03-01) was not valid yet.
    at = pick(board_as("wang"), ["JM-0020"], board_effective=date(2025, 1, 1))
    (warning,) = texts(panel_with(at, "board_apply").warning)
    assert "high-tech certificate valid on 2025-01-01 — none" in warning
    assert at.button(key="board_apply").disabled


def test_the_badge_and_the_criteria_are_in_chinese(gated: Database) -> None:
    at = board_as("wang", lang="zh")
    assert "✓ 可毕业" in card(at, "JM-0020")
    assert "✗ 须满足其一：无高新技术企业资质 · 融资 120万（须超过 500万）" in card(at, "JM-0021")
    pick(at, ["JM-0021"])
    form = panel_with(at, "board_apply")
    (warning,) = texts(form.warning)
    assert "Thin Wallet Tech Ltd.（JM-0021）不满足进入加速器的门槛（满足其一即可）" in warning
    assert "融资总额 > 5,000,000 元——1,200,000 元" in warning
    assert f"高新技术企业资质在 {TODAY} 有效——无" in warning
    assert "强制通过理由" in [
        w.label for w in form if (getattr(w, "key", "") or "").startswith("board_override")
    ]
    assert any("不满足门槛" in c for c in texts(form.caption))


# --- admitting into a gated stage ---------------------------------------------------------

USCC = "91420881MA4R0QMA42"


def test_an_admission_into_the_incubator_without_a_founding_date_is_refused_with_why(
    gated: Database,
) -> None:
    at = board_as("wang")
    fill_admit_form(
        at, admit_key="JM-0100", admit_name="新材料科技有限公司", admit_stage="incubator",
        admit_uscc=USCC,
    )  # fmt: skip
    (error,) = texts(panel_with(at, "admit_submit").error)
    assert "does not meet the gate into incubator (all of)" in error
    assert "founded no more than 24 months before " in error and "founding date unknown" in error
    assert "JM-0100" not in {c.key for c in services.list_companies(gated)}


def test_an_admission_with_its_founding_date_passes_the_gate(gated: Database) -> None:
    at = board_as("wang")
    founded = date(TODAY.year - 1, 1, 1)
    fill_admit_form(
        at, admit_key="JM-0100", admit_name="新材料科技有限公司", admit_stage="incubator",
        admit_uscc=USCC, admit_founded=founded,
    )  # fmt: skip
    assert texts(panel_with(at, "admit_submit").success) == ["JM-0100 admitted into Incubator."]
    (event,) = services.history(gated, "JM-0100")
    assert event.gate is not None and event.gate["passed"] and event.override is None
    assert services.facts(gated, "JM-0100").facts.founded_on == founded


def test_an_admission_with_an_override_reason_records_it(gated: Database) -> None:
    at = board_as("wang")
    fill_admit_form(
        at, admit_key="JM-0100", admit_name="新材料科技有限公司", admit_stage="incubator",
        admit_override=REASON,
    )  # fmt: skip
    (event,) = services.history(gated, "JM-0100")
    assert event.to_stage == "incubator" and event.override == REASON
    assert event.gate is not None and not event.gate["passed"]


# --- the policy page -----------------------------------------------------------------------


def test_the_policy_page_shows_the_policy_to_a_viewer_read_only(gated: Database) -> None:
    at = open_page(sign_in("viewer"), "policy")
    shown_text = "\n".join(texts(at.markdown))
    assert "Into Incubator: all of" in shown_text
    assert "Into Accelerator: any one of" in shown_text
    assert "financing > 5,000,000" in shown_text
    assert "high-tech certificate valid on the move's date" in shown_text
    assert "No gate: Seed, Nursery" in texts(at.caption)
    assert not at.get("file_uploader") and not at.main.button  # nothing to change


def test_the_policy_page_in_chinese(gated: Database) -> None:
    at = open_page(sign_in("wang", lang="zh"), "policy")
    shown_text = "\n".join(texts(at.markdown))
    assert "进入加速器：满足其一即可" in shown_text
    assert "融资总额 > 5,000,000 元" in shown_text
    assert "上一完整年度营业收入 >= 20,000,000 元" in shown_text


TOML = """\
[[gates]]
stage = "accelerator"
mode = "any"

[[gates.criteria]]
id = "financing_over"
amount = 1_000_000
"""


def test_an_admin_replaces_the_policy_and_the_board_follows(gated: Database) -> None:
    at = open_page(sign_in("admin"), "policy")
    at.file_uploader(key="policy_file").upload("policy.toml", TOML.encode(), "text/plain")
    at.button(key="policy_upload").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert "The gate policy was replaced: 1 gate(s)." in texts(at.toast)
    view = services.policy_show(gated)
    assert view.policy.to_json()["gates"] == [
        {"stage": "accelerator", "mode": "any",
         "criteria": [{"id": "financing_over", "amount": 1_000_000}]},
    ]  # fmt: skip
    assert (view.default, view.changed_by) == (False, "admin")
    shown_text = "\n".join(texts(at.markdown))
    assert "financing > 1,000,000" in shown_text and "Into Incubator" not in shown_text
    assert any(c.startswith("Set by admin on ") for c in texts(at.caption))
    at = open_page(at, "board")  # the cache was cleared: JM-0021's 1,200,000 now suffices
    assert "✓ ready to graduate" in card(at, "JM-0021")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "policy.toml",
            TOML.replace('"accelerator"', '"graduated"'),
            "policy.toml is not a valid gate policy: line 2 (gate 1): unknown stage "
            "'graduated'; allowed: seed, nursery, incubator, accelerator, industrial_park",
        ),
        (
            "policy.json",
            '{"gates": [{"stage": "accelerator", "mode": "any",\n'
            ' "criteria": [{"id": "charisma"}]}]}',
            "policy.json is not a valid gate policy: line 2 (gate 1, criterion 1): unknown "
            "criterion 'charisma'",
        ),
    ],
)
def test_a_bad_policy_file_is_refused_with_its_line_and_the_policy_stays(
    gated: Database, name: str, data: str, expected: str
) -> None:
    at = open_page(sign_in("admin"), "policy")
    at.file_uploader(key="policy_file").upload(name, data.encode(), "text/plain")
    at.button(key="policy_upload").click().run()
    (error,) = texts(at.error)
    assert error.startswith("Not replaced: " + expected), error
    assert services.policy_show(gated).policy == DEFAULT_POLICY


def test_a_bad_policy_file_is_refused_in_chinese(gated: Database) -> None:
    at = open_page(sign_in("admin", lang="zh"), "policy")
    data = TOML.replace('"accelerator"', '"graduated"').encode()
    at.file_uploader(key="policy_file").upload("policy.toml", data, "text/plain")
    at.button(key="policy_upload").click().run()
    (error,) = texts(at.error)
    assert error.startswith(
        "未替换：policy.toml 不是有效的门槛规则：第 2 行（第 1 道门槛）：未知阶段"
    )


def test_only_an_admin_may_replace_the_policy(gated: Database) -> None:
    at = open_page(sign_in("wang"), "policy")
    assert not at.get("file_uploader")
    assert "policy_upload" not in {b.key for b in at.button}


# --- the company page ---------------------------------------------------------------------


def test_the_company_page_says_whether_the_next_advance_meets_its_gate(gated: Database) -> None:
    at = open_page(sign_in("wang", company="JM-0021"), "company")
    (warning,) = [w for w in texts(at.warning) if "JM-0021" in w]
    assert "does not meet the gate into Accelerator" in warning
    assert "financing > 5,000,000 — 1,200,000" in warning  # the company's own figure
    assert not [s for s in texts(at.success) if "meets the gate" in s]
    at = open_page(sign_in("wang", company="JM-0020"), "company")
    assert "✓ ready to graduate: its next advance, into Accelerator, meets the gate today." in (
        texts(at.success)
    )


def test_an_exited_company_shows_when_it_left_and_no_gate(gated: Database) -> None:
    services.exit_company(
        gated, "JM-0021", reason="withdrew", actor=OWNER, at=datetime(2025, 9, 1, tzinfo=UTC)
    )
    at = open_page(sign_in("wang", company="JM-0021"), "company")
    assert ("Exited on", "2025-09-01") in [(m.label, m.value) for m in at.metric]
    assert not [w for w in texts(at.warning) if "gate" in w]
