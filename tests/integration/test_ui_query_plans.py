"""The web app's lists read a few index entries, not every row (issue 12, schema 0009).

Each test runs the store's own statement (caught as it is sent) under EXPLAIN QUERY PLAN on
SQLite, or EXPLAIN on PostgreSQL, and fails if the plan stops walking the index it was made
for: the audit log's newest rows (`ix_stage_event_recorded_at`, `ix_company_fact_recorded_at`),
a board column's longest stays (`ix_company_stage_entered`) and the filter pickers' values
(a loose scan of `ix_company_site`, `ix_company_sector`, `ix_company_cohort`). PostgreSQL
prefers reading a table this small whole, so its plans are asked for with sequential scans
and sorts priced out (`enable_seqscan`, `enable_sort` off): the index must still serve the
order, or a Sort appears. These test plans, not times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from incubator import services
from incubator.store import Database
from tests.conftest import BACKENDS, OWNER, ungate

pytestmark = pytest.mark.ungated

SITES = ("钟祥", "京山", "沙洋")
SECTORS = ("biomedicine", "organic food", "")


def populated(make_database: Callable[[str], Database], backend: str) -> Database:
    """A few companies over three sites, three sectors (one blank) and three cohorts, one of
    them moved and one with a profile change (a company record)."""
    db = ungate(make_database(backend))
    for i in range(9):
        services.admit(
            db, f"JM-{i:04d}", name=f"Company {i}", stage="seed", actor=OWNER,
            at=datetime(2021 + i % 3, 3, 1 + i, tzinfo=UTC),
            site=SITES[i % 3], sector=SECTORS[(i // 3) % 3],
        )  # fmt: skip
    services.advance(db, "JM-0001", actor=OWNER, at=datetime(2024, 5, 1, tzinfo=UTC))
    services.set_profile(db, "JM-0002", actor=OWNER, name="Renamed")
    return db


@contextmanager
def sent(db: Database, marker: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and parameters) sent to `db` whose text contains `marker`."""
    caught: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if marker in statement:
            caught.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield caught
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)


def plan(db: Database, statement: str, parameters: Any) -> list[str]:
    """The plan's lines (SQLite: EXPLAIN QUERY PLAN details; PostgreSQL: EXPLAIN's text)."""
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters or ())
            return [str(row[3]) for row in rows]
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters or None)
        return [str(row[0]) for row in rows]


def walks(lines: list[str], index: str, dialect: str, *, backward: bool = False) -> bool:
    """Whether the plan reads `index` and sorts nothing itself."""
    text = "\n".join(lines)
    if dialect == "sqlite":
        return f"INDEX {index}" in text and "TEMP B-TREE" not in text
    scan = "Index Scan Backward using" if backward else "using"
    return f"{scan} {index}" in text and "Sort" not in text


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_audit_log_walks_the_newest_events_by_index(
    make_database: Callable[[str], Database], backend: str
) -> None:
    db = populated(make_database, backend)
    with sent(db, "FROM stage_event JOIN company") as caught:
        rows = services.audit_log(db, limit=5)
    assert [r["event_id"] for r in rows] == sorted((r["event_id"] for r in rows), reverse=True)
    assert len(rows) == 5 and len(caught) == 1
    lines = plan(db, *caught[0])
    assert walks(lines, "ix_stage_event_recorded_at", db.dialect, backward=True), lines


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_company_records_walk_the_newest_records_by_index(
    make_database: Callable[[str], Database], backend: str
) -> None:
    db = populated(make_database, backend)
    with sent(db, "FROM company_fact JOIN company") as caught:
        rows = services.record_log(db, limit=5)
    assert rows and len(caught) == 1
    lines = plan(db, *caught[0])
    assert walks(lines, "ix_company_fact_recorded_at", db.dialect, backward=True), lines


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_board_column_reads_its_longest_stays_by_index(
    make_database: Callable[[str], Database], backend: str
) -> None:
    db = populated(make_database, backend)
    with sent(db, "ORDER BY company.entered_stage_at") as caught:
        columns = services.board(db, per_stage=2)
        services.board(db, site="钟祥", per_stage=2)
        services.board(db, cohort=2022, per_stage=2)
    seed = next(c for c in columns if c.stage.value == "seed")
    assert (seed.total, [c.key for c in seed.companies]) == (8, ["JM-0000", "JM-0003"])
    assert len(caught) == 15  # five columns, three boards
    for statement, parameters in caught:
        lines = plan(db, statement, parameters)
        assert walks(lines, "ix_company_stage_entered", db.dialect), (statement, lines)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_filter_options_hop_along_each_index(
    make_database: Callable[[str], Database], backend: str
) -> None:
    db = populated(make_database, backend)
    with sent(db, "WITH RECURSIVE") as caught:
        options = services.filter_options(db)
    with db.engine.connect() as conn:
        expected = {
            column: [
                r[0]
                for r in conn.exec_driver_sql(
                    f"SELECT DISTINCT {column} FROM company ORDER BY {column}"
                )
            ]
            for column in ("site", "sector", "cohort")
        }
    assert options == {
        "sites": expected["site"],
        "sectors": expected["sector"],
        "cohorts": expected["cohort"],
    }
    assert options["sectors"][0] == "" and options["cohorts"] == [2021, 2022, 2023]
    assert len(caught) == 3
    for (statement, parameters), column in zip(caught, ("site", "sector", "cohort"), strict=True):
        lines = plan(db, statement, parameters)
        text = "\n".join(lines)
        if db.dialect == "sqlite":
            assert f"COVERING INDEX ix_company_{column}" in text, lines
            assert "SCAN company" not in text, lines
        else:
            assert f"Index Only Scan using ix_company_{column}" in text, lines
            assert "Seq Scan" not in text, lines


def test_an_empty_database_has_no_filter_options(
    make_database: Callable[[str], Database],
) -> None:
    assert services.filter_options(make_database("sqlite")) == {
        "sites": [],
        "sectors": [],
        "cohorts": [],
    }
