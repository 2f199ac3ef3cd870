"""Hand-checked metric cases on small histories (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from incubator import metrics, services
from incubator.metrics import Filters
from incubator.stages import InvalidInput
from incubator.store import Database
from tests.conftest import OWNER, T0

#: About the ladder, the audit or the metrics, not evidence: the stage gates are off.
pytestmark = pytest.mark.ungated

Make = Callable[..., services.CompanyView]


def stage_row(doc: dict, stage: str) -> dict:
    return next(r for r in doc["stages"] if r["stage"] == stage)


def test_a_stay_that_ends_at_as_of_is_completed_not_current(
    db: Database, make_company: Make
) -> None:
    make_company("seed", key="JM-0001")
    services.advance(db, "JM-0001", actor=OWNER, at=T0 + timedelta(days=10))
    at_move = metrics.funnel(db, as_of=T0 + timedelta(days=10))
    assert stage_row(at_move, "seed") | {"conversion": 0} == {
        "stage": "seed", "entered": 1, "advanced": 1, "exited": 0, "current": 0, "conversion": 0,
    }  # fmt: skip
    assert stage_row(at_move, "nursery")["current"] == 1
    just_before = metrics.funnel(db, as_of=T0 + timedelta(days=10) - timedelta(microseconds=1))
    assert stage_row(just_before, "seed")["current"] == 1
    assert stage_row(just_before, "nursery")["entered"] == 0


def test_a_zero_length_stay_counts_as_entered_and_advanced(
    db: Database, make_company: Make
) -> None:
    make_company("seed", key="JM-0001")
    services.advance(db, "JM-0001", actor=OWNER, at=T0)
    doc = metrics.dwell(db, as_of=T0 + timedelta(days=1))
    seed = stage_row(doc, "seed")
    assert (seed["completed"], seed["median_days"], seed["km_median_days"]) == (1, 0.0, 0.0)
    assert stage_row(doc, "nursery")["open_median_days"] == 1.0


def test_a_naive_as_of_means_utc(db: Database, make_company: Make) -> None:
    make_company("seed", key="JM-0001", at=T0)
    naive = metrics.funnel(db, as_of=datetime(2024, 1, 1))
    assert naive["as_of"] == "2024-01-01T00:00:00+00:00"
    assert stage_row(naive, "seed")["entered"] == 1


def test_companies_admitted_after_as_of_are_not_counted(db: Database, make_company: Make) -> None:
    make_company("incubator", key="JM-0001", at=T0 + timedelta(days=30))
    doc = metrics.funnel(db, as_of=T0)
    assert all(r["entered"] == 0 and r["conversion"] is None for r in doc["stages"])
    assert metrics.dwell_quantiles(db, as_of=T0)[2] == {
        "stage": "incubator", "completed": 0, "min_days": None, "q1_days": None,
        "median_days": None, "q3_days": None, "p90_days": None, "max_days": None, "open": 0,
        "open_median_days": None, "km_median_days": None,
    }  # fmt: skip


def test_the_cohort_is_the_utc_year_of_the_admit(db: Database, make_company: Make) -> None:
    # 2024-01-01 03:00+08:00 is still 2023 in UTC.
    make_company("seed", key="JM-0001", at=datetime(2023, 12, 31, 19, tzinfo=UTC))
    make_company("seed", key="JM-0002", at=T0)
    entered = {
        year: stage_row(metrics.funnel(db, filters=Filters(cohort=year)), "seed")["entered"]
        for year in (2023, 2024, 2025)
    }
    assert entered == {2023: 1, 2024: 1, 2025: 0}


def test_stuck_lists_the_oldest_first_and_honours_sector_limits(
    db: Database, make_company: Make
) -> None:
    as_of = T0 + timedelta(days=round(50 * metrics.DAYS_PER_MONTH))  # 50 months after T0
    make_company("incubator", key="JM-0001", sector="biomedicine")  # 50 < 60 months: fine
    make_company("incubator", key="JM-0002", sector="organic food")  # 50 > 48 months: stuck
    make_company("nursery", key="JM-0003", sector="x", at=T0 + timedelta(days=400))  # 37 > 24
    make_company("seed", key="JM-0004")  # seed has no limit
    rows = metrics.stuck(db, as_of=as_of)
    assert [(r["key"], r["stage"]) for r in rows] == [
        ("JM-0002", "incubator"),
        ("JM-0003", "nursery"),
    ]
    first = rows[0]
    assert first["entered_stage_at"] == "2024-01-01T00:00:00+00:00"
    assert first["limit_days"] == 48 * metrics.DAYS_PER_MONTH
    assert first["overdue_days"] == pytest.approx(first["days_in_stage"] - first["limit_days"])
    assert set(first) == {
        "key", "name", "site", "sector", "stage", "entered_stage_at", "days_in_stage",
        "limit_days", "overdue_days",
    }  # fmt: skip
    assert metrics.stuck(db, as_of=as_of, limit=1) == rows[:1]
    assert metrics.stuck(db, as_of=as_of, filters=Filters(sector="biomedicine")) == []
    assert [r["key"] for r in metrics.stuck(db, as_of=as_of, sector_limits={})] == [
        "JM-0001",
        "JM-0002",
        "JM-0003",
    ]


def test_throughput_refuses_an_unknown_period(db: Database) -> None:
    with pytest.raises(InvalidInput, match="allowed: month, quarter, year"):
        metrics.throughput(db, by="fortnight")
