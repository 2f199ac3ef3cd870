"""Metrics against a brute-force reference over the event log, on SQLite and PostgreSQL.

Histories are built through the real write paths (CSV import, with shuffled rows and a second
file extending companies, and the interactive services with backdated times); the reference
re-derives every number in plain Python from the exported events, never from `spell`.
"""

from __future__ import annotations

import csv
import io
import math
import random
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator import metrics, services
from incubator.dbapi import Readable, Reader
from incubator.metrics import DAYS_PER_MONTH, Filters
from incubator.stages import LADDER, ExitReason
from incubator.store import Database
from tests.conftest import BACKENDS, OWNER, PG_URL, ungate

#: About the ladder, the audit or the metrics, not evidence: the stage gates are off.
pytestmark = pytest.mark.ungated

DAY = timedelta(days=1)
LADDER_VALUES = [s.value for s in LADDER]
REASONS = [r.value for r in ExitReason]
SITES = ("钟祥", "京山")
SECTORS = ("biomedicine", "organic food")
#: A coarse grid of instants, so that events of different companies tie and periods vary.
BASE = datetime(2020, 1, 1, 3, 0, tzinfo=UTC)
STEP = timedelta(days=19, hours=7)
CST = timezone(timedelta(hours=8))
DWELL_KEYS = [
    "stage", "completed", "mean_days", "median_days", "p90_days", "open",
    "open_median_days", "km_median_days",
]  # fmt: skip
LIMITS = {"seed": 1, "nursery": 2.5, "incubator": 4, "accelerator": 0}
SECTOR_LIMITS: dict[str, dict[str, float]] = {"biomedicine": {"incubator": 6, "industrial_park": 3}}


# --- the reference -------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    key: str
    kind: str
    to_stage: str
    at: datetime
    reason: str | None
    site: str
    sector: str


@dataclass(frozen=True)
class RefSpell:
    key: str
    stage: str
    start: datetime
    end: datetime | None  # None: open at T
    end_kind: str | None
    reason: str | None
    site: str
    sector: str


def exported_events(db: Database) -> dict[str, list[Event]]:
    """Every company's events, in chain order, read back through the CSV export."""
    out = io.StringIO()
    services.export_events(db, out)
    events: dict[str, list[Event]] = {}
    for row in csv.DictReader(io.StringIO(out.getvalue())):
        events.setdefault(row["company_key"], []).append(
            Event(
                row["company_key"],
                row["event"],
                row["to_stage"],
                datetime.fromisoformat(row["effective_at"]),
                row["reason"] or None,
                row["site"],
                row["sector"],
            )
        )
    return events


def ref_spells(events: dict[str, list[Event]], t: datetime, filters: Filters) -> list[RefSpell]:
    spells = []
    for key, evs in events.items():
        cohort = evs[0].at.year
        first = evs[0]
        if filters.site and first.site != filters.site:
            continue
        if filters.sector and first.sector != filters.sector:
            continue
        if filters.cohort is not None and cohort != filters.cohort:
            continue
        seen = [e for e in evs if e.at <= t]
        for i, e in enumerate(seen):
            if e.to_stage == "exited":
                continue
            nxt = seen[i + 1] if i + 1 < len(seen) else None
            spells.append(
                RefSpell(
                    key,
                    e.to_stage,
                    e.at,
                    nxt.at if nxt else None,
                    nxt.kind if nxt else None,
                    nxt.reason if nxt else None,
                    first.site,
                    first.sector,
                )
            )
    return spells


def ref_funnel(spells: list[RefSpell]) -> list[dict[str, Any]]:
    rows = []
    for stage in LADDER_VALUES:
        mine = [s for s in spells if s.stage == stage]
        entered = len(mine)
        advanced = sum(1 for s in mine if s.end_kind == "advance")
        rows.append(
            {
                "stage": stage,
                "entered": entered,
                "advanced": advanced,
                "exited": sum(1 for s in mine if s.end_kind == "exit"),
                "current": sum(1 for s in mine if s.end is None),
                "conversion": None
                if stage == "industrial_park" or entered == 0
                else advanced / entered,
            }
        )
    return rows


def ref_period(at: datetime, by: str) -> str:
    if by == "month":
        return f"{at.year:04d}-{at.month:02d}"
    if by == "quarter":
        return f"{at.year:04d}-Q{(at.month - 1) // 3 + 1}"
    return f"{at.year:04d}"


def ref_throughput(spells: list[RefSpell], by: str) -> dict[str, Any]:
    entries = Counter((ref_period(s.start, by), s.stage) for s in spells)
    exits = Counter(
        (ref_period(s.end, by), s.reason or "") for s in spells if s.end and s.end_kind == "exit"
    )
    return {
        "by": by,
        "rows": [
            {"period": p, "stage": s, "entered": n}
            for (p, s), n in sorted(entries.items(), key=lambda i: (i[0][0], LADDER_VALUES.index(i[0][1])))
        ],
        "exits": [
            {"period": p, "reason": r, "n": n}
            for (p, r), n in sorted(exits.items(), key=lambda i: (i[0][0], REASONS.index(i[0][1])))
        ],
    }  # fmt: skip


def linear_percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    xs = sorted(values)
    h = (len(xs) - 1) * q / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def ref_km_median(done: list[timedelta], still: list[timedelta]) -> float | None:
    """Kaplan–Meier median in exact fractions; events at t before censorings at t."""
    survival = Fraction(1)
    for t in sorted(set(done)):
        ends = sum(1 for x in done if x == t)
        at_risk = sum(1 for x in done + still if x >= t)
        survival *= Fraction(at_risk - ends, at_risk)
        if survival <= Fraction(1, 2):
            return t / DAY
    return None


def ref_dwell(spells: list[RefSpell], t: datetime) -> list[dict[str, Any]]:
    rows = []
    for stage in LADDER_VALUES:
        done = [s.end - s.start for s in spells if s.stage == stage and s.end is not None]
        still = [t - s.start for s in spells if s.stage == stage and s.end is None]
        days = [d / DAY for d in done]
        ages = [d / DAY for d in still]
        rows.append(
            {
                "stage": stage,
                "completed": len(days),
                "mean_days": statistics.fmean(days) if days else None,
                "min_days": min(days, default=None),
                "q1_days": linear_percentile(days, 25),
                "median_days": linear_percentile(days, 50),
                "q3_days": linear_percentile(days, 75),
                "p90_days": linear_percentile(days, 90),
                "max_days": max(days, default=None),
                "open": len(ages),
                "open_median_days": linear_percentile(ages, 50),
                "km_median_days": ref_km_median(done, still),
            }
        )
    return rows


def ref_stuck(spells: list[RefSpell], t: datetime, names: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for s in spells:
        months = SECTOR_LIMITS.get(s.sector, {}).get(s.stage, LIMITS.get(s.stage))
        if s.end is not None or months is None:
            continue
        limit = timedelta(days=months * DAYS_PER_MONTH)
        if t - s.start > limit:
            rows.append(
                {
                    "key": s.key,
                    "name": names[s.key],
                    "site": s.site,
                    "sector": s.sector,
                    "stage": s.stage,
                    "entered_stage_at": s.start.isoformat(),
                    "days_in_stage": (t - s.start) / DAY,
                    "limit_days": limit / DAY,
                    "overdue_days": (t - s.start - limit) / DAY,
                }
            )
    return sorted(rows, key=lambda r: (-r["days_in_stage"], r["key"]))


def assert_rows_match(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Same rows, same keys, integers exactly and floats to 1e-9 days (or exactly)."""
    assert [sorted(r) for r in actual] == [sorted(r) for r in expected]
    for got, want in zip(actual, expected, strict=True):
        for name, value in want.items():
            if isinstance(value, float):
                assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-9), (name, got, want)
            else:
                assert got[name] == value, (name, got, want)


# --- building histories through the write paths --------------------------------------------


@dataclass
class Plan:
    """One company's history, and how it reaches the database."""

    key: str
    name: str
    site: str
    sector: str
    events: list[tuple[str, str | None, str, datetime, str | None]]  # kind, from, to, at, reason
    split: int  # events[:split] come from the first CSV file
    tail_by_services: bool  # events[split:] through services (else a second CSV file)


@st.composite
def company_plans(draw: st.DrawFn, key: str) -> Plan:
    stage = draw(st.sampled_from(LADDER_VALUES))  # mid-ladder admissions included
    at = BASE + draw(st.integers(0, 40)) * STEP
    events: list[tuple[str, str | None, str, datetime, str | None]] = [
        ("admit", None, stage, at, None)
    ]
    for _ in range(draw(st.integers(0, 5))):
        at += draw(st.integers(0, 12)) * STEP + draw(st.sampled_from([timedelta(0), DAY / 3]))
        top = stage == "industrial_park"
        if top or draw(st.integers(0, 3)) == 0:
            events.append(("exit", stage, "exited", at, draw(st.sampled_from(REASONS))))
            break
        nxt = LADDER_VALUES[LADDER_VALUES.index(stage) + 1]
        events.append(("advance", stage, nxt, at, None))
        stage = nxt
    return Plan(
        key,
        f'公司 {key}, "quoted"',
        draw(st.sampled_from(SITES)),
        draw(st.sampled_from(SECTORS)),
        events,
        draw(st.integers(0, len(events))),
        draw(st.booleans()),
    )


def csv_rows(plan: Plan, events: Iterable[Any], rng: random.Random) -> list[dict[str, str]]:
    rows = []
    for kind, from_stage, to_stage, at, reason in events:
        shown = at.astimezone(CST) if rng.random() < 0.3 else at  # same instant, +08:00
        rows.append(
            {
                "company_key": plan.key,
                "company_name": plan.name,
                "event": kind,
                "from_stage": (from_stage or "") if rng.random() < 0.5 else "",
                "to_stage": "" if kind == "exit" and rng.random() < 0.5 else to_stage,
                "effective_at": shown.isoformat(),
                "actor": "importer",
                "note": "",
                "reason": reason or "",
                "sector": plan.sector,
                "site": plan.site,
                "uscc": "",
            }
        )
    return rows


def shuffled_csv(rows_by_company: list[list[dict[str, str]]], rng: random.Random) -> str:
    """All rows in random order, except that rows of one company at the same instant keep
    their order (the file order is what breaks such ties on import)."""
    flat = [(i, j) for i, rows in enumerate(rows_by_company) for j in range(len(rows))]
    rng.shuffle(flat)
    slots: dict[tuple[int, datetime], list[int]] = {}
    for pos, (i, j) in enumerate(flat):
        at = datetime.fromisoformat(rows_by_company[i][j]["effective_at"]).astimezone(UTC)
        slots.setdefault((i, at), []).append(pos)
    for (i, _), positions in slots.items():
        ordered = sorted(flat[p][1] for p in positions)
        for p, j in zip(sorted(positions), ordered, strict=True):
            flat[p] = (i, j)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(services.CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows_by_company[i][j] for i, j in flat)
    return out.getvalue()


def build(db: Database, plans: list[Plan], seed: int) -> None:
    """Write the plans: first CSV file, second CSV file, then the services one by one."""
    rng = random.Random(seed)
    first = [csv_rows(p, p.events[: p.split], rng) for p in plans if p.split]
    second = [
        csv_rows(p, p.events[p.split :], rng)
        for p in plans
        if p.split < len(p.events) and not p.tail_by_services
    ]
    for rows in (first, second):
        if rows:
            services.import_events(db, shuffled_csv(rows, rng), actor=OWNER)
    for p in plans:
        if not p.tail_by_services:
            continue
        for kind, from_stage, to_stage, at, reason in p.events[p.split :]:
            seen = from_stage if rng.random() < 0.5 else None
            if kind == "admit":
                services.admit(
                    db, p.key, name=p.name, stage=to_stage, actor=OWNER, at=at,
                    site=p.site, sector=p.sector,
                )  # fmt: skip
            elif kind == "advance":
                services.advance(db, p.key, actor=OWNER, at=at, seen=seen)
            else:
                assert reason is not None
                services.exit_company(db, p.key, reason=reason, actor=OWNER, at=at, seen=seen)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Plan], datetime | None, Filters, int]:
    n = draw(st.integers(1, 10))
    plans = [draw(company_plans(f"JM-{i:04d}")) for i in range(n)]
    times = sorted({at for p in plans for *_, at, _ in p.events})
    moves = sorted({at for p in plans for kind, *_, at, _ in p.events if kind != "admit"})
    as_of = draw(
        st.one_of(
            st.none(),
            st.integers(-1, 110).map(lambda k: BASE + k * STEP),
            st.tuples(st.sampled_from(moves or times), st.sampled_from([-1, 0, 0, 1])).map(
                lambda pick: pick[0] + pick[1] * timedelta(microseconds=1)
            ),  # exactly at an event, or a microsecond either side
        )
    )
    filters = Filters(
        site=draw(st.sampled_from([None, *SITES, "nowhere"])),
        sector=draw(st.sampled_from([None, *SECTORS])),
        cohort=draw(st.sampled_from([None, 2020, 2021, 2022])),
    )
    return plans, as_of, filters, draw(st.integers(0, 2**16))


# --- tests ---------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("set INCUBATOR_TEST_DATABASE_URL to run the PostgreSQL tests")
    return str(request.param)


def check_all_metrics(
    db: Database, as_of: datetime | None, filters: Filters, *, through_the_driver: bool = False
) -> None:
    """Compare every metric at `as_of` with the reference. Without `as_of` (now), the
    counts are compared as they are, and the times at a fixed instant after every event.
    `through_the_driver`: the metrics read `db` as the metric commands do, through a
    `dbapi.Reader` (no SQLAlchemy), instead of the store's units of work."""
    t = as_of or datetime.now(UTC) + timedelta(minutes=10)
    events = exported_events(db)
    spells = ref_spells(events, t, filters)
    names = {c.key: c.name for c in services.list_companies(db)}
    if through_the_driver:
        reader = Reader.open(db.url)
        assert reader is not None, db.url
        try:
            check_metrics(reader, as_of, t, filters, spells, names)
        finally:
            reader.close()
    else:
        check_metrics(db, as_of, t, filters, spells, names)


def check_metrics(
    db: Readable,
    as_of: datetime | None,
    t: datetime,
    filters: Filters,
    spells: list[RefSpell],
    names: dict[str, str],
) -> None:

    doc = metrics.funnel(db, as_of=as_of, filters=filters)
    if as_of is None:
        assert abs(datetime.fromisoformat(doc["as_of"]) - datetime.now(UTC)) < timedelta(minutes=1)
    else:
        assert doc["as_of"] == t.isoformat()
    assert doc["stages"] == ref_funnel(spells)

    for by in metrics.PERIODS:
        doc = metrics.throughput(db, by=by, as_of=as_of, filters=filters)
        assert doc == ref_throughput(spells, by)

    expected = ref_dwell(spells, t)
    doc = metrics.dwell(db, as_of=t, filters=filters)
    assert doc["as_of"] == t.isoformat()
    assert_rows_match(doc["stages"], [{k: r[k] for k in DWELL_KEYS} for r in expected])
    box = metrics.dwell_quantiles(db, as_of=t, filters=filters)
    assert_rows_match(box, [{k: v for k, v in r.items() if k != "mean_days"} for r in expected])
    for got, want in zip(doc["stages"], expected, strict=True):  # KM: the same float exactly
        assert got["km_median_days"] == want["km_median_days"]

    stuck = metrics.stuck(db, as_of=t, filters=filters, limits=LIMITS, sector_limits=SECTOR_LIMITS)
    assert_rows_match(stuck, ref_stuck(spells, t, names))
    assert (
        metrics.stuck(
            db, as_of=t, filters=filters, limits=LIMITS, sector_limits=SECTOR_LIMITS, limit=2
        )
        == stuck[:2]
    )


def check_boundaries(db: Database, plans: list[Plan], most: int = 4) -> None:
    """Funnel and dwell exactly at the first few instants where a spell ends: a spell that
    ends at T is completed at T, and one that starts at T has entered."""
    events = exported_events(db)
    moves = sorted({at for p in plans for kind, *_, at, _ in p.events if kind != "admit"})
    for t in moves[:most]:
        spells = ref_spells(events, t, Filters())
        assert metrics.funnel(db, as_of=t)["stages"] == ref_funnel(spells)
        expected = [{k: r[k] for k in DWELL_KEYS} for r in ref_dwell(spells, t)]
        assert_rows_match(metrics.dwell(db, as_of=t)["stages"], expected)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_every_metric_matches_the_brute_force_reference(
    backend: str,
    make_database: Callable[[str], Database],
    scenario: tuple[list[Plan], datetime | None, Filters, int],
) -> None:
    plans, as_of, filters, seed = scenario
    db = ungate(make_database(backend))
    build(db, plans, seed)
    check_all_metrics(db, as_of, filters, through_the_driver=True)
    check_all_metrics(db, as_of, Filters())
    check_boundaries(db, plans)


def test_sqlite_and_postgresql_give_identical_numbers(
    make_database: Callable[[str], Database], tmp_path: Path
) -> None:
    if not PG_URL:
        pytest.skip("set INCUBATOR_TEST_DATABASE_URL to run the PostgreSQL tests")
    from fixtures.generate_demo import generate_rows, write_csv

    path = tmp_path / "events.csv"
    write_csv(path, generate_rows(n_companies=400, seed=7))
    t = datetime(2025, 6, 30, 12, tzinfo=UTC)

    def every_metric(db: Readable) -> list[Any]:
        return [
            metrics.funnel(db, as_of=t),
            metrics.dwell(db, as_of=t),
            metrics.dwell_quantiles(db, as_of=t, filters=Filters(site="钟祥")),
            [metrics.throughput(db, by=by, as_of=t) for by in metrics.PERIODS],
            metrics.stuck(db, as_of=t),
        ]

    docs = []
    for backend in BACKENDS:
        db = make_database(backend)
        services.import_events(db, path, actor=OWNER)
        docs.append(every_metric(db))
        reader = Reader.open(db.url)  # as the metric commands read it: through the driver
        assert reader is not None
        try:
            assert every_metric(reader) == docs[-1], backend
        finally:
            reader.close()
    assert docs[0] == docs[1]


def _metric_statements(db: Database) -> list[tuple[str, Any]]:
    """The SQL of every query on `spell` that the funnel, throughput and time in stage send,
    with and without each filter."""
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM spell" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        for filters in (
            Filters(),
            Filters(site="钟祥"),
            Filters(sector="biomedicine"),
            Filters(cohort=2024),
            Filters(site="钟祥", sector="biomedicine", cohort=2024),
        ):
            metrics.funnel(db, filters=filters)
            metrics.dwell(db, filters=filters)
            for by in metrics.PERIODS:
                metrics.throughput(db, by=by, filters=filters)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert len(statements) == 5 * (2 + 2 * len(metrics.PERIODS)), statements
    return statements


def test_the_metrics_read_one_covering_index_without_sorting_on_sqlite(
    make_database: Callable[[str], Database],
) -> None:
    """The metrics ask SQLite for `FROM spell INDEXED BY ix_spell_metrics` (funnel, entries,
    time in stage) or `ix_spell_exits` (exits), and SQLite's plan is one scan of that index
    as a covering index (no row lookup) with no temporary B-tree (the GROUP BY follows the
    index's order instead of sorting every spell): a table scan sorted for the GROUP BY was
    several times slower at a million companies. SQLAlchemy's SQLite dialect used to drop
    table hints silently; the plan is what is checked here, not the SQL text alone."""
    db = ungate(make_database("sqlite"))
    services.admit(db, "JM-0001", name="One", stage="seed", actor=OWNER, site="钟祥")
    services.admit(db, "JM-0002", name="Two", stage="seed", actor=OWNER, site="钟祥")
    services.exit_company(db, "JM-0002", reason="failed", actor=OWNER)
    indexes = set()
    with db.engine.connect() as conn:
        for statement, _ in _metric_statements(db):
            index = "ix_spell_exits" if "exit_reason" in statement else "ix_spell_metrics"
            assert f"FROM spell INDEXED BY {index}" in statement, statement
            params = (None,) * statement.count("?")
            plan = [
                row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            ]
            assert plan == [f"SCAN spell USING COVERING INDEX {index}"], (statement, plan)
            indexes.add(index)
    assert indexes == {"ix_spell_exits", "ix_spell_metrics"}


@pytest.mark.skipif(
    not PG_URL, reason="set INCUBATOR_TEST_DATABASE_URL to run the PostgreSQL tests"
)
def test_the_metrics_scan_the_table_on_postgresql(
    make_database: Callable[[str], Database],
) -> None:
    """PostgreSQL has no metrics index (migration 0008 creates them on SQLite only): the
    metric queries read `spell` with a sequential scan, not an index on it (a planner without
    statistics took a partial index for a few rows and sorted 74,000 exits on disk)."""
    db = ungate(make_database("postgresql"))
    services.admit(db, "JM-0001", name="One", stage="seed", actor=OWNER, site="钟祥")
    services.admit(db, "JM-0002", name="Two", stage="seed", actor=OWNER, site="钟祥")
    services.exit_company(db, "JM-0002", reason="failed", actor=OWNER)
    with db.engine.connect() as conn:
        indexes = {
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'spell'"
                " AND schemaname = current_schema()"
            )
        }
        assert not indexes & {"ix_spell_metrics", "ix_spell_exits"}, indexes
        for statement, parameters in _metric_statements(db):
            assert "INDEXED BY" not in statement, statement
            plan = [row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
            on_spell = [step for step in plan if " on spell" in step]
            assert on_spell and all("Seq Scan on spell" in step for step in on_spell), plan
