"""The site registry (DESIGN §9): sites with kind, level and yearly figures; admins only; every
change recorded with who and when; an unknown site refused on admit, site change, user and
import, naming the known ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import DBAPIError

from incubator import services
from incubator.access import Actor, Role
from incubator.stages import InvalidInput, PermissionDenied
from incubator.store import Database
from tests.conftest import OWNER, TEST_SITES

MakeCompany = Callable[..., services.CompanyView]
ADMIN = Actor("root", Role.ADMIN)
MANAGER = Actor("li.na", Role.MANAGER, "钟祥")


def test_the_test_databases_hold_the_demo_sites_as_mixed_without_level(db: Database) -> None:
    sites = services.list_sites(db)
    assert sorted(s.name for s in sites) == sorted(TEST_SITES)
    assert {(s.kind.value, s.level.value) for s in sites} == {("mixed", "none")}


def test_an_admin_adds_a_site_sets_its_kind_and_level_and_records_its_figures(
    db: Database,
) -> None:
    added = services.add_site(db, " 荆州 ", kind="Incubator", level="provincial", actor=ADMIN)
    assert (added.name, added.kind.value, added.level.value) == ("荆州", "incubator", "provincial")
    changed = services.set_site(db, "荆州", level="national", actor=ADMIN)
    assert (changed.kind.value, changed.level.value) == ("incubator", "national")
    services.set_figures(db, "荆州", year=2025, floor_area_m2="12,000", staff=14, actor=ADMIN)
    f = services.set_figures(db, "荆州", year=2025, mentors=30, incubation_fund=5_000_000,
                             actor=ADMIN)  # fmt: skip
    assert (f.floor_area_m2, f.staff, f.mentors, f.incubation_fund) == (12_000, 14, 30, 5_000_000)
    (site,) = [s for s in services.list_sites(db) if s.name == "荆州"]
    assert [x.year for x in site.figures] == [2025]
    assert site.figures[0].staff == 14 and site.changed_by == "root"
    doc = site.to_json()
    assert doc["figures"][0]["incubation_fund"] == 5_000_000 and doc["level"] == "national"


def test_every_change_to_the_registry_is_recorded_and_the_record_is_append_only(
    db: Database,
) -> None:
    services.add_site(db, "荆州", actor=ADMIN)
    services.set_site(db, "荆州", kind="park", actor=ADMIN)
    services.set_figures(db, "荆州", year=2024, staff=3, actor=Actor("wang", Role.ADMIN))
    with db.unit() as uow:
        records = uow.registry_records("site:荆州")
    assert [(r["kind"], r["actor"]) for r in records] == [
        ("add", "root"), ("set", "root"), ("figures", "wang"),
    ]  # fmt: skip
    assert '"kind": "park"' in records[1]["payload"]
    assert records[2]["recorded_at"] <= datetime.now(UTC)
    for statement in ("UPDATE registry_record SET actor = 'x'", "DELETE FROM registry_record"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert services.verify_audit(db).ok


def test_only_admins_change_the_registry(db: Database) -> None:
    for attempt in (
        lambda: services.add_site(db, "荆州", actor=MANAGER),
        lambda: services.set_site(db, "钟祥", kind="park", actor=MANAGER),
        lambda: services.set_figures(db, "钟祥", year=2024, staff=3, actor=MANAGER),
    ):
        with pytest.raises(PermissionDenied, match="only admins"):
            attempt()
    assert "荆州" not in services.site_names(db)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda db: services.add_site(db, "钟祥", actor=OWNER), "site '钟祥' is registered already"),
        (lambda db: services.add_site(db, "荆州", kind="lab", actor=OWNER),
         "unknown site kind 'lab'; allowed: makerspace, incubator, accelerator, park, mixed"),
        (lambda db: services.add_site(db, "荆州", level="county", actor=OWNER),
         "unknown site level 'county'; allowed: national, provincial, municipal, none"),
        (lambda db: services.add_site(db, " ", actor=OWNER), "cannot be blank"),
        (lambda db: services.set_site(db, "宜昌", kind="park", actor=OWNER), "unknown site '宜昌'"),
        (lambda db: services.set_site(db, "钟祥", actor=OWNER), "give --kind or --level"),
        (lambda db: services.set_site(db, "钟祥", kind="mixed", actor=OWNER), "already so"),
        (lambda db: services.set_figures(db, "钟祥", year=1989, staff=1, actor=OWNER),
         "year 1989 is out of range: from 1990"),
        (lambda db: services.set_figures(db, "钟祥", year=datetime.now(UTC).year + 2, staff=1,
                                         actor=OWNER), "is out of range"),
        (lambda db: services.set_figures(db, "钟祥", year=2024, staff=-1, actor=OWNER),
         "cannot be negative"),
        (lambda db: services.set_figures(db, "钟祥", year=2024, actor=OWNER), "no figures given"),
        (lambda db: services.set_figures(db, "宜昌", year=2024, staff=1, actor=OWNER),
         "unknown site '宜昌'"),
    ],
)  # fmt: skip
def test_bad_registry_input_is_refused_and_writes_nothing(
    db: Database, call: Callable[[Database], object], message: str
) -> None:
    with db.unit() as uow:
        before = len(uow.registry_records())
    with pytest.raises(InvalidInput, match=message):
        call(db)
    with db.unit() as uow:
        assert len(uow.registry_records()) == before


def test_an_unknown_site_is_refused_on_admit_with_the_known_sites(
    db: Database, make_company: MakeCompany
) -> None:
    with pytest.raises(
        InvalidInput,
        match=r"cannot admit JM-0001: unknown site '宜昌'; known sites: 京山, 沙洋, 钟祥, 高新区; "
        r"an admin adds a site first",
    ):
        make_company(site="宜昌")
    assert services.list_companies(db) == []
    services.add_site(db, "宜昌", actor=ADMIN)
    assert make_company(site="宜昌").site == "宜昌"
    assert make_company(site="").site == ""  # no site at all stays allowed


def test_an_unknown_site_is_refused_when_a_company_moves(
    db: Database, make_company: MakeCompany
) -> None:
    make_company(key="JM-0001", site="钟祥")
    with pytest.raises(InvalidInput, match="unknown site '宜昌'; known sites"):
        services.set_profile(db, "JM-0001", site="宜昌", actor=OWNER)
    assert services.show(db, "JM-0001").site == "钟祥"
    assert services.set_profile(db, "JM-0001", site="京山", actor=OWNER).site == "京山"


def test_an_import_naming_an_unknown_site_is_refused_line_by_line(db: Database) -> None:
    header = "company_key,company_name,event,from_stage,to_stage,effective_at,actor,note,reason,sector,site,uscc\n"  # noqa: E501
    body = (
        "JM-0001,甲,admit,,seed,2024-01-01,wang,,,,钟祥,\n"
        "JM-0002,乙,admit,,seed,2024-01-01,wang,,,,宜昌,\n"
        "JM-0003,丙,admit,,seed,2024-01-01,wang,,,,,\n"
    )
    with pytest.raises(services.ImportRejected) as rejected:
        services.import_events(db, (header + body).encode(), actor=OWNER, source="x.csv")
    assert [p.line for p in rejected.value.problems] == [3]
    assert "unknown site '宜昌'" in str(rejected.value.problems[0].error)
    assert services.list_companies(db) == []
    services.add_site(db, "宜昌", actor=OWNER)
    assert services.import_events(db, (header + body).encode(), actor=OWNER).companies_new == 3
