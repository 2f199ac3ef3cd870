"""The metric commands' read-only connection through the driver (`dbapi.Reader`): which
databases it takes on and which it leaves to the store, that it never writes, that the
driver's refusals become the store's one-line error. What the metric commands import is
tested in tests/e2e/test_cli_startup.py.

That a Reader computes every metric exactly as the store does, against the brute-force
reference, is tested in test_metrics.py (`through_the_driver`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incubator import metrics, services
from incubator.cli import app
from incubator.dbapi import SCHEMA_HEAD, Reader, StoreError, shown_url
from incubator.store import Database, describe, make_engine
from tests.conftest import BACKENDS, OWNER, PG_URL, ungate

pytestmark = pytest.mark.ungated


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("set INCUBATOR_TEST_DATABASE_URL to run the PostgreSQL tests")
    return str(request.param)


def with_companies(db: Database) -> Database:
    ungate(db)
    services.admit(db, "JM-0001", name="One", stage="seed", actor=OWNER, site="钟祥")
    services.admit(db, "JM-0002", name="Two", stage="nursery", actor=OWNER, site="京山")
    services.advance(db, "JM-0001", actor=OWNER)  # seed → nursery
    services.exit_company(db, "JM-0002", reason="failed", actor=OWNER)
    return db


def test_a_reader_opens_a_database_with_the_current_schema(
    backend: str, make_database: Callable[[str], Database]
) -> None:
    db = with_companies(make_database(backend))
    reader = Reader.open(db.url)
    assert reader is not None and reader.dialect == backend
    try:
        funnel = {row["stage"]: row for row in metrics.funnel(reader)["stages"]}
    finally:
        reader.close()
    assert (funnel["seed"]["entered"], funnel["seed"]["advanced"]) == (1, 1)
    assert (funnel["nursery"]["entered"], funnel["nursery"]["exited"]) == (2, 1)
    assert funnel["nursery"]["current"] == 1


def test_a_database_without_the_current_schema_is_left_to_the_store(
    backend: str, make_database: Callable[..., Database], tmp_path: Path
) -> None:
    older = make_database(backend, revision="0008")
    assert Reader.open(older.url) is None
    missing = tmp_path / "nowhere.db"
    assert Reader.open(f"sqlite:///{missing}") is None
    assert not missing.exists()  # looking never creates a file
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert Reader.open(f"sqlite:///{empty}") is None
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("not a database")
    assert Reader.open(f"sqlite:///{not_sqlite}") is None


def test_a_postgresql_schema_without_its_version_table_is_left_to_the_store(
    make_database: Callable[[str], Database],
) -> None:
    """The Reader's version query fails there (UndefinedTable, not a refusal it words):
    the store says the database has no tracker schema."""
    db = make_database("postgresql")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
    assert Reader.open(db.url) is None
    result = CliRunner().invoke(app, ["throughput", "--db", db.url])
    assert result.exit_code == 1
    assert f"has no tracker schema, the tracker needs {SCHEMA_HEAD}" in result.output


def test_urls_in_a_form_of_their_own_are_left_to_the_store(
    make_database: Callable[[str], Database],
) -> None:
    db = make_database("sqlite")
    path = db.url.removeprefix("sqlite:///")
    assert Reader.open(db.url) is not None
    for url in (
        f"sqlite:///file:{path}?mode=ro&uri=true",  # a URI: the store parses its query
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql://postgres@127.0.0.1:1/test",  # SQLAlchemy's default driver, not psycopg
        "postgresql+psycopg2://postgres@127.0.0.1:1/test",
        "mysql://localhost/test",
    ):
        assert Reader.open(url) is None, url


def test_a_server_that_refuses_is_refused_as_the_store_words_it() -> None:
    """At once, and once: a server that does not answer is not waited for twice."""
    url = "postgresql+psycopg://tracker:s3cret@127.0.0.1:1/test"
    with pytest.raises(StoreError) as refused:
        Reader.open(url)
    with pytest.raises(StoreError) as by_the_store:
        Database(url)
    assert str(refused.value) == str(by_the_store.value)
    assert refused.value.code == "store.cannot_open" and "s3cret" not in str(refused.value)
    result = CliRunner().invoke(app, ["funnel", "--db", url])
    assert result.exit_code == 1
    assert result.output.count("cannot open") == 1, result.output


def test_the_command_explains_a_database_it_cannot_read_as_the_store_does(
    tmp_path: Path, make_database: Callable[..., Database]
) -> None:
    """A Reader that cannot open the database hands it to the store, whose message names
    what is wrong; nothing is created."""
    runner = CliRunner()
    missing = tmp_path / "nowhere.db"
    result = runner.invoke(app, ["funnel", "--json", "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 1
    assert f"sqlite:///{missing} has no tracker schema, the tracker needs {SCHEMA_HEAD}" in (
        result.output
    )
    assert not missing.exists()
    older = make_database("sqlite", revision="0008")
    result = runner.invoke(app, ["dwell", "--db", older.url])
    assert result.exit_code == 1
    assert f"is at schema 0008, the tracker needs {SCHEMA_HEAD}" in result.output


def test_a_reader_never_writes(backend: str, make_database: Callable[[str], Database]) -> None:
    db = with_companies(make_database(backend))
    reader = Reader.open(db.url)
    assert reader is not None
    try:
        with pytest.raises(StoreError) as refused, reader.unit() as rows:
            rows.query("DELETE FROM spell", ())
    finally:
        reader.close()
    assert refused.value.code == "store.read_failed"
    assert str(refused.value).startswith("cannot read ")
    with db.unit() as uow:
        assert uow.query("SELECT count(*) FROM spell", ()) == [(3,)]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://tracker:s3cret@db.example:5432/jingmen",
        "postgresql+psycopg://tracker:s3cret@db.example/jingmen?options=-csearch_path%3Djm",
        "postgresql+psycopg://tracker@db.example/jingmen",
        "postgresql+psycopg://db.example/jingmen",
        "sqlite:///incubator.db",
    ],
)
def test_a_url_is_shown_as_the_store_shows_it(url: str) -> None:
    """No password in a message; otherwise the URL as given."""
    assert shown_url(url) == describe(make_engine(url))
    assert "s3cret" not in shown_url(url)


def test_a_read_is_one_read_only_snapshot_on_postgresql(
    make_database: Callable[[str], Database],
) -> None:
    if not PG_URL:
        pytest.skip("set INCUBATOR_TEST_DATABASE_URL to run the PostgreSQL tests")
    db = make_database("postgresql")
    reader = Reader.open(db.url)
    assert reader is not None
    try:
        with reader.unit() as rows:
            assert rows.query("SHOW transaction_isolation", ()) == [("repeatable read",)]
            assert rows.query("SHOW transaction_read_only", ()) == [("on",)]
            assert rows.query("SHOW TimeZone", ()) == [("UTC",)]
    finally:
        reader.close()


def test_a_connection_lost_while_reading_is_one_line_naming_the_database(
    make_database: Callable[[str], Database],
) -> None:
    if not PG_URL:
        pytest.skip("set INCUBATOR_TEST_DATABASE_URL to run the PostgreSQL tests")
    db = with_companies(make_database("postgresql"))
    reader = Reader.open(db.url)
    assert reader is not None
    try:
        with reader.unit() as rows:
            (pid,) = rows.query("SELECT pg_backend_pid()", ())[0]
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        with pytest.raises(StoreError) as lost:
            metrics.funnel(reader)
    finally:
        reader.close()
    assert lost.value.code == "store.read_failed"
    assert "\n" not in str(lost.value) and "search_path" in str(lost.value)
