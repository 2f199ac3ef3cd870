"""The facts CSV through the command line: `incubator import` tells a facts file by its
`fact` column, `incubator export --facts` writes CSV or xlsx through the same safe file
writing as the event log's, and a rejected file lists every bad line with exit code 1."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from incubator import cli as cli_module
from incubator.cli import app
from incubator.factlog import CSV_COLUMNS

Run = Callable[..., Any]


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., Run]:
    """`run(db_name)(*args, ok=True)`: the CLI on a SQLite database of that name."""
    runner = CliRunner()

    def on(name: str) -> Run:
        url = f"sqlite:///{tmp_path / name}"

        def invoke(*args: str, ok: bool = True) -> Any:
            result = runner.invoke(app, [*args, "--db", url], catch_exceptions=False)
            if ok:
                assert result.exit_code == 0, result.output + result.stderr
            return result

        invoke("init")
        return invoke

    return on


@pytest.fixture
def source(run: Callable[..., Run]) -> Run:
    """A database with two companies and a fact of each kind."""
    cli = run("source.db")
    cli("company", "add", "JM-0001", "--name", "荆门智造", "--stage", "seed", "--site", "钟祥",
        "--by", "wang", "--at", "2024-01-05", "--founded", "2023-06-01")  # fmt: skip
    cli("company", "add", "JM-0002", "--name", "=HYPERLINK(1)", "--stage", "nursery",
        "--site", "京山", "--by", "li", "--at", "2024-02-01")  # fmt: skip
    cli("qualify", "JM-0001", "high_tech", "--granted", "2024-03-01", "--level", "national",
        "--number", "GR202442000123", "--by", "wang")  # fmt: skip
    cli("qualify", "JM-0001", "high_tech", "--revoke", "2025-01-02", "--reason", "withdrawn",
        "--by", "wang")  # fmt: skip
    cli("financing", "JM-0001", "--amount", "6,000,000", "--on", "2024-06-01", "--round", "A",
        "--investor", "湖北高投", "--by", "wang", "--note", "=1+1")  # fmt: skip
    cli("milestone", "JM-0002", "acquired", "--on", "2025-02-02", "--evidence", "@SUM(1)",
        "--by", "li")  # fmt: skip
    cli("figures", "JM-0002", "--year", "2024", "--revenue", "9000000", "--net-profit", "-20000",
        "--employees", "30", "--employees-phd", "2", "--by", "li")  # fmt: skip
    return cli


def business(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [row[: len(CSV_COLUMNS)] for row in csv.reader(f)]


def test_export_import_export_through_the_command_line_round_trips(
    source: Run, run: Callable[..., Run], tmp_path: Path
) -> None:
    events, facts = tmp_path / "events.csv", tmp_path / "facts.csv"
    source("export", str(events))
    assert source("export", str(facts), "--facts").stdout == f"exported 6 facts to {facts}\n"
    target = run("target.db")
    refused = target("import", str(facts), ok=False)  # facts before their companies' events
    assert refused.exit_code == 1
    assert "line 2: no company with key 'JM-0001'" in refused.stderr
    target("import", str(events))
    out = target("import", str(facts)).stdout
    assert out == (
        "imported 6 facts for 2 companies (founded 1, qualification 1, revocation 1, "
        "financing 1, milestone 1, figures 1)\n"
    )
    again = tmp_path / "again.csv"
    target("export", str(again), "--facts")
    assert business(again) == business(facts)
    assert "OK:" in target("audit", "verify").stdout


def test_a_rejected_facts_file_lists_every_bad_line_and_writes_nothing(
    source: Run, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "company_key,fact,date,kind,amount,reason\n"
        "JM-0001,financing,2024-07-01,,-100,\n"
        "JM-0002,qualification,2024-03-01,high_tech,,\n"
        "JM-0002,revocation,2024-05-01,tech_sme,,withdrawn\n",
        encoding="utf-8",
    )
    before = source("export", "-", "--facts").stdout
    result = source("import", str(bad), ok=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {bad} rejected, nothing imported: 2 bad rows (first: line 2: cannot record "
        "financing for JM-0001: the amount cannot be negative (-100))",
        "  line 2: cannot record financing for JM-0001: the amount cannot be negative (-100)",
        "  line 4: cannot record revocation for JM-0002: JM-0002 has no tech_sme qualification "
        "to revoke",
    ]
    assert source("export", "-", "--facts").stdout == before


def test_the_facts_export_writes_xlsx_with_text_cells_and_csv_with_a_bom(
    source: Run, tmp_path: Path
) -> None:
    book = tmp_path / "facts.xlsx"
    assert source("export", str(book), "--facts").stdout == f"exported 6 facts to {book}\n"
    sheet = load_workbook(book).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2)]
    financing = next(r for r in rows if r["fact"].value == "financing")
    assert (financing["note"].value, financing["note"].data_type) == ("=1+1", "s")
    assert (financing["amount"].value, financing["amount"].data_type) == (6_000_000, "n")
    milestone = next(r for r in rows if r["fact"].value == "milestone")
    assert (milestone["evidence"].value, milestone["evidence"].data_type) == ("@SUM(1)", "s")

    refused = source("export", str(book), "--facts", ok=False)
    assert (refused.exit_code, "--force" in refused.stderr) == (1, True)
    source("export", str(book), "--facts", "--force")

    with_bom, plain = tmp_path / "excel.csv", tmp_path / "plain.csv"
    source("export", str(with_bom), "--facts", "--bom")
    source("export", str(plain), "--facts")
    assert with_bom.read_bytes().startswith(b"\xef\xbb\xbfcompany_key,fact,date,")
    assert with_bom.read_bytes()[3:] == plain.read_bytes()


def test_facts_go_to_csv_or_xlsx_only_and_never_onto_the_database(
    source: Run, tmp_path: Path
) -> None:
    result = source("export", str(tmp_path / "facts.xes"), "--facts", ok=False)
    assert result.stderr == "error: --facts exports CSV or xlsx; an XES log holds events only\n"
    result = source("export", str(tmp_path / "source.db"), "--facts", "--force", ok=False)
    assert result.exit_code == 1 and "it is the database" in result.stderr


def test_a_long_facts_file_shows_a_progress_bar(
    source: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as out:
        out.write("company_key,fact,year,revenue,note\n")
        for i in range(6_000):
            out.write(f"JM-0002,figures,{2000 + i % 25},{i},{'a long note ' * 6}\n")
    assert big.stat().st_size > 400_000
    phases: list[str] = []

    @contextmanager
    def bar(enabled: bool = True) -> Iterator[Callable[[str, int, int], None] | None]:
        assert enabled
        yield lambda phase, done, total: phases.append(phase)

    monkeypatch.setattr(cli_module, "progress_bar", bar)
    assert "imported 6000 facts for 1 company" in source("import", str(big)).stdout
    assert {"checking", "staging", "writing"} <= set(phases)
