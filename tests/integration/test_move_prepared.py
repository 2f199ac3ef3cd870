"""SQLite: a move that finds another writer holding the write lock works out its gate and
destination meanwhile, on what is committed, and under the lock only checks that they still
hold (`services._prepare`). What it records must be what a move made wholly under the lock
records; when the company or the gate policy changed in between, the move is worked out again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from incubator import services
from incubator.store import Database
from tests.conftest import OWNER, T0

OVERRIDE = "pilot line not yet audited; the committee agreed"


@pytest.fixture
def db(make_database: Callable[[str], Database]) -> Database:
    db = make_database("sqlite")
    for key in ("JM-0001", "JM-0002"):
        services.admit(db, key, name=key, stage="incubator", actor=OWNER, at=T0, override=OVERRIDE)
    return db


@contextmanager
def write_lock_held(db: Database) -> Iterator[Callable[[], None]]:
    """Another connection holds the database's write lock; calling the yielded function
    releases it."""
    other = sqlite3.connect(str(db.engine.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            other.execute("ROLLBACK")
            released.set()

    try:
        yield release
    finally:
        release()
        other.close()


def prepared_outcomes(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> list[bool]:
    """Spy on the prepared path: run `then` right after a move has prepared (the lock still
    held by another), and record whether each prepared outcome still held under the lock."""
    held: list[bool] = []
    prepare, holds = services._prepare, services._Prepared.holds

    def prepared(db: Database, args: Any) -> Any:
        outcome = prepare(db, args)
        assert outcome is not None
        then()
        return outcome

    def checked(self: Any, *args: Any) -> bool:
        held.append(holds(self, *args))
        return held[-1]

    monkeypatch.setattr(services, "_prepare", prepared)
    monkeypatch.setattr(services._Prepared, "holds", checked)
    return held


def test_a_move_prepared_while_another_writes_records_what_a_locked_move_records(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with write_lock_held(db) as release:
        held = prepared_outcomes(monkeypatch, release)
        view = services.advance(db, "JM-0001", actor=OWNER, override=OVERRIDE)
    monkeypatch.undo()
    plain = services.advance(db, "JM-0002", actor=OWNER, override=OVERRIDE)
    assert held == [True]  # prepared, and still true under the lock
    assert (view.from_stage, view.to_stage) == (plain.from_stage, plain.to_stage)
    assert view.gate is not None and view.gate == plain.gate  # the same gate outcome recorded
    assert services.verify_audit(db).ok


def test_a_company_moved_meanwhile_is_worked_out_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Database(str(db.engine.url))

    def meanwhile() -> None:
        release()
        services.advance(other, "JM-0001", actor=OWNER, override=OVERRIDE)  # -> accelerator

    with write_lock_held(db) as release:
        held = prepared_outcomes(monkeypatch, meanwhile)
        view = services.advance(db, "JM-0001", actor=OWNER, override=OVERRIDE)
    other.dispose()
    assert held == [False]
    assert (view.from_stage, view.to_stage) == ("accelerator", "industrial_park")
    assert view.gate is not None and view.gate["stage"] == "industrial_park"
    assert services.verify_audit(db).ok


def test_a_gate_policy_changed_meanwhile_is_applied(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Database(str(db.engine.url))

    def meanwhile() -> None:
        release()
        services.policy_set(other, {"gates": []}, actor=OWNER)  # every gate off

    with write_lock_held(db) as release:
        held = prepared_outcomes(monkeypatch, meanwhile)
        view = services.advance(db, "JM-0001", actor=OWNER, override=OVERRIDE)
    other.dispose()
    assert held == [False]
    assert view.gate is None  # no gate to record under the new policy
