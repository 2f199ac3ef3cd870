"""The event-log import's header and row checks (DESIGN §10): exactly the known columns, and
the same date, key and text rules as the commands, reported line by line."""

from __future__ import annotations

import csv
import io

import pytest

from incubator import services
from incubator.services import ImportRejected
from incubator.store import Database
from tests.conftest import OWNER

ROW = "JM-1,Alpha,admit,,seed,2024-01-01,wang,,,biomedicine,钟祥,\n"
HEADER = "company_key,company_name,event,from_stage,to_stage,effective_at,actor,note,reason,sector,site,uscc\n"


def count_companies(db: Database) -> int:
    return len(services.list_companies(db))


def refused(db: Database, text: str) -> dict[int, list[str]]:
    """The problems of a rejected import, by line; asserts that nothing was written."""
    with pytest.raises(ImportRejected) as rejected:
        services.import_events(db, text, actor=OWNER)
    assert count_companies(db) == 0
    found: dict[int, list[str]] = {}
    for problem in rejected.value.problems:
        found.setdefault(problem.line, []).append(problem.message)
    return found


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (
            "company_key,company_name,event,to_stage,effective_at,company_key\n",
            "JM-1,Alpha,admit,seed,2024-01-01,JM-2\n",
            "duplicate column 'company_key' (columns 1 and 6); a column may appear only once",
        ),
        (
            "company_key,company_name,event,to_stage,effective_at,To_Stage\n",
            "JM-1,Alpha,admit,seed,2024-01-01,nursery\n",
            "duplicate column 'to_stage' (columns 4 and 6)",
        ),
        (
            "company_key,company_name,event,to_stage,effective_at,sitee\n",
            "JM-1,Alpha,admit,seed,2024-01-01,钟祥\n",
            "unknown column 'sitee' (column 6); known columns: company_key, company_name, event, "
            "from_stage, to_stage, effective_at, actor, note, reason, sector, site, uscc "
            "(an export's recorded_at, event_id, hash are ignored)",
        ),
        (
            "company_key,company_name,event,to_stage,effective_at,\n",
            "JM-1,Alpha,admit,seed,2024-01-01,\n",
            "column 6 has no name",
        ),
    ],
)
def test_a_duplicate_or_unknown_column_is_refused_with_its_name(
    db: Database, header: str, row: str, message: str
) -> None:
    problems = refused(db, header + row)
    assert list(problems) == [1]
    assert any(message in m for m in problems[1]), problems


def test_every_header_problem_is_listed_at_once(db: Database) -> None:
    problems = refused(db, "company_key,Sitee,event,EVENT,notes\nJM-1,x,admit,admit,\n")
    assert [m.split(" (")[0].split(";")[0] for m in problems[1]] == [
        "unknown column 'Sitee'",
        "duplicate column 'event'",
        "unknown column 'notes'",
        "missing columns to_stage, effective_at",
    ]


def test_known_columns_may_come_in_any_order_and_case(db: Database) -> None:
    text = "EFFECTIVE_AT, Site ,to_stage,Event,Company_Name,company_key\n2024-01-01,钟祥,seed,admit,Alpha,JM-1\n"
    services.import_events(db, text, actor=OWNER)
    company = services.show(db, "JM-1")
    assert (company.name, company.site, company.stage) == ("Alpha", "钟祥", "seed")


def test_an_exports_own_columns_are_known_and_ignored(db: Database) -> None:
    services.import_events(db, HEADER + ROW, actor=OWNER)
    out = io.StringIO()
    services.export_events(db, out)
    exported = out.getvalue()
    assert exported.splitlines()[0].endswith(",recorded_at,event_id,hash")
    again = exported.replace("JM-1", "JM-2")
    services.import_events(db, again, actor=OWNER)
    assert services.show(db, "JM-2").name == "Alpha"


# --- rows ----------------------------------------------------------------------------------


def csv_rows(*rows: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)  # a lone CR, too
    writer.writerow(HEADER.strip().split(","))
    writer.writerows(rows)
    return out.getvalue()


def admit_row(
    key: str = "JM-1", *, name: str = "Alpha", at: str = "2024-01-01", **more: str
) -> list[str]:
    values = {"actor": "wang", "note": "", "sector": "", "site": "", **more}
    return [key, name, "admit", "", "seed", at, values["actor"], values["note"], "",
            values["sector"], values["site"], ""]  # fmt: skip


def test_out_of_range_dates_are_named_by_line_not_raised(db: Database) -> None:
    problems = refused(
        db,
        csv_rows(
            admit_row("JM-1", at="0001-01-01"),
            admit_row("JM-2", at="0001-01-01T00:00:00+05:00"),
            admit_row("JM-3", at="9999-12-31T23:59:59-05:00"),
            admit_row("JM-4", at="1979-12-31T23:59:59.999999Z"),
            admit_row("JM-5", at="1980-01-01T00:00:00Z"),  # the earliest allowed
        ),
    )
    assert sorted(problems) == [2, 3, 4, 5]
    assert "effective_at 0001-01-01T00:00:00+00:00 is before 1980-01-01" in problems[2][0]
    assert "lies outside the calendar in UTC" in problems[3][0]
    assert "lies outside the calendar in UTC" in problems[4][0]
    assert "is before 1980-01-01" in problems[5][0]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (admit_row("RT-1\u200b"), "contains U+200B ZERO WIDTH SPACE, an invisible character"),
        (admit_row("RT\u202e-1"), "contains U+202E RIGHT-TO-LEFT OVERRIDE"),
        (admit_row("\ufeffRT-1"), "contains U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        (admit_row("RT\x851"), "contains U+0085 NEXT LINE, a line break"),
        (admit_row("RT\u20281"), "contains U+2028 LINE SEPARATOR"),
        (
            admit_row(name="\x1b]0;pwned\x07Alpha"),
            "company_name '\\x1b]0;pwned\\x07Alpha' contains U+001B ESCAPE",
        ),
        (admit_row(name="A\u202eB"), "company_name 'A\\u202eB' contains U+202E"),
        (admit_row(actor="wa\x1b[2Jng"), "actor 'wa\\x1b[2Jng' contains U+001B ESCAPE"),
        (admit_row(site="钟\u200b祥"), "site '钟\\u200b祥' contains U+200B"),
        (admit_row(sector="bio\nmed"), "sector 'bio\\nmed' contains U+000A LINE FEED"),
        (admit_row(note="\x1b[31mred"), "the note contains U+001B ESCAPE, a control character"),
        (admit_row(note="over\rwrite"), "the note contains U+000D CARRIAGE RETURN"),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_lookalike_keys_and_hidden_characters_are_named_by_line(
    db: Database, row: list[str], message: str
) -> None:
    problems = refused(db, csv_rows(admit_row("OK-1"), row))
    assert list(problems) == [3]
    assert message in problems[3][0], problems


def test_imported_keys_are_nfc_normalised_and_notes_keep_line_breaks(db: Database) -> None:
    note = "line 1\n\tline 2"
    services.import_events(db, csv_rows(admit_row("Cafe\u0301-1", note=note)), actor=OWNER)
    assert [c.key for c in services.list_companies(db)] == ["Café-1"]
    assert services.history(db, "Cafe\u0301-1")[0].note == note


def test_moves_of_a_company_whose_key_predates_the_key_rules_can_be_imported(
    db: Database,
) -> None:
    with db.engine.begin() as conn:  # a key admitted before keys were restricted
        services.admit(db, "OLD-1", name="Old", stage="seed", actor=OWNER, at="2024-01-01")
        conn.exec_driver_sql("UPDATE company SET key = 'OLD 1' WHERE key = 'OLD-1'")
    services.import_events(
        db,
        "company_key,event,to_stage,effective_at\nOLD 1,advance,nursery,2024-02-01\n",
        actor=OWNER,
    )
    assert services.show(db, "OLD 1").stage == "nursery"
