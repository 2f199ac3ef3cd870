"""Every date the tracker accepts reads back exactly on a database session in any time zone
(DESIGN §10): PostgreSQL sessions run in UTC whatever PGTZ or the server's default says, and
nothing depends on the machine's local time zone."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import psycopg
import pytest

from incubator import metrics, services
from incubator.stages import InvalidInput
from incubator.store import Database
from incubator.values import EARLIEST_EVENT, isoformat, now_utc
from tests.conftest import OWNER, PG_URL

#: West of UTC, with daylight saving time: a UTC midnight is the previous day there.
ZONE = "America/New_York"


@pytest.fixture(params=["sqlite-local-time", "postgresql-session-option", "postgresql-pgtz"])
def east_coast(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], Database],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Database, Database]]:
    """(writer, reader) on one database; the reader's sessions default to New York time: on
    PostgreSQL through the connection's own `timezone` option or PGTZ (ALTER DATABASE would
    be global), on SQLite through the process's local time zone."""
    if request.param == "sqlite-local-time":
        db = make_database("sqlite")
        monkeypatch.setenv("TZ", ZONE)
        time.tzset()
        try:
            yield db, db
        finally:
            monkeypatch.undo()
            time.tzset()
        return
    db = make_database("postgresql")
    if request.param == "postgresql-pgtz":
        monkeypatch.setenv("PGTZ", ZONE)
        url = db.url
    else:
        url = f"{db.url}%20-ctimezone%3D{quote(ZONE, safe='')}"
    assert _raw_session_zone(url) == ZONE  # without the tracker's engine, sessions are not UTC
    reader = Database(url)
    try:
        yield db, reader
    finally:
        reader.dispose()


def _raw_session_zone(url: str) -> str:
    """The session time zone of a plain psycopg connection to `url`."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo) as conn:
        return str(conn.execute("SHOW TIME ZONE").fetchone()[0])  # type: ignore[index]


@pytest.mark.skipif(not PG_URL, reason="set INCUBATOR_TEST_DATABASE_URL for PostgreSQL")
@pytest.mark.parametrize("how", ["postgresql-session-option", "postgresql-pgtz"])
def test_postgresql_sessions_run_in_utc_whatever_the_default(
    how: str, make_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_database("postgresql")
    url = db.url
    if how == "postgresql-pgtz":
        monkeypatch.setenv("PGTZ", ZONE)
    else:
        url = f"{url}%20-ctimezone%3D{quote(ZONE, safe='')}"
    assert _raw_session_zone(url) == ZONE
    tracker = Database(url)
    try:
        for write in (False, True):
            with tracker.unit(write=write) as uow:
                assert uow.connection.exec_driver_sql("SHOW TIME ZONE").scalar() == "UTC"
    finally:
        tracker.dispose()


def _accepted_dates() -> list[datetime]:
    """Instants at the edges: the earliest allowed, UTC midnights (the day before in New York),
    both sides of daylight saving changes, microseconds, a leap day, and just now."""
    return [
        EARLIEST_EVENT,
        datetime(1980, 1, 1, 4, 59, 59, 999_999, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 2, 29, 4, 0, tzinfo=UTC),
        datetime(2024, 3, 10, 6, 59, 59, 999_999, tzinfo=UTC),
        datetime(2024, 3, 10, 7, 0, tzinfo=UTC),
        datetime(2024, 11, 3, 5, 30, tzinfo=UTC),
        datetime(2024, 11, 3, 6, 30, tzinfo=UTC),
        datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
        now_utc().replace(microsecond=123_456) - timedelta(minutes=1),
    ]


def test_every_accepted_date_reads_back_exactly(east_coast: tuple[Database, Database]) -> None:
    writer, reader = east_coast
    dates = _accepted_dates()
    for i, moment in enumerate(dates):  # half through the commands' path, half by import
        if i % 2 == 0:
            services.admit(writer, f"TZ-{i}", name=f"Co {i}", stage="seed", actor=OWNER, at=moment)
        else:
            services.import_events(
                writer,
                "company_key,company_name,event,to_stage,effective_at\n"
                f"TZ-{i},Co {i},admit,seed,{isoformat(moment)}\n",
                actor=OWNER,
            )
        services.advance(writer, f"TZ-{i}", actor=OWNER, at=moment)  # same instant: allowed

    for i, moment in enumerate(dates):
        company = services.show(reader, f"TZ-{i}")
        assert (company.admitted_at, company.entered_stage_at) == (moment, moment)
        assert company.cohort == moment.year  # the UTC year, not New York's
        assert [e.effective_at for e in services.history(reader, f"TZ-{i}")] == [moment] * 2
    listed = {c.key: c.admitted_at for c in services.list_companies(reader)}
    assert listed == {f"TZ-{i}": m for i, m in enumerate(dates)}
    out = io.StringIO()
    services.export_events(reader, out)
    exported = {
        (r["company_key"], r["effective_at"]) for r in csv.DictReader(io.StringIO(out.getvalue()))
    }
    assert exported == {(f"TZ-{i}", isoformat(m)) for i, m in enumerate(dates)}
    assert services.verify_audit(reader).ok
    first = dates[0]
    at_first = metrics.funnel(reader, as_of=first)["stages"][1]  # nursery, entered at `first`
    assert (at_first["entered"], at_first["current"]) == (1, 1)
    second = dates[1]  # one microsecond before it, only the first company has moved
    just_before = metrics.funnel(reader, as_of=second - timedelta(microseconds=1))
    assert just_before["stages"][1]["entered"] == 1
    with pytest.raises(InvalidInput):  # before the first allowed instant: refused, not zero
        metrics.funnel(reader, as_of=first - timedelta(microseconds=1))


def test_a_year_one_event_from_before_the_date_rules_still_reads_back(
    east_coast: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data written before effective_at had a lower bound: in a session west of UTC its
    year-1 instant would be year 0, which PostgreSQL cannot send ("timestamp too small")."""
    writer, reader = east_coast
    monkeypatch.setattr(
        "incubator.values.EARLIEST_EVENT", datetime(1, 1, 1, tzinfo=UTC), raising=False
    )
    year_one = datetime(1, 1, 1, tzinfo=UTC)
    services.admit(writer, "Y1", name="Year one", stage="seed", actor=OWNER, at=year_one)
    assert services.show(reader, "Y1").admitted_at == year_one
    assert services.history(reader, "Y1")[0].effective_at == year_one
    out = io.StringIO()
    services.export_events(reader, out)
    assert ",0001-01-01T00:00:00+00:00," in out.getvalue()
    assert services.verify_audit(reader).ok
