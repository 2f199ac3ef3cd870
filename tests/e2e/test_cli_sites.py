"""`incubator site list|add|set|figures` (DESIGN §9) and the demo's registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.test_cli import cli  # noqa: F401  (fixture)

Cli = Callable[..., Any]


def refused(result: Any, *fragments: str) -> None:
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_an_admin_adds_a_site_sets_it_and_records_figures_then_lists_it(cli: Cli) -> None:  # noqa: F811
    out = cli("site", "add", "荆州", "--kind", "incubator", "--level", "provincial", "--by", "root")
    assert out.stdout == "registered site 荆州 (incubator, level provincial)\n"
    assert cli("site", "set", "荆州", "--level", "national", "--by", "root").stdout == (
        "site 荆州: incubator, level national\n"
    )
    out = cli("site", "figures", "荆州", "--year", "2025", "--floor-area", "12,000",
              "--staff", "14", "--incubation-fund", "5000000", "--by", "root")  # fmt: skip
    assert out.stdout == (
        "site 荆州, 2025: floor area m² 12,000, staff 14, incubation fund yuan 5,000,000\n"
    )
    doc = json.loads(cli("site", "list", "--json").stdout)
    (site,) = [s for s in doc if s["name"] == "荆州"]
    assert site["kind"] == "incubator" and site["level"] == "national"
    assert site["changed_by"] == "root"
    assert site["figures"] == [
        {"year": 2025, "floor_area_m2": 12000, "staff": 14, "mentors": None,
         "incubation_fund": 5000000, "changed_by": "root",
         "changed_at": site["figures"][0]["changed_at"]},
    ]  # fmt: skip
    table = cli("site", "list").stdout
    assert "荆州" in table and "12,000" in table and "national" in table


def test_unknown_sites_kinds_years_and_negative_figures_are_one_line_refusals(cli: Cli) -> None:  # noqa: F811
    refused(cli("company", "add", "JM-1", "--name", "甲", "--stage", "seed", "--site", "宜昌",
                "--by", "wang", ok=False),
            "cannot admit JM-1: unknown site '宜昌'; known sites: 京山, 沙洋, 钟祥, 高新区",
            "an admin adds a site first")  # fmt: skip
    refused(cli("site", "add", "宜昌", "--kind", "lab", "--by", "r", ok=False), "site kind 'lab'")
    refused(cli("site", "set", "宜昌", "--kind", "park", "--by", "r", ok=False), "unknown site")
    refused(cli("site", "figures", "钟祥", "--year", "1989", "--staff", "1", "--by", "r",
                ok=False), "year 1989 is out of range")  # fmt: skip
    refused(cli("site", "figures", "钟祥", "--year", "2024", "--staff", "-1", "--by", "r",
                ok=False), "cannot be negative")  # fmt: skip
    refused(cli("site", "add", "钟祥", "--by", "r", ok=False), "registered already")


@pytest.mark.empty_registry  # as `incubator init` leaves a new database
def test_the_demo_registers_its_four_sites_with_kinds_levels_and_figures(cli: Cli) -> None:  # noqa: F811
    cli("demo")
    doc = {s["name"]: s for s in json.loads(cli("site", "list", "--json").stdout)}
    assert set(doc) == {"高新区", "钟祥", "京山", "沙洋"}
    assert (doc["高新区"]["kind"], doc["高新区"]["level"]) == ("incubator", "national")
    assert [f["year"] for f in doc["钟祥"]["figures"]] == [2021, 2022, 2023, 2024, 2025]
    assert all(f["floor_area_m2"] > 0 for s in doc.values() for f in s["figures"])
    assert cli("audit", "verify").stdout.startswith("OK: ")
