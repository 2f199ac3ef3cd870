"""Import and export of the event-log CSV: all-or-nothing, every bad line reported."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from incubator import csvfiles, eventlog, services
from incubator.services import ImportRejected
from incubator.store import Database
from tests.conftest import OWNER

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo_events.csv"
HEADER = "company_key,company_name,event,from_stage,to_stage,effective_at,actor,note,reason,sector,site,uscc\n"
GOOD = (
    HEADER
    + "JM-1,Alpha,admit,,seed,2024-01-01,wang,,,biomedicine,钟祥,\n"
    + "JM-1,,advance,seed,nursery,2024-03-01,wang,first pitch,,,,\n"
    + "JM-2,贝塔科技,admit,,incubator,2024-02-01T09:30:00+08:00,li,,,green chemicals,京山,91350100M000100Y43\n"
    + "JM-2,,exit,incubator,,2024-06-01,li,,relocated,,,\n"
)


def counts(db: Database) -> tuple[int, int, int]:
    with db.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("company", "stage_event", "spell")
        )


def export_rows(db: Database) -> list[dict[str, str]]:
    out = io.StringIO()
    services.export_events(db, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


BUSINESS = [c for c in services.CSV_COLUMNS]


def business(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return [tuple(r[c] for c in BUSINESS) for r in rows]


def test_a_good_file_is_imported_through_the_machine(db: Database) -> None:
    result = services.import_events(db, GOOD, actor=OWNER)
    assert (result.rows, result.companies_new, result.events) == (4, 2, 4)
    assert services.show(db, "JM-1").stage == "nursery"
    two = services.show(db, "JM-2")
    assert (two.stage, two.uscc, two.site) == ("exited", "91350100M000100Y43", "京山")
    assert two.admitted_at.isoformat() == "2024-02-01T01:30:00+00:00"
    assert [e.note for e in services.history(db, "JM-1")] == ["", "first pitch"]
    assert services.verify_audit(db).ok
    assert counts(db) == (2, 4, 3)


def test_the_demo_file_imports_and_verifies(db: Database) -> None:
    result = services.import_events(db, DEMO, actor=OWNER)
    assert result.companies_new >= 250
    audit = services.verify_audit(db)
    assert audit.ok and audit.events == result.events


def test_export_import_export_gives_the_same_business_columns(
    make_database: Callable[[str], Database], db: Database
) -> None:
    services.import_events(db, DEMO, actor=OWNER)
    first = export_rows(db)
    again = make_database("sqlite")
    text = "\n".join([",".join(services.EXPORT_COLUMNS)]) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, services.EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(first)
    assert text  # the export's own header is importable
    services.import_events(again, buffer.getvalue(), actor=OWNER)
    assert business(export_rows(again)) == business(first)


def test_rows_are_applied_in_time_order_whatever_the_file_order(db: Database) -> None:
    lines = GOOD.splitlines()
    body = lines[1:]
    random.Random(7).shuffle(body)
    services.import_events(db, "\n".join([lines[0], *body]) + "\n", actor=OWNER)
    assert [e.to_stage for e in services.history(db, "JM-1")] == ["seed", "nursery"]
    assert services.show(db, "JM-2").stage == "exited"


def test_file_order_breaks_ties_in_time(db: Database) -> None:
    tied = (
        HEADER
        + "JM-1,A,admit,,seed,2024-01-01,w,,,,,\n"
        + "JM-1,,advance,,nursery,2024-01-01,w,,,,,\n"
        + "JM-1,,advance,,incubator,2024-01-01,w,,,,,\n"
    )
    services.import_events(db, tied, actor=OWNER)
    assert services.show(db, "JM-1").stage == "incubator"
    reversed_ties = (
        HEADER + "JM-9,,advance,,nursery,2024-01-01,w,,,,,\nJM-9,A,admit,,seed,2024-01-01,w,,,,,\n"
    )
    with pytest.raises(ImportRejected) as refused:
        services.import_events(db, reversed_ties, actor=OWNER)
    assert [p.line for p in refused.value.problems] == [2]  # the admit itself is fine


def test_an_import_can_extend_companies_already_in_the_database(db: Database) -> None:
    services.import_events(db, GOOD, actor=OWNER)
    more = HEADER + "JM-1,,advance,nursery,incubator,2024-09-01,wang,,,,,\n"
    result = services.import_events(db, more, actor=OWNER)
    assert (result.companies_new, result.companies_updated) == (0, 1)
    assert [e.seq for e in services.history(db, "JM-1")] == [1, 2, 3]
    assert services.show(db, "JM-1").stage == "incubator"
    assert services.verify_audit(db).ok
    with db.engine.connect() as conn:
        open_spells = conn.exec_driver_sql(
            "SELECT stage FROM spell WHERE end_us IS NULL AND company_id = "
            "(SELECT id FROM company WHERE key = 'JM-1')"
        ).all()
    assert [r[0] for r in open_spells] == ["incubator"]


def test_every_bad_row_is_reported_and_nothing_is_written(db: Database) -> None:
    bad = (
        HEADER
        + "JM-1,Alpha,admit,,seed,2024-01-01,wang,,,,,\n"  # 2 ok
        + "JM-1,,advance,seed,incubator,2024-02-01,wang,,,,,\n"  # 3 skips nursery
        + "JM-2,,admit,,seed,2024-01-01,wang,,,,,\n"  # 4 blank name
        + "JM-3,Gamma,admit,,seed,31/01/2024,wang,,,,,\n"  # 5 bad date
        + "JM-4,Delta,admit,,garage,2024-01-01,wang,,,,,\n"  # 6 unknown stage
        + "JM-5,Eps,admit,,seed,2024-01-01,wang,,,,,91350100M000100Y44\n"  # 7 bad USCC
        + "JM-1,,exit,,,2024-03-01,wang,,,,,\n"  # 8 exit without reason
        + "JM-6,,advance,,nursery,2024-01-01,wang,,,,,\n"  # 9 unknown company
        + "JM-7,Eta,admit,,seed,2099-01-01,wang,,,,,\n"  # 10 future
        + "JM-1,,advance,seed,nursery,2023-01-01,wang,,,,,\n"  # 11 first by time: before admit
        + "JM-8,Theta,admit,,seed,2024-01-01,wang\n"  # 12 too few fields
    )
    with pytest.raises(ImportRejected) as refused:
        services.import_events(db, bad, actor=OWNER)
    problems = {p.line: p.message for p in refused.value.problems}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "JM-1 is in seed; allowed: advance (to nursery), exit" in problems[3]
    assert "company_name is required" in problems[4]
    assert "cannot read '31/01/2024'" in problems[5]
    assert "unknown stage 'garage'" in problems[6]
    assert "GB 32100-2015" in problems[7]
    assert "needs a reason" in problems[8]
    assert "no earlier admit row" in problems[9]
    assert "future" in problems[10]
    assert "no earlier admit row" in problems[11] or "before" in problems[11]
    assert "fields where the header has 12" in problems[12]
    assert counts(db) == (0, 0, 0)


def test_a_duplicate_admit_is_refused_against_the_database_too(db: Database) -> None:
    services.import_events(db, GOOD, actor=OWNER)
    with pytest.raises(ImportRejected) as refused:
        services.import_events(
            db, HEADER + "JM-1,Again,admit,,seed,2024-05-01,w,,,,,\n", actor=OWNER
        )
    assert "company key 'JM-1' is already taken" in str(refused.value.problems[0])
    assert counts(db) == (2, 4, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
        (HEADER.encode(), "header but no rows"),
        (b"company_key,event\nJM-1,admit\n", "missing columns to_stage, effective_at"),
        (
            "company_key,company_name,event,to_stage,effective_at\nJM-1,荆门,admit,seed,2024-01-01\n".encode(
                "gbk"
            ),
            "not UTF-8",
        ),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    db: Database, data: bytes, message: str
) -> None:
    with pytest.raises(ImportRejected) as refused:
        services.import_events(db, data, actor=OWNER)
    assert message in str(refused.value)
    assert counts(db) == (0, 0, 0)


def test_a_file_the_csv_reader_cannot_read_is_refused(db: Database) -> None:
    with pytest.raises(ImportRejected) as refused:
        services.import_events(
            db, GOOD + "JM-3,Nul\x00,admit,,seed,2024-01-01,w,,,,,\n", actor=OWNER
        )
    assert [p.line for p in refused.value.problems] == [6]
    assert "NUL" in str(refused.value)
    assert counts(db) == (0, 0, 0)


def test_a_utf8_bom_from_spreadsheet_exports_is_accepted(db: Database) -> None:
    services.import_events(db, ("\ufeff" + GOOD).encode(), actor=OWNER)
    assert services.show(db, "JM-2").name == "贝塔科技"


def test_quotes_commas_and_sql_in_names_round_trip(db: Database) -> None:
    name = 'Robert"); DROP TABLE company;--, 荆门 "银鹤"'
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [services.CSV_COLUMNS[:6], ["JM-1", name, "admit", "", "seed", "2024-01-01"]]
    )
    services.import_events(db, out.getvalue(), actor=OWNER)
    assert services.show(db, "JM-1").name == name
    assert export_rows(db)[0]["company_name"] == name


def test_rows_without_an_actor_are_recorded_as_the_importer(db: Database) -> None:
    services.import_events(
        db,
        "company_key,company_name,event,to_stage,effective_at\nJM-1,A,admit,seed,2024-01-01\n",
        actor=OWNER,
    )
    assert services.history(db, "JM-1")[0].actor == OWNER.name


def test_an_unclosed_quote_is_refused_instead_of_swallowing_later_rows(db: Database) -> None:
    text = (
        GOOD
        + 'JM-5,Five,admit,,seed,2024-01-01,w,"unterminated,,,,\nJM-6,Six,admit,,seed,2024-01-01,w,,,,,\n'
    )
    with pytest.raises(ImportRejected) as refused:
        services.import_events(db, text, actor=OWNER)
    assert [p.line for p in refused.value.problems] == [6]
    assert "not readable as CSV" in str(refused.value.problems[0])
    assert counts(db) == (0, 0, 0)


def test_re_importing_an_export_into_the_same_database_names_the_taken_keys(db: Database) -> None:
    services.import_events(db, GOOD, actor=OWNER)
    out = io.StringIO()
    services.export_events(db, out)
    with pytest.raises(ImportRejected) as refused:
        services.import_events(db, out.getvalue(), actor=OWNER)
    first = refused.value.problems[0]
    assert first.line == 2 and "company key 'JM-1' is already taken" in first.message
    assert counts(db) == (2, 4, 3)


def test_long_notes_round_trip_and_overlong_labels_are_named_by_line(db: Database) -> None:
    note = "长" * 200_000
    services.admit(db, "JM-1", name="A", stage="seed", actor=OWNER, at="2024-01-01", note=note)
    out = io.StringIO()
    services.export_events(db, out)
    again = out.getvalue().replace("JM-1", "JM-2")
    services.import_events(db, again, actor=OWNER)
    assert services.history(db, "JM-2")[0].note == note
    bad = HEADER + f"JM-3,C,admit,,seed,2024-01-01,w,,,,{'x' * 121},\n"
    with pytest.raises(ImportRejected) as refused:
        services.import_events(db, bad, actor=OWNER)
    assert "line 2: site has 121 characters" in str(refused.value.problems[0])


# --- reading in batches (an import holds one batch of companies, not the file) ---------------

SPREAD = (
    HEADER
    + "JM-1,Alpha,admit,,seed,2024-01-01,wang,,,biomedicine,钟祥,\n"
    + "JM-2,Beta,admit,,seed,2024-01-02,wang,,,biomedicine,钟祥,\n"
    + "JM-3,Gamma,admit,,nursery,2024-01-03,wang,,,biomedicine,钟祥,\n"
    + "JM-1,,advance,seed,nursery,2024-03-01,wang,,,,,\n"
    + "JM-3,,exit,nursery,,2024-04-01,wang,,failed,,,\n"
)


def in_batches_of(monkeypatch: pytest.MonkeyPatch, companies: int) -> None:
    monkeypatch.setattr(eventlog, "BATCH_COMPANIES", companies)


def test_a_file_read_in_several_batches_imports_as_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_batches_of(monkeypatch, 1)
    result = services.import_events(db, GOOD, actor=OWNER)
    assert (result.rows, result.companies_new, result.events) == (4, 2, 4)
    assert counts(db) == (2, 4, 3)
    assert services.verify_audit(db).ok


def test_the_demo_file_read_in_batches_of_7_companies_exports_as_it_was_read(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = DEMO.read_bytes()
    in_batches_of(monkeypatch, 7)
    services.import_events(db, demo, actor=OWNER)
    assert services.verify_audit(db).ok
    moves = ("company_key", "event", "from_stage", "effective_at", "actor", "note", "reason")
    exported = [tuple(r[c] for c in moves) for r in export_rows(db)]
    read = [tuple(r[c] for c in moves) for r in csv.DictReader(io.StringIO(demo.decode()))]
    assert sorted(exported) == sorted(read)


def test_a_bad_row_in_a_later_batch_writes_nothing_and_every_bad_line_is_reported(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_batches_of(monkeypatch, 1)
    bad = (
        HEADER
        + "JM-1,Alpha,admit,,seed,2024-01-01,wang,,,biomedicine,钟祥,\n"
        + "JM-2,Beta,admit,,seed,2024-01-02,wang,,,biomedicine,钟祥,\n"
        + "JM-2,,advance,seed,incubator,2024-03-01,wang,,,,,\n"
        + "JM-3,Gamma,admit,,seed,2024-01-03,wang,,,biomedicine,钟祥,\n"
        + "JM-3,,exit,seed,,2024-04-01,wang,,no-such-reason,,,\n"
        + "jm-1,Twin,admit,,seed,2024-01-03,wang,,,biomedicine,钟祥,\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        services.import_events(db, bad, actor=OWNER)
    assert [p.line for p in rejected.value.problems] == [4, 6, 7]
    assert "JM-1" in str(rejected.value.problems[-1])  # a case twin of an earlier batch's key
    assert counts(db) == (0, 0, 0)


def test_a_file_that_lists_a_company_s_rows_apart_is_read_again_as_one_batch(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_batches_of(monkeypatch, 1)
    result = services.import_events(db, SPREAD, actor=OWNER)
    assert (result.companies_new, result.events) == (3, 5)
    assert [services.show(db, k).stage for k in ("JM-1", "JM-2", "JM-3")] == [
        "nursery",
        "seed",
        "exited",
    ]
    assert counts(db) == (3, 5, 4)
    assert services.verify_audit(db).ok


def test_an_import_from_a_file_reads_it_in_pieces(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvfiles, "SCAN_CHUNK", 16)  # every character of a piece boundary
    path = tmp_path / "log.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = services.import_events(db, path, actor=OWNER)
    assert (result.companies_new, result.events) == (2, 4)
    path.write_bytes(GOOD.encode()[:200] + b"\xff" + GOOD.encode()[200:])
    with pytest.raises(ImportRejected, match="not UTF-8|UTF-8"):
        services.import_events(db, path, actor=OWNER)


def test_an_event_log_file_is_never_read_whole(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def whole(*_: object) -> bytes:
        raise AssertionError("read whole")

    monkeypatch.setattr(services, "read_bytes", whole)
    monkeypatch.setattr(csvfiles, "read_bytes", whole)
    path = tmp_path / "log.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = services.import_file(db, path, actor=OWNER)
    assert (result.companies_new, result.events) == (2, 4)  # type: ignore[union-attr]


def test_a_large_import_on_postgresql_leaves_the_planner_its_statistics(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite plans the metric queries by the indexes they name")
    from incubator import store

    def analyzed(table: str) -> bool:
        with db.engine.connect() as conn:
            stats = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stats "
                f"WHERE schemaname = current_schema() AND tablename = '{table}'"
            ).scalar()
        return bool(stats)

    assert not analyzed("spell") and not analyzed("stage_event")
    monkeypatch.setattr(store, "ANALYZE_FROM", 400)  # the demo: 300 companies, 460 spells
    result = services.import_events(db, DEMO, actor=OWNER)
    assert result.companies_new == 300
    assert analyzed("spell") and analyzed("stage_event")
    assert not analyzed("company")  # fewer rows than ANALYZE_FROM: left to autovacuum


def test_an_import_holds_off_full_garbage_collections_and_restores_them(db: Database) -> None:
    import gc

    before = gc.get_threshold()
    during: list[tuple[int, ...]] = []
    services.import_events(
        db, DEMO, actor=OWNER, progress=lambda *_: during.append(gc.get_threshold())
    )
    assert during and all(t[:2] == before[:2] and t[2] >= 10**9 for t in during)
    assert gc.get_threshold() == before
    with pytest.raises(ImportRejected):  # restored after a refused file too
        services.import_events(db, "company_key,event\nJM-1,admit\n", actor=OWNER)
    assert gc.get_threshold() == before
