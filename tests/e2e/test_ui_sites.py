"""The site registry's page (administrators only) through AppTest: adding a site, changing
its kind and level, recording a year's figures; refusals that write nothing; in Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from incubator import services
from incubator.store import Database
from tests.e2e.test_ui import app_db, open_page, sign_in, texts, widget  # noqa: F401
from ui.frames import utc_today


def sites_page(user: str = "admin", **query: str) -> AppTest:
    return open_page(sign_in(user, **query), "sites")


def submit(at: AppTest, button: str, **values: Any) -> AppTest:
    for key, value in values.items():
        widget(at, key).set_value(value)
    at.button(key=button).click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def registry(db: Database) -> dict[str, services.SiteView]:
    return {s.name: s for s in services.list_sites(db)}


def table(at: AppTest) -> Any:
    (frame,) = [d.value for d in at.dataframe]
    return frame


def refusals(at: AppTest) -> list[str]:
    return texts(at.error)


def test_an_admin_adds_a_site_sets_its_kind_and_level_and_records_figures(
    app_db: Database,  # noqa: F811
) -> None:
    at = sites_page()
    assert "Site registry" in texts(at.title)[0]
    submit(
        at,
        "sites_add_submit",
        sites_add_name="屈家岭",
        sites_add_kind="makerspace",
        sites_add_level="municipal",
    )
    site = registry(app_db)["屈家岭"]
    assert (site.kind.value, site.level.value, site.changed_by) == (
        "makerspace",
        "municipal",
        "admin",
    )
    assert any("Site 屈家岭 added." in m for m in texts(at.toast))
    assert at.text_input(key="sites_add_name").value == ""  # the form is reset
    assert (at.selectbox(key="sites_add_kind").value, at.selectbox(key="sites_add_level").value) == (
        "mixed", "none",
    )  # fmt: skip

    at.selectbox(key="sites_pick").set_value("屈家岭").run()
    assert at.selectbox(key="sites_set_kind").value == "makerspace"
    submit(at, "sites_set_submit", sites_set_kind="incubator", sites_set_level="provincial")
    site = registry(app_db)["屈家岭"]
    assert (site.kind.value, site.level.value) == ("incubator", "provincial")
    assert any("Saved the kind and level of 屈家岭." in m for m in texts(at.toast))

    year = utc_today().year - 1
    submit(
        at,
        "sites_fig_submit",
        sites_fig_year=year,
        sites_fig_floor=12000,
        sites_fig_staff=9,
        sites_fig_mentors=14,
        sites_fig_fund=3_500_000,
    )
    (figures,) = registry(app_db)["屈家岭"].figures
    assert (figures.year, figures.floor_area_m2, figures.staff, figures.mentors) == (
        year, 12000, 9, 14,
    )  # fmt: skip
    assert figures.incubation_fund == 3_500_000
    assert any(f"Recorded the {year} figures of 屈家岭." in m for m in texts(at.toast))
    assert at.number_input(key="sites_fig_staff").value is None  # the form is reset

    # A field left empty keeps the value recorded for that year.
    submit(at, "sites_fig_submit", sites_fig_year=year, sites_fig_staff=11)
    (figures,) = registry(app_db)["屈家岭"].figures
    assert (figures.staff, figures.mentors, figures.incubation_fund) == (11, 14, 3_500_000)

    # The table: kind and level by name, the latest year's figures with separators.
    frame = table(at)
    row = frame[frame["Site"] == "屈家岭"].iloc[0]
    assert (row["Kind"], row["Level"], row["Year"]) == ("Incubator", "Provincial", str(year))
    assert (row["Floor area (m²)"], row["Staff"], row["Mentors"]) == ("12,000", "11", "14")
    assert row["Incubation fund (yuan)"] == "3,500,000"
    assert row["Changed by"] == "admin"
    other = frame[frame["Site"] == "钟祥"].iloc[0]
    assert other["Staff"] == "—"  # no figures recorded (the test registry has none)


def test_bad_input_is_refused_with_the_message_and_writes_nothing(app_db: Database) -> None:  # noqa: F811
    at = sites_page()
    before = registry(app_db)
    # A duplicate name, and a name that is empty.
    submit(at, "sites_add_submit", sites_add_name="钟祥")
    assert any(m.startswith("Not added:") and "钟祥" in m for m in refusals(at)), refusals(at)
    submit(at, "sites_add_submit", sites_add_name="  ")
    assert any(m.startswith("Not added:") for m in refusals(at)), refusals(at)
    assert registry(app_db) == before

    # Negative staff; no figure at all; the kind and level unchanged.
    at.selectbox(key="sites_pick").set_value("钟祥").run()
    submit(at, "sites_fig_submit", sites_fig_staff=-3, sites_fig_mentors=4)
    assert any(m.startswith("Not recorded:") for m in refusals(at)), refusals(at)
    assert at.number_input(key="sites_fig_staff").value == -3  # kept, to be corrected
    submit(at, "sites_fig_submit", sites_fig_staff=None, sites_fig_mentors=None)
    assert any(m.startswith("Not recorded:") for m in refusals(at)), refusals(at)
    submit(at, "sites_set_submit")
    assert any(m.startswith("Not saved:") for m in refusals(at)), refusals(at)
    assert registry(app_db) == before
    assert not texts(at.toast)


def test_managers_and_viewers_do_not_get_the_page(app_db: Database) -> None:  # noqa: F811
    open_page(sign_in("admin"), "sites")  # in an admin's navigation
    for user in ("wang", "viewer"):
        at = sign_in(user)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("app_pages/sites.py")  # not in their navigation at all


def test_the_page_in_chinese(app_db: Database) -> None:  # noqa: F811
    at = sites_page(lang="zh")
    assert "站点名录" in texts(at.title)[0]
    frame = table(at)
    assert list(frame.columns)[:3] == ["站点名称", "类型", "级别"]
    assert set(frame["类型"]) == {"综合"} and set(frame["级别"]) == {"未认定"}
    submit(at, "sites_add_submit", sites_add_name="钟祥")
    assert any(m.startswith("未能添加：") for m in refusals(at)), refusals(at)
    submit(
        at,
        "sites_add_submit",
        sites_add_name="屈家岭",
        sites_add_kind="accelerator",
        sites_add_level="national",
    )
    assert any("已添加站点 屈家岭。" in m for m in texts(at.toast))
    row = table(at)[lambda f: f["站点名称"] == "屈家岭"].iloc[0]
    assert (row["类型"], row["级别"]) == ("加速器", "国家级")
    # The labels match the domain's Chinese names (docs/reports.md).
    for kind in services.SiteKind:
        assert widget_label(kind.value, "kind") == kind.localised("zh")
    for level in services.SiteLevel:
        assert widget_label(level.value, "level") == level.localised("zh")


def widget_label(value: str, family: str) -> str:
    from ui.i18n import t

    return t(f"sites.{family}.{value}", "zh")
