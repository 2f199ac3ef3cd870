"""The CLI's tables on an 80-column terminal (COLUMNS=80), on the demo data: one line a row,
full dates, stage labels, right-aligned numbers; `company list` shows the pipeline unless
--all; --wide shows every value in full."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from incubator.cli import app

Run = Callable[..., Any]
DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")


def runner_for(url: str, columns: int = 80) -> Run:
    runner = CliRunner(env={"COLUMNS": str(columns)})

    def run(*args: str, ok: bool = True, input: str | None = None) -> Any:
        result = runner.invoke(app, [*args, "--db", url], input=input, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    return run


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('tables') / 'demo.db'}"
    runner_for(url)("demo", "--users")
    return url


@pytest.fixture
def cli(demo_url: str) -> Run:
    return runner_for(demo_url)


def lines_of(run: Run, *args: str) -> list[str]:
    return str(run(*args).stdout).splitlines()


def utc_day(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d")


def cells_of(line: str) -> list[str]:
    """The line as terminal cells: a double-width character takes two (the second empty)."""
    out: list[str] = []
    for c in line:
        out += [c] + [""] * (cell_len(c) - 1)
    return out


def tables_in(lines: list[str]) -> list[tuple[int, str]]:
    """(index of the header line, header) of each table: the line above a rule."""
    return [
        (i - 1, lines[i - 1])
        for i, line in enumerate(lines)
        if line.strip() and set(line.strip()) == {"─"}
    ]


def assert_right_aligned(header: str, rows: list[str], numeric: list[str]) -> None:
    """Every value of the numeric columns ends where its header ends."""
    spans = {m.group(): m.span() for m in re.finditer(r"\S+(?: \S+)*", header)}
    for name in numeric:
        start, end = spans[name]
        for row in rows:
            cells = cells_of(row) + [" "]
            value = "".join(cells[start:end]).strip()
            if not value:
                continue
            assert cells[end - 1] != " " and cells[end] == " ", (name, header, row)


def assert_fits(lines: list[str], width: int = 80) -> None:
    assert lines
    for line in lines:
        assert cell_len(line) <= width, (cell_len(line), line)


# --- every table at 80 columns -------------------------------------------------------------


def test_rich_reads_the_terminal_width_from_columns(demo_url: str) -> None:
    narrow = lines_of(runner_for(demo_url, 80), "company", "list")
    roomy = lines_of(runner_for(demo_url, 160), "company", "list")
    assert max(map(cell_len, narrow)) == 80  # names are cut to fill exactly the width
    assert 80 < max(map(cell_len, roomy)) <= 160
    assert any("…" in line for line in narrow) and not any("…" in line for line in roomy)


@pytest.mark.parametrize("option", [[], ["--all"], ["--stage", "exited"], ["--site", "钟祥"]])
def test_company_list_is_one_line_a_company_at_80_columns(cli: Run, option: list[str]) -> None:
    companies = json.loads(cli("company", "list", *option, "--json").stdout)
    lines = lines_of(cli, "company", "list", *option)
    assert_fits(lines)
    assert len(lines) == 2 + len(companies) + 1  # header, rule, a line a company, the count
    header, rows = lines[0], lines[2:-1]
    assert header.split() == ["key", "name", "stage", "days", "site", "sector"]
    assert [row.split()[0] for row in rows] == [c["key"] for c in companies]
    assert_right_aligned(header, rows, ["days"])
    text = "\n".join(lines)
    assert "industrial_park" not in text
    assert ("Industrial park" in text) == (option != ["--stage", "exited"])


def test_company_list_shows_the_pipeline_and_all_shows_exited_companies_too(cli: Run) -> None:
    pipeline = json.loads(cli("company", "list", "--json").stdout)
    everyone = json.loads(cli("company", "list", "--all", "--json").stdout)
    exited = json.loads(cli("company", "list", "--stage", "exited", "--json").stdout)
    assert len(everyone) == 300 and pipeline and exited
    assert all(c["stage"] != "exited" for c in pipeline)
    assert {c["key"] for c in pipeline} | {c["key"] for c in exited} == {c["key"] for c in everyone}
    assert lines_of(cli, "company", "list")[-1] == (
        f"{len(pipeline)} companies in the pipeline; "
        f"{len(exited)} exited not listed (--all lists them)"
    )
    assert lines_of(cli, "company", "list", "--all")[-1] == (
        f"300 companies: {len(pipeline)} in the pipeline, {len(exited)} exited"
    )
    assert lines_of(cli, "company", "list", "--stage", "exited")[-1] == (
        f"{len(exited)} exited companies"
    )
    in_park = lines_of(cli, "company", "list", "--stage", "industrial_park", "--site", "钟祥")
    assert re.fullmatch(r"\d+ compan(y|ies) in Industrial park, site 钟祥", in_park[-1])
    shown = lines_of(cli, "company", "list", "--stage", "exited")[2:-1]
    assert shown and all(" Exited " in line for line in shown)


def test_wide_shows_the_full_name_and_uscc_of_the_longest_name(cli: Run) -> None:
    everyone = json.loads(cli("company", "list", "--all", "--json").stdout)
    longest = max((c for c in everyone if c["uscc"]), key=lambda c: cell_len(c["name"]))
    assert cell_len(longest["name"]) > 30
    narrow = [line for line in lines_of(cli, "company", "list", "--all") if longest["key"] in line]
    assert len(narrow) == 1 and longest["name"] not in narrow[0] and "…" in narrow[0]
    assert longest["uscc"] not in "\n".join(lines_of(cli, "company", "list", "--all"))
    wide = lines_of(cli, "company", "list", "--all", "--wide")
    assert wide[0].split() == ["key", "name", "stage", "days", "site", "sector", "USCC"]
    (row,) = [line for line in wide if longest["key"] in line]
    assert longest["name"] in row and longest["uscc"] in row and "…" not in row
    assert cell_len(row) > 80  # at its natural width, wider than the terminal
    assert len(wide) == 2 + 300 + 1  # still one line a company


def test_history_is_one_line_an_event_with_its_date_at_80_columns(cli: Run) -> None:
    for key in ("JM-0005", "JM-0006", "JM-0282"):
        events = json.loads(cli("history", key, "--json").stdout)
        lines = lines_of(cli, "history", key)
        assert_fits(lines)
        assert len(lines) == 2 + len(events)
        header, rows = lines[0], lines[2:]
        for row, event in zip(rows, events, strict=True):
            assert DATE.findall(row) == [utc_day(event["effective_at"])], row
            assert "T" not in DATE.sub("", row.split()[1])  # no ISO time glued to the date
        assert_right_aligned(header, rows, ["#"])
        assert "industrial_park" not in "\n".join(lines)


def test_history_wide_adds_where_from_when_recorded_and_times(cli: Run) -> None:
    events = json.loads(cli("history", "JM-0005", "--json").stdout)
    lines = lines_of(cli, "history", "JM-0005", "--wide")
    assert lines[0].split()[:5] == ["#", "effective", "recorded", "event", "from"]
    assert len(lines) == 2 + len(events)
    exit_row = lines[-1]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", exit_row)
    assert "Incubator" in exit_row and "Exited" in exit_row and "Failed" in exit_row


@pytest.mark.parametrize("command", ["funnel", "dwell"])
def test_funnel_and_dwell_fit_with_labels_right_aligned_numbers_and_a_plain_as_of(
    cli: Run, command: str
) -> None:
    lines = lines_of(cli, command)
    assert_fits(lines)
    assert len(lines) == 2 + 5 + 1
    header, rows = lines[0], lines[2:-1]
    assert [row[:15].strip() for row in rows] == [
        "Seed", "Nursery", "Incubator", "Accelerator", "Industrial park",
    ]  # fmt: skip
    numeric = re.findall(r"\S+(?: \S+)*", header)[1:]
    assert_right_aligned(header, rows, numeric)
    assert re.fullmatch(r"(days; )?as of \d{4}-\d\d-\d\d \d\d:\d\d UTC", lines[-1]), lines[-1]


def test_the_as_of_footer_names_the_day_and_minute_in_utc(cli: Run) -> None:
    out = lines_of(cli, "funnel", "--as-of", "2025-06-30T17:45:10.123456+08:00", "--site", "钟祥")
    assert out[-1] == "as of 2025-06-30 09:45 UTC, site 钟祥"


@pytest.mark.parametrize("by", ["month", "quarter", "year"])
def test_throughput_tables_fit_one_line_a_period(cli: Run, by: str) -> None:
    doc = json.loads(cli("throughput", "--by", by, "--json").stdout)
    periods = {r["period"] for r in doc["rows"]} | {e["period"] for e in doc["exits"]}
    exit_periods = {e["period"] for e in doc["exits"]}
    lines = lines_of(cli, "throughput", "--by", by)
    assert_fits(lines)
    # title, header, rule, periods; blank, title, header, rule, periods with exits
    assert len(lines) == 3 + len(periods) + 4 + len(exit_periods)
    (first, entries), (second, leaving) = tables_in(lines)
    assert lines[first - 1] == "entries" and lines[second - 1] == "exits by reason"
    assert entries.split()[:1] + entries.split()[-7:] == [
        by, "Seed", "Nursery", "Incubator", "Accelerator", "Industrial", "park", "exits",
    ]  # fmt: skip
    assert "Failed" in leaving and "failed" not in leaving
    entry_rows = lines[first + 2 : first + 2 + len(periods)]
    assert [row.split()[0] for row in entry_rows] == sorted(periods)
    assert_right_aligned(entries, entry_rows, re.findall(r"\S+(?: \S+)*", entries)[1:])
    leaving_rows = lines[second + 2 :]
    assert_right_aligned(leaving, leaving_rows, re.findall(r"\S+(?: \S+)*", leaving)[1:])


def test_user_list_fits_with_the_date_each_account_was_created(cli: Run) -> None:
    users = json.loads(cli("user", "list", "--json").stdout)
    lines = lines_of(cli, "user", "list")
    assert_fits(lines)
    assert len(lines) == 2 + len(users) == 6
    for row, user in zip(lines[2:], users, strict=True):
        assert row.split()[0] == user["name"]
        assert DATE.findall(row) == [utc_day(user["created_at"])]


def test_company_show_gives_the_stage_label_and_the_time_without_microseconds(cli: Run) -> None:
    shown = json.loads(cli("company", "show", "JM-0006", "--json").stdout)
    lines = lines_of(cli, "company", "show", "JM-0006")
    since = datetime.fromisoformat(shown["entered_stage_at"])
    assert "   stage: Industrial park" in lines
    assert f"   since: {since:%Y-%m-%d %H:%M} UTC" in lines


# --- values that do not fit ----------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path) -> Run:
    run = runner_for(f"sqlite:///{tmp_path / 'small.db'}")
    run("init")
    run("company", "add", "JM-0042", "--name", "荆门" * 30, "--stage", "seed", "--site", "钟祥",
        "--sector", "new energy & new materials", "--uscc", "91350100M000100Y43",
        "--by", "wang.li", "--at", "2024-01-01T23:30:00-05:00",
        "--note", "first line\nsecond line, " + "long " * 20)  # fmt: skip
    return run


def test_a_long_note_is_cut_on_one_line_and_shown_in_full_with_wide(small: Run) -> None:
    narrow = lines_of(small, "history", "JM-0042")
    assert_fits(narrow)
    assert len(narrow) == 3
    assert "first line\\nsecond line" in narrow[2] and narrow[2].rstrip().endswith("…")
    assert "2024-01-02" in narrow[2]  # 23:30 at UTC-5 is the next day in UTC
    wide = str(small("history", "JM-0042", "--wide").stdout)
    assert re.search(r"first line *\n", wide)  # the note keeps its line break
    assert ("second line, " + "long " * 20).strip() in wide
    assert "2024-01-02 04:30:00 UTC" in wide


def test_on_a_narrow_terminal_keys_stages_dates_and_numbers_are_never_cut(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    runner_for(url)("init")
    runner_for(url)("company", "add", "JM-0042", "--name", "荆门" * 30, "--stage", "seed",
                    "--by", "wang", "--at", "2024-01-01", "--sector", "biomedicine")  # fmt: skip
    run = runner_for(url, 40)
    (row,) = lines_of(run, "company", "list")[2:-1]
    assert row.startswith("JM-0042 ") and " Seed " in row and "…" in row
    assert re.search(r" \d{3,} ", row)  # the days in full
    (event,) = lines_of(run, "history", "JM-0042")[2:]
    assert "2024-01-01" in event and " admit " in event


def test_the_readme_shows_the_all_and_wide_options_that_company_list_has() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^incubator company list .*--all", readme, flags=re.M)
    assert re.search(r"^incubator company list .*--wide", readme, flags=re.M)
    help_text = CliRunner().invoke(app, ["company", "list", "--help"]).stdout
    assert "--all" in help_text and "--wide" in help_text
