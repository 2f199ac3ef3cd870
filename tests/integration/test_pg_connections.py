"""PostgreSQL's pooled connections: a connection the server closed while it sat in the pool is
replaced before use, and one in steady use is not pinged before each unit of work. A move runs
its statements prepared by name on the connection (`store._PgMoves`), in two round trips; if
the statements are gone, it prepares them again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from incubator import services, store
from incubator.store import Database
from tests.conftest import OWNER, PG_URL, T0

OVERRIDE = "pilot line not yet audited; the committee agreed"


def backend_pid(db: Database) -> int:
    with db.unit() as uow:
        return int(uow.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def counted_pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    pings: list[Any] = []
    ping = db.engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        pings.append(dbapi_conn)
        return ping(dbapi_conn)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_closed_by_the_server_while_pooled_is_replaced(
    make_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_database("postgresql")
    monkeypatch.setattr(store, "PING_AFTER_IDLE_S", 0.0)  # any idle time: ping
    first = backend_pid(db)
    admin = Database(PG_URL or "", check_schema=False)
    try:
        with admin.engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({first})")
    finally:
        admin.dispose()
    assert backend_pid(db) != first  # no "server closed the connection" error


def test_connections_in_steady_use_are_not_pinged_each_time(
    make_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_database("postgresql")
    pings = counted_pings(db, monkeypatch)
    monkeypatch.setattr(store, "PING_AFTER_IDLE_S", 60.0)
    pids = {backend_pid(db) for _ in range(5)}
    assert len(pids) == 1 and len(pings) <= 1  # at most the pooled connection's first use
    before = len(pings)
    monkeypatch.setattr(store, "PING_AFTER_IDLE_S", 0.0)  # now it has been idle long enough
    backend_pid(db)
    assert len(pings) == before + 1


def admitted(make_database: Callable[[str], Database], *keys: str, stage: str = "seed") -> Database:
    db = make_database("postgresql")
    for key in keys:
        services.admit(db, key, name=key, stage=stage, actor=OWNER, at=T0, override=OVERRIDE)
    return db


def prepared_statements(db: Database) -> int:
    """How many of the move's statements the pool's (one) connection has prepared."""
    with db.unit() as uow:
        sql = "SELECT count(*) FROM pg_prepared_statements WHERE starts_with(name, 'incubator_')"
        return int(uow.connection.exec_driver_sql(sql).scalar_one())


def test_a_move_is_two_round_trips_and_no_other_statement(
    make_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = admitted(make_database, "JM-0001", "JM-0002")
    services.advance(db, "JM-0001", actor=OWNER, override=OVERRIDE)  # statements prepared
    trips: list[bool] = []
    run = store._PgMoves._run

    def counted(self: Any, calls: Any, commit: bool, begin: bool) -> Any:
        trips.append(commit)
        return run(self, calls, commit, begin)

    monkeypatch.setattr(store._PgMoves, "_run", counted)
    others: list[str] = []
    connects: list[Any] = []
    listener = lambda *args: others.append(args[2])  # noqa: E731  (the statement text)
    connected = connects.append  # one bound method, to remove what was listened to
    event.listen(db.engine, "before_cursor_execute", listener)
    event.listen(db.engine, "engine_connect", connected)
    try:
        moved = services.advance(db, "JM-0002", actor=OWNER, seen="seed", override=OVERRIDE)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
        event.remove(db.engine, "engine_connect", connected)
    assert trips == [False, True]  # the read (with BEGIN), then the write with the COMMIT
    assert others == [] and connects == []  # no SQLAlchemy statement, nor connection
    assert (moved.from_stage, moved.to_stage) == ("seed", "nursery")
    assert services.show(db, "JM-0002").stage == "nursery"


def test_moves_prepare_their_statements_again_when_they_are_gone(
    make_database: Callable[[str], Database],
) -> None:
    db = admitted(make_database, "JM-0001")
    services.advance(db, "JM-0001", actor=OWNER, override=OVERRIDE)
    assert prepared_statements(db) == len(store._PG_MOVE_STATEMENTS)
    with db.unit() as uow:  # the pool's one connection: its prepared statements dropped
        uow.connection.exec_driver_sql("DEALLOCATE ALL")
    assert prepared_statements(db) == 0
    moved = services.advance(db, "JM-0001", actor=OWNER, override=OVERRIDE)
    assert (moved.seq, moved.to_stage) == (3, "incubator")
    assert services.verify_audit(db).ok


def test_refused_moves_and_reads_keep_the_connection_ready_for_the_next_move(
    make_database: Callable[[str], Database],
) -> None:
    db = admitted(make_database, "JM-0001", stage="nursery")
    with pytest.raises(services.Conflict):
        services.advance(db, "JM-0001", actor=OWNER, seen="seed", override=OVERRIDE)
    with pytest.raises(services.GateRefused):  # read, then refused: the transaction rolls back
        services.advance(db, "JM-0001", actor=OWNER)
    moved = services.advance(db, "JM-0001", actor=OWNER, seen="nursery", override=OVERRIDE)
    assert (moved.seq, moved.to_stage) == (2, "incubator")
    with db.unit() as uow:  # a read that ends in a rollback keeps the statements: psycopg's
        for _ in range(8):  # own preparing of a statement run often, which drops every
            assert uow.count_companies() == 1  # prepared statement at a rollback, is off
    assert prepared_statements(db) == len(store._PG_MOVE_STATEMENTS)
