"""A company is found by its key in any case (services._find), on SQLite and PostgreSQL,
through the lower(key) index; partial, case-insensitive search by key or name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from incubator import services
from incubator.stages import AmbiguousKey, UnknownCompany
from incubator.store import Database
from tests.conftest import OWNER

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def admit(db: Database, key: str, name: str = "", stage: str = "seed") -> None:
    services.admit(db, key, name=name or f"Company {key}", stage=stage, actor=OWNER, at=T0)


def test_a_key_in_another_case_finds_its_company(db: Database) -> None:
    admit(db, "JM-0184", "汉江新材料")
    for typed in ("jm-0184", "Jm-0184", " JM-0184 "):
        assert services.show(db, typed).key == "JM-0184"
    services.advance(db, "jm-0184", actor=OWNER, seen="seed")
    assert [e.kind for e in services.history(db, "jM-0184")] == ["admit", "advance"]
    assert services.set_profile(db, "jm-0184", actor=OWNER, site="钟祥").key == "JM-0184"
    with pytest.raises(UnknownCompany, match="no company with key 'jm-0185'"):
        services.show(db, "jm-0185")


def test_keys_in_other_scripts_are_folded_too(db: Database) -> None:
    admit(db, "ÄRZTE-1")
    admit(db, "ΣΟΦΊΑ-2")
    admit(db, "荆门-0042")
    assert services.show(db, "ärzte-1").key == "ÄRZTE-1"
    assert services.show(db, "σοφία-2").key == "ΣΟΦΊΑ-2"
    assert services.show(db, "荆门-0042").key == "荆门-0042"
    with pytest.raises(UnknownCompany):
        services.show(db, "arzte-1")  # Ä is not A


def test_an_ambiguous_key_is_refused_naming_both_and_writes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    admit(db, "JM-0001")
    # Twins can no longer be admitted; a database from before that rule may hold some.
    monkeypatch.setattr(services, "_refuse_case_twin", lambda uow, key: None)
    admit(db, "jm-0001", stage="nursery")
    monkeypatch.undo()
    with pytest.raises(AmbiguousKey) as refused:
        services.advance(db, "Jm-0001", actor=OWNER)
    assert refused.value.matches == ["JM-0001", "jm-0001"]
    assert refused.value.render("zh") == (
        "“Jm-0001” 与多家企业的编号只有大小写不同：JM-0001、jm-0001；请按原样输入编号"
    )
    assert [len(services.history(db, k)) for k in ("JM-0001", "jm-0001")] == [1, 1]
    assert services.show(db, "jm-0001").stage == "nursery"  # the exact key wins


def test_a_wildcard_in_a_key_is_plain_text(db: Database) -> None:
    admit(db, "JM_1")
    admit(db, "JMX1")
    assert services.show(db, "jm_1").key == "JM_1"
    with pytest.raises(UnknownCompany):
        services.show(db, "jm%1")


def test_the_audit_log_filters_by_part_of_a_key_or_name_in_any_case(db: Database) -> None:
    admit(db, "JM-0184", "汉江新材料科技")
    admit(db, "JM-0185", "Jade Hill Foods")
    admit(db, "ZZ-0001", "Other Co")

    def keys(company: str) -> list[str]:
        return sorted({r["company_key"] for r in services.audit_log(db, company=company)})

    assert keys("0184") == ["JM-0184"]
    assert keys("jm-0184") == ["JM-0184"]
    assert keys("新材料") == ["JM-0184"]
    assert keys("jade hill") == ["JM-0185"]
    assert keys("jm-018") == ["JM-0184", "JM-0185"]
    assert keys("%") == []  # plain text, not a wildcard


def test_the_lookup_uses_the_lower_key_index(
    make_database: Callable[[str], Database],
) -> None:
    db = make_database("sqlite")
    with db.engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
        assert "ix_company_key_lower" in names
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT key FROM company WHERE lower(key) = 'jm-0001'"
            )
        )
    assert "ix_company_key_lower" in plan


def test_postgresql_has_the_lower_key_index(make_database: Callable[[str], Database]) -> None:
    db = make_database("postgresql")
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_company_key_lower' "
            "AND schemaname = current_schema()"
        ).scalar()
    assert found is not None and "lower" in found
