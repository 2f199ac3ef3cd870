"""The metric commands through Typer's CliRunner, on a temporary SQLite database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incubator.cli import app

runner = CliRunner()

EVENTS = """company_key,company_name,event,from_stage,to_stage,effective_at,actor,note,reason,sector,site,uscc
JM-0001,荆门智造科技,admit,,seed,2024-01-15,wang,,,biomedicine,钟祥,
JM-0001,荆门智造科技,advance,seed,nursery,2024-04-01,wang,,,,,
JM-0001,荆门智造科技,advance,nursery,incubator,2024-09-30,wang,,,,,
JM-0002,"Han River Bio, Inc.",admit,,seed,2024-02-01,li,,,organic food,京山,
JM-0002,"Han River Bio, Inc.",exit,seed,,2024-05-20,li,,failed,,,
JM-0003,Summit Robotics Ltd.,admit,,incubator,2023-11-03T09:30+08:00,li,,,high-end equipment,京山,
JM-0003,Summit Robotics Ltd.,advance,incubator,accelerator,2025-03-01,li,,,,,
"""
LADDER = ["seed", "nursery", "incubator", "accelerator", "industrial_park"]
METRIC_COMMANDS = ["funnel", "dwell", "throughput"]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    csv_path = tmp_path / "events.csv"
    csv_path.write_text(EVENTS, encoding="utf-8")
    for args in (["init"], ["import", str(csv_path)]):
        result = runner.invoke(app, [*args, "--db", url])
        assert result.exit_code == 0, result.output
    return url


def run_json(*args: str) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def is_iso_with_offset(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d", text))


def test_funnel_json_has_the_design_shape(db_url: str) -> None:
    doc = run_json("funnel", "--db", db_url, "--as-of", "2025-01-01")
    assert isinstance(doc, dict)
    assert list(doc) == ["as_of", "stages"]
    assert doc["as_of"] == "2025-01-01T00:00:00+00:00"
    assert [s["stage"] for s in doc["stages"]] == LADDER
    for row in doc["stages"]:
        assert list(row) == ["stage", "entered", "advanced", "exited", "current", "conversion"]
    seed = doc["stages"][0]
    assert (seed["entered"], seed["advanced"], seed["exited"], seed["current"]) == (2, 1, 1, 0)
    assert seed["conversion"] == 0.5
    assert doc["stages"][-1]["conversion"] is None


def test_dwell_json_has_the_design_shape(db_url: str) -> None:
    doc = run_json("dwell", "--db", db_url, "--as-of", "2025-06-01T08:00+08:00")
    assert isinstance(doc, dict)
    assert list(doc) == ["as_of", "stages"]
    assert is_iso_with_offset(doc["as_of"]) and doc["as_of"] == "2025-06-01T00:00:00+00:00"
    assert [s["stage"] for s in doc["stages"]] == LADDER
    keys = ["stage", "completed", "mean_days", "median_days", "p90_days", "open",
            "open_median_days", "km_median_days"]  # fmt: skip
    for row in doc["stages"]:
        assert list(row) == keys
    seed = doc["stages"][0]
    assert seed["completed"] == 2 and seed["open"] == 0
    assert seed["median_days"] == pytest.approx((77 + 109) / 2)  # 2024-01-15→04-01, 02-01→05-20
    assert doc["stages"][-1]["mean_days"] is None


@pytest.mark.parametrize(
    ("by", "label", "seeds"),
    [("month", "2024-01", 1), ("quarter", "2024-Q1", 2), ("year", "2024", 2)],
)
def test_throughput_json_has_the_design_shape(db_url: str, by: str, label: str, seeds: int) -> None:
    doc = run_json("throughput", "--by", by, "--db", db_url)
    assert isinstance(doc, dict)
    assert list(doc) == ["by", "rows", "exits"]
    assert doc["by"] == by
    assert all(list(r) == ["period", "stage", "entered"] for r in doc["rows"])
    assert all(list(r) == ["period", "reason", "n"] for r in doc["exits"])
    assert {"period": label, "stage": "seed", "entered": seeds} in doc["rows"]
    assert [r["reason"] for r in doc["exits"]] == ["failed"]
    periods = [r["period"] for r in doc["rows"]]
    assert periods == sorted(periods)


def test_filters_narrow_the_funnel(db_url: str) -> None:
    doc = run_json("funnel", "--db", db_url, "--site", "京山", "--cohort", "2023")
    assert isinstance(doc, dict)
    entered = {s["stage"]: s["entered"] for s in doc["stages"]}
    assert entered == {"seed": 0, "nursery": 0, "incubator": 1, "accelerator": 1,
                       "industrial_park": 0}  # fmt: skip


def test_the_funnel_table_shows_the_drop_off_between_stages(db_url: str) -> None:
    result = runner.invoke(app, ["funnel", "--db", db_url, "--as-of", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert "→ next" in result.stdout and "drop-off" in result.stdout
    # seed: 2 entered, 1 advanced, 1 exited, 0 current -> 50% moved on, 50% dropped off
    assert re.search(r"^Seed +2 +1 +1 +0 +50% +50%$", result.stdout, flags=re.M)


@pytest.mark.parametrize("command", METRIC_COMMANDS)
def test_metric_tables_print(db_url: str, command: str) -> None:
    result = runner.invoke(app, [command, "--db", db_url, "--sector", "biomedicine"])
    assert result.exit_code == 0, result.output
    assert "Seed" in result.stdout


def test_an_unknown_period_is_refused_with_the_allowed_ones(db_url: str) -> None:
    result = runner.invoke(app, ["throughput", "--by", "week", "--db", db_url])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: unknown period 'week'; allowed: month, quarter, year"


def test_a_bad_as_of_is_refused_in_one_line(db_url: str) -> None:
    result = runner.invoke(app, ["dwell", "--as-of", "yesterday", "--db", db_url])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot read 'yesterday' as a date")
    assert result.stdout == ""


@pytest.mark.parametrize("command", METRIC_COMMANDS)
def test_every_metric_command_has_help_text_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: incubator {command}" in result.stdout
    for option in ("--as-of", "--site", "--sector", "--cohort", "--db", "--json"):
        assert option in result.stdout
