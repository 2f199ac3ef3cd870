"""PostgreSQL's pooled connections: a connection the server closed while it sat in the pool is
replaced before use, and one in steady use is not pinged before each unit of work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from incubator import store
from incubator.store import Database
from tests.conftest import PG_URL


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
