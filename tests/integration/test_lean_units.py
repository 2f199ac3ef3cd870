"""SQLite's units of work begin their transaction on the driver's connection and make a
SQLAlchemy `Connection` on it only when a method needs one: a move needs none. Whatever runs
on the driver and whatever runs through SQLAlchemy is one transaction, committed or rolled
back together, read from one snapshot. PostgreSQL's write units hold the pool's connection
the same way (`test_a_write_unit_commits_or_rolls_back_what_ran_on_the_driver_and_through_
sqlalchemy`)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import event

from incubator import services
from incubator.store import Database
from tests.conftest import OWNER, T0

OVERRIDE = "pilot line not yet audited; the committee agreed"


def sqlite_path(db: Database) -> str:
    assert db.engine.url.database
    return db.engine.url.database


def stage_of(db: Database, key: str) -> str:
    return services.show(db, key).stage


def test_a_move_makes_no_sqlalchemy_connection_and_runs_no_statement_through_it(
    sqlite_db: Database,
) -> None:
    services.admit(sqlite_db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0)
    connects: list[Any] = []
    statements: list[str] = []
    event.listen(sqlite_db.engine, "engine_connect", connects.append)
    event.listen(
        sqlite_db.engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_a: statements.append(sql),
    )
    services.advance(sqlite_db, "JM-0001", actor=OWNER, seen="seed", override=OVERRIDE)
    assert connects == [] and statements == []
    assert stage_of(sqlite_db, "JM-0001") == "nursery"
    assert sqlite_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_driver_and_sqlalchemy_writes_roll_back_together(sqlite_db: Database) -> None:
    services.admit(sqlite_db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0)
    with sqlite_db.unit(write=True) as uow:
        row = uow.company_to_move("JM-0001")  # on the driver
        assert row is not None
        uow.put_setting("test.marker", "x")  # through SQLAlchemy, made now
        uow.update_company(row.id, {"name": "B"})
    with sqlite_db.unit() as uow:
        assert uow.setting("test.marker") is None
        assert uow.company("JM-0001") is not None
        assert uow.company("JM-0001").name == "A"  # type: ignore[union-attr]
    with sqlite_db.unit(write=True) as uow:
        uow.put_setting("test.marker", "y")
        uow.commit()
    with sqlite_db.unit() as uow:
        assert uow.setting("test.marker") == "y"
    assert sqlite_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_read_sees_one_snapshot_on_the_driver_and_through_sqlalchemy(
    sqlite_db: Database,
) -> None:
    services.admit(sqlite_db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0)
    with sqlite_db.unit() as uow:
        assert uow.company_to_move("JM-0001") is not None  # the snapshot starts here
        services.admit(sqlite_db, "JM-0002", name="B", stage="seed", actor=OWNER, at=T0)
        assert uow.company("JM-0002") is None  # committed after the snapshot
        assert [c.key for c in uow.companies()] == ["JM-0001"]
    assert stage_of(sqlite_db, "JM-0002") == "seed"


def test_a_write_that_waits_past_the_busy_timeout_gives_its_connection_back(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from incubator import store

    monkeypatch.setattr(store, "SQLITE_BUSY_TIMEOUT_S", 0.3)  # for the connections made now
    db = Database(str(sqlite_db.engine.url))
    holder = sqlite3.connect(sqlite_path(sqlite_db), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(store.StoreError, match="locked"), db.unit(write=True):
            pass
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with db.unit(write=True) as uow:  # free now
        uow.put_setting("test.marker", "z")
        uow.commit()
    with sqlite_db.unit() as uow:
        assert uow.setting("test.marker") == "z"
    db.dispose()


def busy_timeout_in(db: Database, *, write: bool) -> int:
    with db.unit(write=write) as uow:
        return int(uow.connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one())


def test_every_unit_waits_for_the_write_lock_with_sqlites_busy_handler(
    sqlite_db: Database,
) -> None:
    """Writers queue for the write lock in SQLite's own busy handler, whose waits grow from
    1 to 100 ms: a waiter that mostly sleeps leaves the processor to the writer that holds
    the lock and holds no snapshot that would keep the WAL from starting over."""
    assert busy_timeout_in(sqlite_db, write=False) == 30_000
    assert busy_timeout_in(sqlite_db, write=True) == 30_000
    services.admit(sqlite_db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0)
    assert busy_timeout_in(sqlite_db, write=True) == 30_000
    with sqlite_db.engine.connect() as conn:  # a SQLAlchemy connection's own BEGIN, too
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30_000


def test_a_write_unit_commits_or_rolls_back_what_ran_on_the_driver_and_through_sqlalchemy(
    db: Database,
) -> None:
    """On PostgreSQL too, a write unit holds the pool's connection and makes a SQLAlchemy
    connection only when asked: a move's statements and a SQLAlchemy statement in one unit
    are one transaction."""
    services.admit(db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0)
    with db.unit(write=True) as uow:
        row = uow.company_to_move("JM-0001")  # PostgreSQL: `_PgMoves`, with its own BEGIN
        assert row is not None
        uow.update_company(row.id, {"name": "B"})  # through SQLAlchemy, made now
    assert services.show(db, "JM-0001").name == "A"
    with db.unit(write=True) as uow:
        row = uow.company_to_move("JM-0001")
        assert row is not None
        uow.update_company(row.id, {"name": "C"})
        uow.commit()
    assert services.show(db, "JM-0001").name == "C"


def test_a_unit_that_cannot_roll_back_never_returns_its_connection_inside_a_transaction(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's pool does not roll a connection back when it comes back (every unit of work
    ends its transaction itself): a unit whose rollback fails discards its connection, so
    that the write lock is let go and the next unit begins afresh."""
    from incubator.store import StoreError, UnitOfWork

    services.admit(sqlite_db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0)

    def fails(_self: UnitOfWork) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(UnitOfWork, "_rollback", fails)
        with pytest.raises(StoreError, match="disk I/O error"), sqlite_db.unit(write=True) as uow:
            assert uow.company_to_move("JM-0001") is not None  # on the driver only
    other = Database(str(sqlite_db.engine.url))
    try:
        with other.unit(write=True) as uow:  # the lock was let go
            uow.put_setting("test.other", "y")
            uow.commit()
    finally:
        other.dispose()
    with sqlite_db.unit(write=True) as uow:  # BEGIN on the pool's connections works
        assert uow.setting("test.other") == "y"
    assert sqlite_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
