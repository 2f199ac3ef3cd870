"""The process-mining exports of the demo data (`incubator demo`), read back by PM4Py: one case
per company, every event with its documented activity, its actor and its exact time; the OCEL
log with its company and site objects, their relations and each company's stage history.

PM4Py (AGPL) is a test-only dependency (the `test` extra): it is imported inside these tests
only, so the rest of the suite does not pay for its import.
"""

from __future__ import annotations

import csv
import json
import tomllib
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from incubator import cli
from incubator.cli import app
from incubator.processmining import activity, write_xes
from incubator.store import Database
from tests.unit.test_processmining import event, validate_ocel

#: PM4Py suggests its optional Rust reader each time it reads XES without one.
pytestmark = pytest.mark.filterwarnings("ignore:Install the optional requirement:UserWarning")


def pm4py() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # whatever its dependencies say
        import pm4py as module
    return module


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result


@pytest.fixture
def demo_files(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """The demo data on each database (`incubator demo`), exported as CSV, XES and OCEL."""
    opened: list[Database] = []  # the commands' databases, closed as a process would on exit

    def open_db(*args: Any, **kwargs: Any) -> Database:
        opened.append(real_open_db(*args, **kwargs))
        return opened[-1]

    real_open_db = cli.open_db
    monkeypatch.setattr(cli, "open_db", open_db)
    try:
        yield make_demo_files(db, tmp_path)
    finally:
        for database in opened:
            database.dispose()


def make_demo_files(db: Database, tmp_path: Path) -> dict[str, Any]:
    run("demo", "--db", db.url)
    files = {fmt: tmp_path / name for fmt, name in
             [("csv", "events.csv"), ("xes", "events.xes"), ("ocel", "events.json")]}  # fmt: skip
    for path in files.values():
        run("export", str(path), "--db", db.url)
    with files["csv"].open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 675
    return {"rows": rows, **files}


def expected_activity(row: dict[str, str]) -> str:
    return activity(row["event"], row["to_stage"], row["reason"])


def test_pm4py_reads_the_xes_export_as_one_case_per_company_with_every_event(
    demo_files: dict[str, Any],
) -> None:
    rows = demo_files["rows"]
    frame = pm4py().read_xes(str(demo_files["xes"]), show_progress_bar=False)  # its default reader
    assert len(frame) == len(rows)
    assert frame["case:concept:name"].nunique() == len({r["company_key"] for r in rows}) == 300
    got = list(zip(frame["case:concept:name"], frame["concept:name"], frame["time:timestamp"],
                   frame["org:resource"], frame["lifecycle:transition"], strict=True))  # fmt: skip
    assert got == [
        (r["company_key"], expected_activity(r), datetime.fromisoformat(r["effective_at"]),
         r["actor"], "complete")
        for r in rows
    ]  # fmt: skip
    assert set(frame["concept:name"]) == {
        "admit → seed", "admit → nursery", "admit → incubator", "admit → accelerator",
        "advance → nursery", "advance → incubator", "advance → accelerator",
        "advance → industrial_park", "exit (failed)", "exit (withdrew)", "exit (relocated)",
        "exit (acquired)", "exit (listed)", "exit (other)",
    }  # fmt: skip
    dfg, starts, ends = pm4py().discover_dfg(frame)
    assert all(name.startswith("admit → ") for name in starts)
    assert sum(starts.values()) == 300
    assert dfg[("advance → incubator", "advance → accelerator")] > 0


def test_pm4py_reads_names_and_notes_back_exactly(demo_files: dict[str, Any]) -> None:
    """Quotes in the demo names (湖北"银鹤"…), commas and Chinese notes, as stored."""
    rows = demo_files["rows"]
    frame = pm4py().read_xes(str(demo_files["xes"]), show_progress_bar=False)
    assert any('"' in r["company_name"] for r in rows)
    assert list(frame["case:name"]) == [r["company_name"] for r in rows]
    assert list(frame["case:site"]) == [r["site"] for r in rows]
    assert list(frame["note"].fillna("")) == [r["note"] for r in rows]
    assert list(frame["from_stage"].fillna("")) == [r["from_stage"] for r in rows]
    assert list(frame["reason"].fillna("")) == [r["reason"] for r in rows]
    log = pm4py().read_xes(
        str(demo_files["xes"]), variant="iterparse", return_legacy_log_object=True,
        show_progress_bar=False,
    )  # fmt: skip
    assert set(log.extensions) == {"Concept", "Time", "Organizational", "Lifecycle"}
    assert log.classifiers["Activity"] == ["concept:name"]


def test_pm4py_reads_the_ocel_export_with_company_and_site_objects(
    demo_files: dict[str, Any],
) -> None:
    rows = demo_files["rows"]
    validate_ocel(json.loads(demo_files["ocel"].read_bytes()))
    ocel = pm4py().read_ocel2_json(str(demo_files["ocel"]))
    events = ocel.events.set_index("ocel:eid")
    assert len(events) == 675
    by_id = {r["event_id"]: r for r in rows}
    assert set(events.index) == set(by_id)
    for eid, read in events.iterrows():
        row = by_id[eid]
        assert read["ocel:activity"] == expected_activity(row)
        assert read["ocel:timestamp"] == datetime.fromisoformat(row["effective_at"])
        assert read["actor"] == row["actor"]
    assert Counter(ocel.objects["ocel:type"]) == {"company": 300, "site": 4}
    sites = set(ocel.objects.loc[ocel.objects["ocel:type"] == "site", "name"])
    assert sites == {r["site"] for r in rows} == {"钟祥", "京山", "沙洋", "高新区"}

    relations = ocel.relations
    moved = relations[relations["ocel:qualifier"] == "moved"]
    assert dict(zip(moved["ocel:eid"], moved["ocel:oid"], strict=True)) == {
        eid: r["company_key"] for eid, r in by_id.items()
    }
    at_site = relations[relations["ocel:qualifier"] == "at site"]
    assert dict(zip(at_site["ocel:eid"], at_site["ocel:oid"], strict=True)) == {
        eid: f"site:{r['site']}" for eid, r in by_id.items()
    }
    located = {r["company_key"]: f"site:{r['site']}" for r in rows}
    assert dict(zip(ocel.o2o["ocel:oid"], ocel.o2o["ocel:oid_2"], strict=True)) == located

    # The stage: its first value at the admit, then a change at every later event.
    companies = ocel.objects[ocel.objects["ocel:type"] == "company"].set_index("ocel:oid")
    admits = {r["company_key"]: r["to_stage"] for r in rows if r["event"] == "admit"}
    assert companies["stage"].to_dict() == admits
    changes = ocel.object_changes
    assert len(changes) == 675 - 300
    last = changes.sort_values("ocel:timestamp").groupby("ocel:oid")["stage"].last().to_dict()
    current = {r["company_key"]: r["to_stage"] for r in rows}  # the last row of each company
    assert {key: last.get(key, admits[key]) for key in current} == current


def test_the_ocel_export_reads_back_as_json_with_the_notes_as_typed(
    demo_files: dict[str, Any],
) -> None:
    document = json.loads(demo_files["ocel"].read_bytes())
    notes = {e["id"]: next((a["value"] for a in e["attributes"] if a["name"] == "note"), "")
             for e in document["events"]}  # fmt: skip
    assert notes == {r["event_id"]: r["note"] for r in demo_files["rows"]}


@pytest.mark.parametrize("variant", [None, "line_by_line"])
def test_pm4py_readers_read_a_log_dense_with_chinese_text(
    tmp_path: Path, variant: str | None
) -> None:
    """Its XML reader (the default, with lxml), and its line reader, which leaves escapes
    such as &amp; as they are (none in this log). (Its "chunk_regex" reader, the default
    only where lxml is missing, decodes 4 KiB pieces and fails where one cuts a character.)"""
    events = [
        event(f"JM-{n:04d}", n, "admit", "", "seed", "2024-01-01",
              company_name="荆门" * (n % 7 + 1), note="汉江" * (n % 13) + "。" * (n % 3))
        for n in range(1, 400)
    ] + [event("JM-9999", 9999, "admit", "", "seed", "2024-01-01", note="长" * 5000)]  # fmt: skip
    path = tmp_path / "dense.xes"
    with path.open("wb") as out:
        write_xes(out, events)
    frame = pm4py().read_xes(str(path), variant=variant, show_progress_bar=False)
    assert list(frame["case:name"]) == [e.company_name for e in events]
    assert list(frame["note"].fillna("")) == [e.note for e in events]


def test_the_tracker_itself_never_depends_on_pm4py() -> None:
    """PM4Py is AGPL: a test-only extra, never a dependency or an import of the package."""
    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any("pm4py" in d.lower() for d in project["dependencies"])
    assert any(d.startswith("pm4py>=") for d in project["optional-dependencies"]["test"])
    for path in [*(root / "incubator").rglob("*.py"), *(root / "ui").rglob("*.py")]:
        assert "pm4py" not in path.read_text(encoding="utf-8"), path
