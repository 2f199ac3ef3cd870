"""Pipeline metrics (DESIGN §3): funnel, throughput, time in stage, stuck companies.

Every metric looks at the pipeline as it stood at an instant T (`as_of`; default now): only
events with `effective_at <= T` count. A *spell* is a stay in one stage: it starts at the
event that moved the company into the stage (admit or advance) and ends at the company's next
event (advance or exit). At T a spell counts when it started at or before T; it is
*completed* when it ended at or before T, else *open* (its age is T minus its start).
Filters keep the companies of one site, one sector and/or one cohort (the calendar year, in
UTC, of the admit event).

The store keeps a `spell` table in step with every event, so the counting happens in SQL
(GROUP BY queries, `incubator.dbapi`); for time in stage the database sends one text of
signed integers per stage and numpy computes the statistics. A metric reads any `Readable`:
the store's `Database`, or a `dbapi.Reader` straight through the driver. Durations are exact
integers (microseconds) until they are reported, in days of 86,400 s, as floats — so SQLite
and PostgreSQL give identical numbers.

Definitions
- funnel, per stage: `entered` spells; `advanced` / `exited`: completed spells ended by an
  advance / an exit; `current`: open spells; `conversion` = advanced / entered (None when
  entered = 0, always None for industrial_park, the top of the ladder).
- throughput: spells started (admit or advance events) per period and stage, and exits per
  period and reason, by `effective_at` in UTC; periods are labelled `2024-07` (month),
  `2024-Q3` (quarter) and `2024` (year). Only non-empty pairs are listed.
- dwell: completed spells' lengths (mean; median, quartiles and p90 by linear interpolation,
  numpy's default, like PostgreSQL's `percentile_cont`); open spells' ages at T (median);
  and the Kaplan–Meier median (see `kaplan_meier_median`).
- stuck: open spells at T older than their stage's limit (months of 30.4375 days).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from incubator.access import Actor
from incubator.access import read_all as _read_all
from incubator.dbapi import (
    PERIOD_MONTHS,
    Readable,
    StageLimit,
    entries_by_period,
    exits_by_period,
    funnel_counts,
    overdue_spells,
    spell_durations,
)
from incubator.messages import message
from incubator.stages import LADDER, ExitReason, InvalidInput, Sector, Stage, parse_stage
from incubator.values import (
    EARLIEST_EVENT,
    check_cohort,
    clean_text,
    from_micros,
    isoformat,
    now_utc,
    parse_instant,
    to_micros,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

#: Microseconds in a day of 86,400 s: every duration is reported in these days.
US_PER_DAY = 86_400_000_000

#: Periods of `throughput`, in the order offered to users.
PERIODS: tuple[str, ...] = tuple(PERIOD_MONTHS)

#: How far above 0.5 a computed survival may lie and still count as "dropped to 0.5": the
#: product of n floating-point factors is off by at most about n * 1.1e-16, so a curve that
#: reaches 0.5 exactly (e.g. an even number of spells, none censored) is not missed.
KM_TOLERANCE = 1e-9

#: Default limits of the stuck list: months in a stage before a company counts as stuck.
#: Seed and industrial park have no limit.
DEFAULT_LIMITS_MONTHS: dict[str, float] = {"nursery": 24, "incubator": 48, "accelerator": 60}
#: Sectors with limits of their own (biomedicine incubates longer).
SECTOR_LIMITS_MONTHS: dict[str, dict[str, float]] = {"biomedicine": {"incubator": 60}}
#: Days in a month for the limits (365.25 / 12).
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class Filters:
    """Which companies a metric looks at; None (or "") means all."""

    site: str | None = None
    sector: str | None = None
    cohort: int | None = None  # calendar year (UTC) of the admit event

    def __post_init__(self) -> None:
        """Refuse values no database can compare (NUL, stray bytes) and impossible cohorts."""
        for what, value in (("site", self.site), ("sector", self.sector)):
            if value:
                clean_text(value, f"the {what} filter")
        if self.cohort is not None:
            check_cohort(self.cohort)

    def scope(self) -> dict[str, Any]:
        """The filters as keyword arguments of the store's metric queries."""
        return {"site": self.site or None, "sector": self.sector or None, "cohort": self.cohort}


#: The default of every metric: all companies.
NO_FILTERS = Filters()


def _instant(as_of: datetime | None) -> tuple[datetime, int]:
    """T as an aware UTC datetime (now when None; naive means UTC) and in microseconds."""
    moment = now_utc() if as_of is None else parse_instant(as_of)
    if moment < EARLIEST_EVENT:
        raise InvalidInput("time.as_of_before", moment=moment, earliest=EARLIEST_EVENT.date())
    return moment, to_micros(moment)


# --- funnel --------------------------------------------------------------------------------


def funnel(
    db: Readable,
    *,
    actor: Actor | None = None,
    as_of: datetime | None = None,
    filters: Filters = NO_FILTERS,
) -> dict[str, Any]:
    """The funnel at T: `{"as_of", "stages": [{"stage", "entered", "advanced", "exited",
    "current", "conversion"}, ...]}`, the five ladder stages in order (DESIGN §4)."""
    _read_all(actor, message("action.read_metrics"))
    moment, t_us = _instant(as_of)
    with db.unit() as uow:
        counts = funnel_counts(uow, t_us, **filters.scope())
    stages = []
    for stage in LADDER:
        entered, advanced, exited, current = counts.get(stage.value, (0, 0, 0, 0))
        stages.append(
            {
                "stage": stage.value,
                "entered": entered,
                "advanced": advanced,
                "exited": exited,
                "current": current,
                "conversion": conversion(stage, entered, advanced),
            }
        )
    return {"as_of": isoformat(moment), "stages": stages}


def conversion(stage: Stage, entered: int, advanced: int) -> float | None:
    """advanced / entered; None when nothing entered, and at the top of the ladder."""
    if stage is Stage.INDUSTRIAL_PARK or entered == 0:
        return None
    return advanced / entered


# --- throughput ----------------------------------------------------------------------------


def throughput(
    db: Readable,
    *,
    actor: Actor | None = None,
    by: str = "month",
    as_of: datetime | None = None,
    filters: Filters = NO_FILTERS,
) -> dict[str, Any]:
    """Entries per period and stage, exits per period and reason (DESIGN §4):
    `{"by", "rows": [{"period", "stage", "entered"}, ...], "exits": [{"period", "reason",
    "n"}, ...]}`, sorted by period, then ladder order (rows) or reason order (exits). Only
    non-empty pairs are listed; a bad `by` raises InvalidInput naming the allowed periods."""
    _read_all(actor, message("action.read_metrics"))
    period = parse_period(by)
    _, t_us = _instant(as_of)
    with db.unit() as uow:
        entries = entries_by_period(uow, t_us, period, **filters.scope())
        exits = exits_by_period(uow, t_us, period, **filters.scope())
    ladder = {s.value: i for i, s in enumerate(LADDER)}
    reasons = {r.value: i for i, r in enumerate(ExitReason)}
    entries.sort(key=lambda r: (r[0], ladder.get(r[1], len(ladder)), r[1]))
    exits.sort(key=lambda r: (r[0], reasons.get(r[1], len(reasons)), r[1] or ""))
    return {
        "by": period,
        "rows": [
            {"period": period_label(p, period), "stage": stage, "entered": n}
            for p, stage, n in entries
        ],
        "exits": [
            {"period": period_label(p, period), "reason": reason, "n": n} for p, reason, n in exits
        ],
    }


def parse_period(by: str) -> str:
    """`month`, `quarter` or `year` (case-insensitive); InvalidInput otherwise."""
    period = by.strip().lower()
    if period not in PERIOD_MONTHS:
        raise InvalidInput("period.unknown", value=by, allowed=list(PERIODS))
    return period


def period_label(index: int, period: str) -> str:
    """The label of a period index (`year * 12 + month - 1` divided by the period's months):
    `2024-07`, `2024-Q3` or `2024`."""
    if period == "month":
        year, month = divmod(index, 12)
        return f"{year:04d}-{month + 1:02d}"
    if period == "quarter":
        year, quarter = divmod(index, 4)
        return f"{year:04d}-Q{quarter + 1}"
    return f"{index:04d}"


# --- time in stage -------------------------------------------------------------------------


@dataclass(frozen=True)
class _StageSpells:
    """One stage's spells at T, in microseconds, each array sorted ascending."""

    completed: NDArray[np.int64]  # lengths of the completed spells
    open: NDArray[np.int64]  # ages of the open spells


def _spells_by_stage(db: Readable, t_us: int, filters: Filters) -> dict[Stage, _StageSpells]:
    """The spells at T of every ladder stage, split into completed and open, sorted."""
    import numpy as np

    with db.unit() as uow:
        spells = spell_durations(uow, t_us, **filters.scope())
    none = np.empty(0, dtype=np.int64)
    result = {}
    for stage in LADDER:
        completed, still_open = spells.pop(stage.value, (none, none))
        result[stage] = _StageSpells(np.sort(completed), np.sort(still_open))
    return result


def kaplan_meier_median(completed: ArrayLike, censored: ArrayLike) -> float | None:
    """The Kaplan–Meier median of the time to leave a stage.

    `completed` are the lengths of the completed spells (observed events); `censored` are
    the ages of the open spells (right-censored: they lasted at least that long). The
    survival curve is S(t) = Π over event times u <= t of (n(u) − d(u)) / n(u), where d(u)
    spells end at u and n(u) spells are at risk at u: those that last u or longer, open ones
    included. Ties: events at u are counted before censorings at u, i.e. a spell censored
    at u is still at risk at u.

    Returns the first (smallest) event time at which S(t) <= 0.5 (within `KM_TOLERANCE`),
    in the unit of the input; None if the curve never drops that far (e.g. everything is
    censored, or nothing happened). Without censoring this is the ceil(n/2)-th smallest
    length. Unlike R's `survfit`, no midpoint is taken where S(t) = 0.5 over an interval.
    """
    import numpy as np

    done = np.sort(np.asarray(completed))
    if done.size == 0:
        return None
    still = np.sort(np.asarray(censored))
    times, ends = np.unique(done, return_counts=True)
    at_risk = (done.size - np.searchsorted(done, times, side="left")) + (
        still.size - np.searchsorted(still, times, side="left")
    )
    survival = np.cumprod((at_risk - ends) / at_risk)
    below = np.flatnonzero(survival <= 0.5 + KM_TOLERANCE)
    return float(times[below[0]]) if below.size else None


def _days(value: float | None) -> float | None:
    return None if value is None else value / US_PER_DAY


def _percentiles(us: NDArray[np.int64], qs: Sequence[float]) -> list[float | None]:
    """Percentiles (linear interpolation) of microseconds, in days; None for no data."""
    import numpy as np

    if us.size == 0:
        return [None for _ in qs]
    return [float(v) for v in np.percentile(us / US_PER_DAY, qs)]


def _mean_days(us: NDArray[np.int64]) -> float | None:
    return float((us / US_PER_DAY).mean()) if us.size else None


def _km_days(spells: _StageSpells) -> float | None:
    return _days(kaplan_meier_median(spells.completed, spells.open))


def dwell(
    db: Readable,
    *,
    actor: Actor | None = None,
    as_of: datetime | None = None,
    filters: Filters = NO_FILTERS,
) -> dict[str, Any]:
    """Time in stage at T (DESIGN §4): `{"as_of", "stages": [{"stage", "completed",
    "mean_days", "median_days", "p90_days", "open", "open_median_days", "km_median_days"},
    ...]}`, the five ladder stages in order; None where there is no data."""
    _read_all(actor, message("action.read_metrics"))
    moment, t_us = _instant(as_of)
    stages = []
    for stage, spells in _spells_by_stage(db, t_us, filters).items():
        median, p90 = _percentiles(spells.completed, (50, 90))
        (open_median,) = _percentiles(spells.open, (50,))
        stages.append(
            {
                "stage": stage.value,
                "completed": int(spells.completed.size),
                "mean_days": _mean_days(spells.completed),
                "median_days": median,
                "p90_days": p90,
                "open": int(spells.open.size),
                "open_median_days": open_median,
                "km_median_days": _km_days(spells),
            }
        )
    return {"as_of": isoformat(moment), "stages": stages}


def dwell_quantiles(
    db: Readable,
    *,
    actor: Actor | None = None,
    as_of: datetime | None = None,
    filters: Filters = NO_FILTERS,
) -> list[dict[str, Any]]:
    """Box-plot figures of time in stage at T, per ladder stage in order: `{"stage",
    "completed", "min_days", "q1_days", "median_days", "q3_days", "p90_days", "max_days",
    "open", "open_median_days", "km_median_days"}`; None where there is no data."""
    _read_all(actor, message("action.read_metrics"))
    _, t_us = _instant(as_of)
    result = []
    for stage, spells in _spells_by_stage(db, t_us, filters).items():
        low, q1, median, q3, p90, high = _percentiles(spells.completed, (0, 25, 50, 75, 90, 100))
        (open_median,) = _percentiles(spells.open, (50,))
        result.append(
            {
                "stage": stage.value,
                "completed": int(spells.completed.size),
                "min_days": low,
                "q1_days": q1,
                "median_days": median,
                "q3_days": q3,
                "p90_days": p90,
                "max_days": high,
                "open": int(spells.open.size),
                "open_median_days": open_median,
                "km_median_days": _km_days(spells),
            }
        )
    return result


# --- stuck companies -----------------------------------------------------------------------


def _limit_us(months: float, what: Any) -> int:
    if not isinstance(months, int | float) or math.isnan(months) or months < 0:
        raise InvalidInput("limit.invalid", what=what, months=repr(months))
    return round(months * DAYS_PER_MONTH * US_PER_DAY)


def stage_limits(
    limits: Mapping[str, float], sector_limits: Mapping[str, Mapping[str, float]]
) -> list[StageLimit]:
    """The stuck-list rules: one per stage with a limit (for the sectors without one of their
    own), and one per sector and stage with a limit of its own. Limits are in months."""
    overrides: dict[str, dict[str, int]] = {}
    for sector, by_stage in sector_limits.items():
        for stage, months in by_stage.items():
            value = parse_stage(stage).value
            overrides.setdefault(value, {})[sector] = _limit_us(
                months, message("limit.sector_stage", sector=Sector(sector), stage=Stage(value))
            )
    rules = []
    for stage, months in limits.items():
        value = parse_stage(stage).value
        own = tuple(sorted(overrides.get(value, {})))
        rules.append(StageLimit(value, _limit_us(months, Stage(value)), except_sectors=own))
    for stage, by_sector in overrides.items():
        rules.extend(StageLimit(stage, us, sector=sector) for sector, us in by_sector.items())
    return rules


def stuck(
    db: Readable,
    *,
    actor: Actor | None = None,
    as_of: datetime | None = None,
    filters: Filters = NO_FILTERS,
    limits: Mapping[str, float] | None = None,
    sector_limits: Mapping[str, Mapping[str, float]] | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Companies whose open spell at T is older than their stage's limit, oldest first.

    `limits` (months per stage; default `DEFAULT_LIMITS_MONTHS`) apply unless the company's
    sector has its own limit for the stage in `sector_limits` (default
    `SECTOR_LIMITS_MONTHS`). A company is stuck when its days in stage exceed the limit.
    Each item: key, name, site, sector, stage, entered_stage_at (ISO), days_in_stage,
    limit_days, overdue_days; at most `limit` items, ties broken by key.
    """
    _read_all(actor, message("action.read_metrics"))
    _, t_us = _instant(as_of)
    rules = stage_limits(
        DEFAULT_LIMITS_MONTHS if limits is None else limits,
        SECTOR_LIMITS_MONTHS if sector_limits is None else sector_limits,
    )
    with db.unit() as uow:
        rows = overdue_spells(uow, t_us, rules, limit=limit, **filters.scope())
    own = {(r.stage, r.sector): r.limit_us for r in rules if r.sector is not None}
    default = {r.stage: r.limit_us for r in rules if r.sector is None}
    result = []
    for row in rows:
        limit_us = own.get((row["stage"], row["sector"]), default.get(row["stage"], 0))
        age_us = t_us - row["start_us"]
        result.append(
            {
                "key": row["key"],
                "name": row["name"],
                "site": row["site"],
                "sector": row["sector"],
                "stage": row["stage"],
                "entered_stage_at": isoformat(from_micros(row["start_us"])),
                "days_in_stage": age_us / US_PER_DAY,
                "limit_days": limit_us / US_PER_DAY,
                "overdue_days": (age_us - limit_us) / US_PER_DAY,
            }
        )
    return result
