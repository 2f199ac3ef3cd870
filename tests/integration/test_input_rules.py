"""Input rules of DESIGN §10 and §11 at the use-case level, on SQLite and PostgreSQL: known
sites for users, storable filters, and a database that refuses to write."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from incubator import metrics, services
from incubator.stages import InvalidInput
from incubator.store import Database, StoreError
from tests.conftest import OWNER

MakeCompany = Callable[..., services.CompanyView]
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def add_manager(db: Database, site: str | None, name: str = "li.na") -> services.UserView:
    return services.add_user(
        db, name, role="manager", site=site, password="a-long-password", actor=OWNER
    )


def test_a_users_site_must_be_a_registry_site(db: Database, make_company: MakeCompany) -> None:
    make_company(site="钟祥")
    make_company(site="")
    with pytest.raises(
        InvalidInput,
        match=r"unknown site '钟祥x'; known sites: 京山, 沙洋, 钟祥, 高新区; an admin adds a site first "
        r"\(incubator site add NAME\)$",
    ):
        add_manager(db, "钟祥x")
    assert services.list_users(db) == []
    assert add_manager(db, " 钟祥 ").site == "钟祥"
    assert add_manager(db, "京山", name="jing.shan").site == "京山"  # registered, no company yet
    assert add_manager(db, None, name="all.sites").site is None


@pytest.mark.empty_registry
def test_before_any_site_is_registered_a_user_can_have_none(db: Database) -> None:
    with pytest.raises(InvalidInput, match="no site is registered yet; an admin adds a site"):
        add_manager(db, "钟祥")
    assert add_manager(db, "").site is None


@pytest.mark.parametrize(
    ("site", "message"),
    [
        ("x\ny", "the site 'x\\ny' contains U+000A LINE FEED, a line break"),
        ("钟\u200b祥", "contains U+200B ZERO WIDTH SPACE"),
        ("\x1b[31m钟祥", "contains U+001B ESCAPE"),
    ],
)
def test_a_users_site_is_a_one_line_visible_label(
    db: Database, make_company: MakeCompany, site: str, message: str
) -> None:
    make_company(site="钟祥")
    with pytest.raises(InvalidInput, match=re.escape(message)):
        add_manager(db, site)
    assert services.list_users(db) == []


def test_user_names_are_nfc_normalised_and_a_stray_byte_in_a_password_is_refused(
    db: Database,
) -> None:
    user = services.add_user(db, "Rene\u0301", role="viewer", password="a-long-pass", actor=OWNER)
    assert user.name == "René"
    with pytest.raises(InvalidInput, match="the password is not valid UTF-8 text") as refused:
        services.add_user(db, "wu", role="viewer", password="secret-\udcff-pass", actor=OWNER)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda db: services.list_companies(db, site="钟祥\x00"),
        lambda db: services.list_companies(db, sector="\udcff"),
        lambda db: services.list_companies(db, cohort=99_999_999_999),
        lambda db: services.board(db, search="x\x00"),
        lambda db: services.search_companies(db, "\udcff"),
        lambda db: metrics.funnel(db, filters=metrics.Filters(cohort=99_999_999_999)),
        lambda db: metrics.dwell(db, filters=metrics.Filters(site="\x00")),
        lambda db: metrics.throughput(db, filters=metrics.Filters(sector="\udcff")),
        lambda db: metrics.funnel(db, as_of=datetime(9999, 12, 31, 23, tzinfo=NEW_YORK_WINTER)),
    ],
)
def test_filters_no_database_can_compare_are_refused_in_one_line(
    db: Database, make_company: MakeCompany, call: Callable[[Database], object]
) -> None:
    make_company()
    with pytest.raises(InvalidInput) as refused:
        call(db)
    assert "\n" not in str(refused.value)


def test_a_database_that_refuses_writes_is_one_line_and_keeps_nothing(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001")
    if db.dialect == "postgresql":
        read_only = Database(f"{db.url}%20-cdefault_transaction_read_only%3Don")
    else:
        read_only = Database(f"sqlite:///file:{db.files()[0]}?mode=ro&uri=true")
    try:
        with pytest.raises(
            StoreError, match="^cannot write to .*read-?only.*; nothing was written$"
        ):
            services.advance(read_only, "JM-0001", actor=OWNER)
        with pytest.raises(StoreError, match="nothing was written$"):
            services.import_events(
                read_only,
                "company_key,company_name,event,to_stage,effective_at\nJM-9,A,admit,seed,2024-01-01\n",
                actor=OWNER,
            )
        assert [c.key for c in services.list_companies(read_only)] == ["JM-0001"]
    finally:
        read_only.dispose()
    assert services.show(db, "JM-0001").events == 1
