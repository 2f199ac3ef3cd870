"""Keys are unique whatever their case: `jm-0042` would find `JM-0042`, so a new company may
not take a key that differs from a taken one only by case — neither by admit nor by import."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from incubator import services
from incubator.stages import DuplicateCompany
from incubator.store import Database
from tests.conftest import OWNER, T0

HEADER = "company_key,company_name,event,to_stage,effective_at\n"


def test_admitting_a_key_that_differs_only_by_case_is_refused_and_writes_nothing(
    db: Database, make_company: Callable[..., services.CompanyView]
) -> None:
    # registered and founded recently: it passes the gate into the incubator
    make_company("incubator", key="JM-0042", uscc="91420881MA4R0QMA42", founded="2023-06-01")
    with pytest.raises(DuplicateCompany) as refused:
        services.admit(db, "jm-0042", name="Twin", stage="seed", actor=OWNER, at=T0)
    assert str(refused.value) == (
        "company key 'jm-0042' differs only in case from JM-0042 (JM-0042 is in incubator); "
        "keys are unique whatever their case"
    )
    assert "大小写" in refused.value.render("zh")
    assert [c.key for c in services.list_companies(db)] == ["JM-0042"]
    assert services.show(db, "jm-0042").key == "JM-0042"  # the lookup stays unambiguous


def test_an_import_refuses_keys_that_differ_only_by_case_from_the_database_or_the_file(
    db: Database, make_company: Callable[..., services.CompanyView]
) -> None:
    make_company("seed", key="JM-0001")
    csv_text = HEADER + (
        "jm-0001,Twin of a stored key,admit,seed,2024-02-01\n"
        "JM-0002,First spelling,admit,seed,2024-02-01\n"
        "jm-0002,Second spelling,admit,seed,2024-02-02\n"
        "JM-0003,Fine,admit,seed,2024-02-01\n"
    )
    with pytest.raises(services.ImportRejected) as rejected:
        services.import_events(db, csv_text, actor=OWNER)
    assert [(p.line, p.message) for p in rejected.value.problems] == [
        (
            2,
            "company key 'jm-0001' differs only in case from JM-0001 (JM-0001 is in the "
            "database); keys are unique whatever their case",
        ),
        (
            4,
            "company key 'jm-0002' differs only in case from JM-0002 (JM-0002 is in line 3 of "
            "this file); keys are unique whatever their case",
        ),
    ]
    assert [c.key for c in services.list_companies(db)] == ["JM-0001"]
