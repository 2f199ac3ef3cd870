"""Import and export of company facts as CSV (DESIGN §8): one file with a `fact` column,
validated as the commands validate, all-or-nothing with every bad line reported, and a round
trip through an empty database."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from incubator import factlog, services
from incubator.access import Actor, Role
from incubator.factlog import CSV_COLUMNS, EXPORT_COLUMNS
from incubator.stages import Conflict, PermissionDenied
from incubator.store import Database
from tests.conftest import OWNER

EVENTS = (
    "company_key,company_name,event,to_stage,effective_at,site,uscc\n"
    "JM-1,Alpha,admit,seed,2024-01-01,钟祥,91420881MA4R0QMA42\n"
    "JM-2,贝塔科技,admit,nursery,2024-02-01,京山,\n"
)
HEADER = (
    "company_key,fact,date,kind,level,number,expires_on,reason,amount,round,investor,year,"
    "revenue,employees,employees_phd,evidence,note,actor\n"
)
GOOD = HEADER + (
    "JM-1,founded,2023-05-01,,,,,,,,,,,,,营业执照.pdf,,wang\n"
    'JM-1,qualification,2024-03-01,high_tech,national,GR202442000123,,,,,,,,,,,"a note, with a comma",\n'
    'JM-1,financing,2024-06-01,,,,,,"6,000,000",A,湖北高投,,,,,,,li\n'
    "JM-1,figures,,,,,,,,,,2024,12000000,40,3,,,\n"
    "JM-1,figures,,,,,,,,,,2024,13000000,,,,correction,\n"
    "JM-1,revocation,2025-01-02,high_tech,,,,certificate withdrawn,,,,,,,,,,\n"
    "JM-2,milestone,2025-02-02,listed,,,,,,,,,,,,新三板 874321,,\n"
    "JM-2,qualification,2023-01-01,tech_sme,,,,,,,,,,,,,,\n"
)
#: What a company's facts are read back as, for comparisons.
BUSINESS = [c for c in CSV_COLUMNS]


def setup(db: Database) -> Database:
    services.import_events(db, EVENTS, actor=OWNER)
    return db


def exported(db: Database) -> list[dict[str, str]]:
    out = io.StringIO()
    services.export_facts(db, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def business(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return [tuple(r[c] for c in BUSINESS) for r in rows]


def record_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM company_fact").scalar() or 0)


def derived_counts(db: Database) -> tuple[int, ...]:
    with db.engine.connect() as conn:
        return tuple(
            int(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() or 0)
            for t in ("qualification", "financing_round", "milestone", "annual_figures")
        )


def rejected(db: Database, text: str, actor: Actor = OWNER) -> list[str]:
    """The report of a rejected file, one line each; asserts that nothing was written."""
    before = record_count(db), derived_counts(db)
    with pytest.raises(services.ImportRejected) as caught:
        services.import_facts(db, text, actor=actor)
    assert (record_count(db), derived_counts(db)) == before
    return [str(p) for p in caught.value.problems]


# --- good files ------------------------------------------------------------------------------


def test_a_good_file_records_every_fact_and_its_derived_rows(db: Database) -> None:
    setup(db)
    result = services.import_facts(db, GOOD, actor=OWNER, source="facts.csv")
    assert (result.records, result.companies) == (8, 2)
    assert result.kinds == {"founded": 1, "qualification": 2, "financing": 1, "figures": 2,
                            "revocation": 1, "milestone": 1}  # fmt: skip
    one = services.facts(db, "JM-1").to_json()
    assert one["founded_on"] == "2023-05-01"
    (grant,) = one["qualifications"]
    assert (grant["number"], grant["expires_on"], grant["revoked_on"], grant["status"]) == (
        "GR202442000123", "2027-03-01", "2025-01-02", "revoked",
    )  # fmt: skip
    assert one["financing"][0]["amount"] == 6_000_000
    assert one["financing"][0]["actor"] == "li"
    assert one["figures"] == [{"year": 2024, "revenue": 13_000_000, "employees": 40,
                               "employees_phd": 3}]  # fmt: skip
    records = services.records(db, "JM-1")
    assert [r.actor for r in records[1:3]] == ["wang", "tester"]  # empty actor: the importer
    assert records[2].note == "a note, with a comma"
    two = services.facts(db, "JM-2").to_json()
    assert two["milestones"][0]["evidence"] == "新三板 874321"
    assert derived_counts(db) == (2, 1, 1, 1)
    assert services.verify_audit(db).ok
    assert services.show(db, "JM-1").stage == "seed"  # facts do not move companies


def test_export_import_export_gives_the_same_business_columns(
    make_database: Callable[..., Database], db: Database
) -> None:
    """The round trip of the issue: events and facts exported, imported into an empty
    database of the same kind, exported again."""
    setup(db)
    services.import_facts(db, GOOD, actor=OWNER)
    services.record_figures(db, "JM-2", year=2025, values={"net_profit": "-300000"}, actor=OWNER,
                            note="=1+1 stays as typed")  # fmt: skip
    services.record_founding(db, "JM-1", founded_on="2023-04-30", actor=OWNER)  # a correction
    events, facts = io.StringIO(), io.StringIO()
    services.export_events(db, events)
    services.export_facts(db, facts)
    first = list(csv.DictReader(io.StringIO(facts.getvalue())))
    assert [r["fact"] for r in first][-1] == "figures"  # JM-2's records come after JM-1's
    assert len(first) == 10

    again = make_database("postgresql" if db.dialect == "postgresql" else "sqlite")
    services.import_events(again, events.getvalue(), actor=OWNER)
    result = services.import_facts(again, facts.getvalue(), actor=OWNER)
    assert result.records == 10
    second = exported(again)
    assert business(second) == business(first)
    assert [r["hash"] for r in second] != [r["hash"] for r in first]  # chained anew
    assert services.facts(again, "JM-1").to_json()["founded_on"] == "2023-04-30"
    assert derived_counts(again) == derived_counts(db)
    assert services.verify_audit(again).ok


def test_a_file_extends_facts_already_in_the_database(db: Database) -> None:
    """A grant in the database revoked by the file, and a year in the database whose figures
    the file completes, update the derived rows in place."""
    setup(db)
    services.record_qualification(db, "JM-1", "high_tech", granted_on="2024-03-01", actor=OWNER)
    services.record_figures(db, "JM-1", year=2024, values={"revenue": 5_000_000}, actor=OWNER)
    services.import_facts(
        db,
        HEADER
        + "JM-1,revocation,2025-01-02,high_tech,,,,withdrawn,,,,,,,,,,\n"
        + "JM-1,figures,,,,,,,,,,2024,,30,,,,\n",
        actor=OWNER,
    )
    facts = services.facts(db, "JM-1").to_json()
    assert facts["qualifications"][0]["revoked_on"] == "2025-01-02"
    assert facts["figures"] == [{"year": 2024, "revenue": 5_000_000, "employees": 30}]
    assert derived_counts(db) == (1, 0, 0, 1)
    assert services.verify_audit(db).ok


def test_keys_are_found_in_any_case_and_chinese_names_of_kinds_are_accepted(db: Database) -> None:
    setup(db)
    services.import_facts(
        db,
        "company_key,fact,date,kind,level\n"
        "jm-1,成立日期,2023-05-01,,\n"
        "jm-1,资质认定,2024-03-01,高新技术企业,省级\n"
        "JM-2,Milestone,2025-02-02,被并购,\n",
        actor=OWNER,
    )
    facts = services.facts(db, "JM-1").to_json()
    assert facts["founded_on"] == "2023-05-01"
    assert (facts["qualifications"][0]["kind"], facts["qualifications"][0]["level"]) == (
        "high_tech", "provincial",
    )  # fmt: skip
    assert services.facts(db, "JM-2").to_json()["milestones"][0]["kind"] == "acquired"


def test_an_exports_own_columns_and_a_byte_order_mark_are_accepted(db: Database) -> None:
    setup(db)
    row = dict.fromkeys(EXPORT_COLUMNS, "") | {
        "company_key": "JM-1", "fact": "founded", "date": "2023-05-01", "actor": "x",
        "recorded_at": "2026-01-01T00:00:00+00:00", "record": "7", "hash": "abc",
    }  # fmt: skip
    text = "\ufeff" + ",".join(EXPORT_COLUMNS) + "\n" + ",".join(row.values()) + "\n"
    assert services.import_facts(db, text.encode(), actor=OWNER).records == 1
    assert services.records(db, "JM-1")[-1].actor == "x"


# --- bad files -------------------------------------------------------------------------------


def test_every_kind_of_bad_row_is_reported_by_line_and_nothing_is_written(db: Database) -> None:
    setup(db)
    services.record_founding(db, "JM-2", founded_on="2023-06-01", actor=OWNER)
    now = datetime.now(UTC)
    future = date(now.year + 1, 1, 1).isoformat()
    report = rejected(
        db,
        HEADER
        + "JM-1,founded,2023-05-01,,,,,,,,,,,,,,,\n"  # 2: good
        + "JM-1,award,2024-01-01,,,,,,,,,,,,,,,\n"  # 3: unknown kind of fact
        + "JM-1,qualification,2024-03-01,unicorn,,,,,,,,,,,,,,\n"  # 4
        + "JM-1,qualification,2024-03-01,high_tech,global,,,,,,,,,,,,,\n"  # 5
        + "JM-1,qualification,2024-03-01,high_tech,,,2024-02-01,,,,,,,,,,,\n"  # 6
        + "JM-1,revocation,2024-05-01,gazelle,,,,no grant,,,,,,,,,,\n"  # 7
        + "JM-1,qualification,2024-03-01,tech_sme,,,,,,,,,,,,,,\n"  # 8: good
        + "JM-1,revocation,2024-05-01,tech_sme,,,,revoked,,,,,,,,,,\n"  # 9: good
        + "JM-1,revocation,2024-06-01,tech_sme,,,,again,,,,,,,,,,\n"  # 10: revoked already
        + "JM-1,financing,2024-06-01,,,,,,-5000,,,,,,,,,\n"  # 11: negative money
        + "JM-1,financing,2024-06-01,,,,,,12.5,,,,,,,,,\n"  # 12: not whole
        + f"JM-1,financing,{future},,,,,,5000,,,,,,,,,\n"  # 13: future date
        + "JM-2,milestone,2023-01-01,listed,,,,,,,,,,,,,,\n"  # 14: before founding
        + f"JM-1,figures,,,,,,,,,,{now.year + 1},100,,,,,\n"  # 15: future year
        + "JM-1,figures,,,,,,,,,,2024,,5,6,,,\n"  # 16: PhDs above employees
        + "JM-1,figures,,,,,,,,,,2024,,-5,,,,\n"  # 17: negative count
        + "JM-9,founded,2023-05-01,,,,,,,,,,,,,,,\n"  # 18: unknown company
        + "JM-1,founded,2023-05-01,,,,,,500,,,,,,,,,\n"  # 19: amount on a founding row
        + "JM-1,founded,1899-12-31,,,,,,,,,,,,,,,\n",  # 20: before 1900
    )
    numbers = [*range(3, 8), *range(10, 21)]  # lines 8 and 9 are good
    assert [line.split(":", 1)[0] for line in report] == [f"line {n}" for n in numbers]
    expected = [
        "line 3: unknown fact 'award'; allowed: founded, qualification, revocation, financing, "
        "milestone, figures",
        "line 4: cannot record qualification for JM-1: unknown qualification kind 'unicorn'",
        "line 5: cannot record qualification for JM-1: unknown level 'global'",
        "line 6: cannot record qualification for JM-1: the expiry date 2024-02-01 is not after "
        "the grant date 2024-03-01",
        "line 7: cannot record revocation for JM-1: JM-1 has no gazelle qualification to revoke",
        "line 10: cannot record revocation for JM-1: every tech_sme qualification of JM-1 is "
        "revoked already",
        "line 11: cannot record financing for JM-1: the amount",
        "line 12: cannot record financing for JM-1: the amount",
        f"line 13: cannot record financing for JM-1: the financing date {future}",
        "line 14: cannot record milestone for JM-2: the milestone date 2023-01-01 is before the "
        "company was founded (2023-06-01)",
        f"line 15: cannot record figures for JM-1: figures for {now.year + 1} lie in the future",
        "line 16: cannot record figures for JM-1: employees_phd (6) cannot exceed employees (5)",
        "line 17: cannot record figures for JM-1: employees",
        "line 18: no company with key 'JM-9'",
        "line 19: column amount does not apply to a founded row; leave it empty (a founded row "
        "uses date)",
        "line 20: cannot record founded for JM-1: the founding date 1899-12-31",
    ]
    for line, start in zip(report, expected, strict=True):
        assert line.startswith(start), (line, start)
    assert "negative" in report[6] and "whole number" in report[7] and "negative" in report[12]
    assert services.facts(db, "JM-1").to_json()["founded_on"] is None


def test_rows_apply_in_file_order_so_a_revocation_needs_its_grant_before_it(db: Database) -> None:
    setup(db)
    report = rejected(
        db,
        "company_key,fact,date,kind,reason\n"
        "JM-1,revocation,2024-05-01,high_tech,withdrawn\n"
        "JM-1,qualification,2024-03-01,high_tech,\n",
    )
    assert report == [
        "line 2: cannot record revocation for JM-1: JM-1 has no high_tech qualification to revoke"
    ]
    services.import_facts(
        db,
        "company_key,fact,date,kind,reason\n"
        "JM-1,qualification,2024-03-01,high_tech,\n"
        "JM-1,revocation,2024-05-01,high_tech,withdrawn\n",
        actor=OWNER,
    )
    assert services.facts(db, "JM-1").to_json()["qualifications"][0]["status"] == "revoked"


def test_a_financing_round_is_checked_against_a_founding_date_earlier_in_the_file(
    db: Database,
) -> None:
    setup(db)
    report = rejected(
        db,
        "company_key,fact,date,amount\n"
        "JM-1,founded,2023-05-01,\n"
        "JM-1,financing,2023-04-01,100000\n",
    )
    assert report == [
        "line 3: cannot record financing for JM-1: the financing date 2023-04-01 is before the "
        "company was founded (2023-05-01)"
    ]


def test_a_file_imported_twice_is_refused_instead_of_doubling_the_facts(db: Database) -> None:
    """Facts are append-only: importing the same rounds again would double the company's
    financing (and pass gates it does not meet), so a row the company has already is bad."""
    setup(db)
    services.import_facts(db, GOOD, actor=OWNER)
    report = rejected(db, GOOD)
    assert len(report) == 8
    assert report[2] == (
        "line 4: cannot record financing for JM-1: JM-1 has the same financing already "
        "(record #4); importing it again would record it twice"
    )
    assert services.facts(db, "JM-1").to_json()["financing_total"] == 6_000_000


def test_a_line_copied_in_the_file_is_refused(db: Database) -> None:
    setup(db)
    report = rejected(
        db,
        "company_key,fact,date,amount\n"
        "JM-1,financing,2024-06-01,500000\n"
        "JM-1,financing,2024-07-01,500000\n"
        'JM-1,financing,2024-06-01,"500,000"\n',
    )
    assert report == [
        "line 4: cannot record financing for JM-1: JM-1 has the same financing already (line 2 "
        "of this file); importing it again would record it twice"
    ]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("company_key,fact,date,colour", "unknown column 'colour' (column 4)"),
        ("company_key,fact,date,DATE", "duplicate column 'date' (columns 3 and 4)"),
        ("company_key,date,kind", "missing column fact; expected columns: company_key, fact,"),
    ],
)
def test_an_unknown_duplicate_or_missing_column_is_refused_by_name(
    db: Database, header: str, problem: str
) -> None:
    setup(db)
    fields = header.count(",")
    report = rejected(db, header + "\nJM-1,founded,2023-05-01" + "," * (fields - 2) + "\n")
    assert len(report) == 1 and report[0].startswith(f"line 1: {problem}"), report


def test_an_empty_file_and_a_header_without_rows_are_refused(db: Database) -> None:
    setup(db)
    assert rejected(db, "") == ["line 1: the file is empty; expected a header row"]
    assert rejected(db, "company_key,fact,date\n") == ["line 1: the file has a header but no rows"]


# --- who may import --------------------------------------------------------------------------


def test_a_manager_imports_facts_of_their_site_only(db: Database) -> None:
    setup(db)
    wang = Actor("wang", Role.MANAGER, "钟祥")
    report = rejected(
        db,
        "company_key,fact,date,kind\n"
        "JM-1,founded,2023-05-01,\n"
        "JM-2,milestone,2025-02-02,listed\n"
        "JM-2,founded,2023-01-01,\n",
        actor=wang,
    )
    assert report == ["line 3: wang cannot write companies of site 京山 (JM-2)"]
    result = services.import_facts(
        db, "company_key,fact,date\nJM-1,founded,2023-05-01\n", actor=wang
    )
    assert result.records == 1
    assert services.records(db, "JM-1")[-1].actor == "wang"


def test_a_viewer_cannot_import_facts(db: Database) -> None:
    setup(db)
    with pytest.raises(PermissionDenied, match="viewer and cannot import facts"):
        services.import_facts(db, GOOD, actor=Actor("ann", Role.VIEWER))
    assert record_count(db) == 2  # the two profile records


# --- long files and concurrent writers --------------------------------------------------------


def test_a_long_file_reports_progress_in_every_phase(db: Database, tmp_path: Path) -> None:
    setup(db)
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("company_key,fact,year,revenue,employees\n")
        for i in range(25_000):  # a record a year of figures, then corrections
            out.write(f"JM-{1 + i % 2},figures,{2000 + i % 25},{i},{i % 50}\n")
    seen: list[tuple[str, int, int]] = []
    result = services.import_file(
        db, path, actor=OWNER, progress=lambda *report: seen.append(report)
    )
    assert isinstance(result, services.FactImportResult) and result.records == 25_000
    phases = [phase for phase, _, _ in seen]
    for phase in ("reading", "checking", "chaining", "staging", "writing"):
        assert phase in phases, phase
    assert ("reading", 20_001, 25_001) in seen
    assert seen[-1] == ("writing", 3, 3)  # records, figures, companies
    assert services.facts(db, "JM-2").to_json()["figures"][-1] == {
        "year": 2024, "revenue": 24_999, "employees": 49,
    }  # fmt: skip
    assert services.verify_audit(db).ok


def test_an_import_checks_and_lays_out_its_rows_before_taking_the_write_lock(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(sqlite_db)
    path = sqlite_db.url.removeprefix("sqlite:///")
    seen: list[str] = []

    def probing(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def probe(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                seen.append(f"{name}: the write lock is free")
            except sqlite3.OperationalError as exc:
                seen.append(f"{name}: {exc}")
            finally:
                other.close()
            return result

        return probe

    for name in ("_check", "_chain", "_stage"):
        monkeypatch.setattr(factlog, name, probing(name, getattr(factlog, name)))
    services.import_facts(sqlite_db, GOOD, actor=OWNER)
    assert seen == [f"{name}: the write lock is free" for name in ("_check", "_chain", "_stage")]
    assert record_count(sqlite_db) == 10


def test_a_company_changed_while_the_file_was_being_checked_makes_a_conflict_that_writes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(db)
    chain = factlog._chain

    def chain_then_record(*args: Any, **kwargs: Any) -> Any:
        plan = chain(*args, **kwargs)
        services.record_financing(db, "JM-2", amount=100, on="2025-01-01", actor=OWNER)
        return plan

    monkeypatch.setattr(factlog, "_chain", chain_then_record)
    with pytest.raises(Conflict) as conflict:
        services.import_facts(db, GOOD, actor=OWNER, source="facts.csv")
    assert str(conflict.value) == (
        "conflict: JM-2 changed while facts.csv was being imported; nothing was imported; "
        "import the file again"
    )
    assert record_count(db) == 3  # the profiles and the round recorded meanwhile
    assert derived_counts(db) == (0, 1, 0, 0)
    assert services.verify_audit(db).ok


# --- telling the files apart -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "facts"),
    [
        ("company_key,fact,date", True),
        ("\ufeffCompany_Key, FACT ,Date", True),
        ("company_key,date,kind,amount", True),  # no fact column: refused as a facts file
        ("company_key,company_name,event,to_stage,effective_at", False),
        ("company_key,event,fact", False),  # an event log with an unknown column
        ("company_key,colour", False),
        ("", False),
    ],
)
def test_a_facts_file_is_told_from_an_event_log_by_its_header(header: str, facts: bool) -> None:
    assert factlog.is_facts_file(f"{header}\nJM-1,x,y\n".encode()) is facts


def test_import_file_imports_either_kind(db: Database) -> None:
    events = services.import_file(db, EVENTS.encode(), actor=OWNER)
    assert isinstance(events, services.ImportResult) and events.events == 2
    facts = services.import_file(db, GOOD.encode(), actor=OWNER)
    assert isinstance(facts, services.FactImportResult) and facts.records == 8


def test_the_documented_example_imports(db: Database) -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "evidence.md").read_text("utf-8")
    example = page.split("## The facts CSV", 1)[1].split("```csv\n", 1)[1].split("```", 1)[0]
    services.admit(db, "JM-0042", name="荆门智造", stage="seed", actor=OWNER, at="2025-01-06")
    result = services.import_facts(db, example, actor=OWNER)
    assert result.kinds == {"founded": 1, "qualification": 1, "financing": 1, "figures": 1}
    facts = services.facts(db, "JM-0042").to_json()
    assert facts["financing_total"] == 6_000_000
    assert facts["figures"] == [{"year": 2025, "revenue": 12_000_000, "employees": 48}]
