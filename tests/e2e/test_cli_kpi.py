"""`incubator target set|list` and `incubator kpi` (DESIGN §9) from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from incubator import reports
from tests.e2e.test_cli import cli  # noqa: F401  (fixture)
from tests.e2e.test_cli_sites import refused

Cli = Callable[..., Any]


def test_targets_are_set_listed_and_compared_with_the_actuals(cli: Cli) -> None:  # noqa: F811
    assert cli("target", "set", "high_tech", "360", "--year", "2021", "--by", "root").stdout == (
        "target high_tech 2021: 360\n"
    )
    cli("target", "set", "tech_contract_value", "3,500,000,000", "--year", "2021", "--by", "root")
    listed = json.loads(cli("target", "list", "--json").stdout)
    assert [(t["metric"], t["year"], t["value"], t["changed_by"]) for t in listed] == [
        ("high_tech", 2021, 360, "root"), ("tech_contract_value", 2021, 3_500_000_000, "root"),
    ]  # fmt: skip
    doc = json.loads(cli("kpi", "--year", "2021", "--json").stdout)
    assert doc == {
        "year": 2021,
        "rows": [
            {"metric": m, "target": {"high_tech": 360, "tech_contract_value": 3_500_000_000}.get(m),
             "actual": 0}
            for m in reports.METRICS
        ],
    }  # fmt: skip
    table = cli("kpi", "--year", "2021").stdout
    assert "high_tech" in table and "3,500,000,000" in table and "0%" in table


def test_bad_targets_and_years_are_one_line_refusals(cli: Cli) -> None:  # noqa: F811
    refused(cli("target", "set", "patents", "3", "--year", "2024", "--by", "r", ok=False),
            "unknown metric 'patents'")  # fmt: skip
    refused(cli("target", "set", "high_tech", "-5", "--year", "2024", "--by", "r", ok=False),
            "the target cannot be negative (-5)")  # fmt: skip
    refused(cli("target", "set", "high_tech", "5", "--year", "1989", "--by", "r", ok=False),
            "year 1989 is out of range")  # fmt: skip
    refused(cli("kpi", "--year", "3000", ok=False), "year 3000 is out of range")
    assert json.loads(cli("target", "list", "--json").stdout) == []


def test_the_demo_seeds_the_plans_targets(cli: Cli) -> None:  # noqa: F811
    cli("demo")
    doc = json.loads(cli("target", "list", "--year", "2021", "--json").stdout)
    assert {t["metric"]: t["value"] for t in doc} == {
        "high_tech": 360, "tech_sme": 450, "hidden_champion": 50, "achievements": 150,
        "tech_contract_value": 3_500_000_000, "graduated": 20,
    }  # fmt: skip
    later = json.loads(cli("target", "list", "--year", "2025", "--json").stdout)
    assert {t["metric"] for t in later} == {t["metric"] for t in doc}
    kpis = json.loads(cli("kpi", "--year", "2025", "--json").stdout)
    assert all(r["target"] is not None for r in kpis["rows"] if r["metric"] in {t["metric"] for t in doc})  # fmt: skip
    assert sum(r["actual"] for r in kpis["rows"]) > 0
