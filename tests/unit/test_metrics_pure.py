"""The metrics' pure parts: Kaplan–Meier median, period labels, conversion, stuck rules."""

from __future__ import annotations

import math
import random

import pytest

from incubator.dbapi import StageLimit
from incubator.metrics import (
    NO_FILTERS,
    PERIODS,
    Filters,
    conversion,
    kaplan_meier_median,
    parse_period,
    period_label,
    stage_limits,
)
from incubator.stages import InvalidInput, Stage

# --- Kaplan–Meier --------------------------------------------------------------------------


def test_km_median_is_none_when_every_spell_is_censored() -> None:
    assert kaplan_meier_median([], [3, 5, 8]) is None


def test_km_median_is_none_without_any_spell() -> None:
    assert kaplan_meier_median([], []) is None


@pytest.mark.parametrize("n", range(1, 41))
def test_km_median_without_censoring_is_the_ceil_half_smallest_length(n: int) -> None:
    rng = random.Random(n)
    lengths = [rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 34]) * 1_000_003 for _ in range(n)]
    expected = sorted(lengths)[math.ceil(n / 2) - 1]
    assert kaplan_meier_median(lengths, []) == expected


def test_km_median_of_an_even_count_stops_where_the_curve_reaches_one_half() -> None:
    # S = 3/4, 1/2 (exactly): the median is the second time, with no midpoint taken.
    assert kaplan_meier_median([40, 10, 30, 20], []) == 20
    assert kaplan_meier_median([7, 5], []) == 5


def test_km_median_survives_rounding_when_the_curve_reaches_one_half_exactly() -> None:
    # In floating point these products come out as 0.5000000000000001 at the median.
    assert kaplan_meier_median([8, 7, 2, 1, 6, 6, 5, 1, 5, 8], []) == 5
    assert kaplan_meier_median([7, 3, 2, 8, 4, 3, 4, 5], [6, 6]) == 4  # 7/8 * 5/7 * 4/5 = 1/2


def test_km_median_counts_a_spell_censored_at_an_event_time_as_still_at_risk() -> None:
    # At t=1: 5 at risk (the spell censored at 1 included), 2 end: S = 3/5 > 1/2.
    # At t=3: 2 at risk, 1 ends: S = 3/10 -> the median is 3.
    # (Removing the censored spell first would give S(1) = 2/4 and a median of 1.)
    assert kaplan_meier_median([1, 1, 3], [1, 9]) == 3


def test_km_median_is_none_when_censoring_keeps_the_curve_above_one_half() -> None:
    # S(1) = 4/5, S(2) = 4/5 * 3/4 = 3/5; then only censored spells remain.
    assert kaplan_meier_median([1, 2], [5, 6, 7]) is None


def test_km_median_with_censoring_between_events() -> None:
    # t=2: 6 at risk, 1 ends -> 5/6; censored 3 leaves; t=4: 4 at risk, 2 end -> 5/12.
    assert kaplan_meier_median([2, 4, 4, 10], [3, 11]) == 4


# --- periods and conversion ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "period", "label"),
    [
        (2024 * 12 + 6, "month", "2024-07"),
        (2024 * 12, "month", "2024-01"),
        (2024 * 12 + 11, "month", "2024-12"),
        ((2024 * 12 + 6) // 3, "quarter", "2024-Q3"),
        ((2024 * 12 + 0) // 3, "quarter", "2024-Q1"),
        ((2024 * 12 + 11) // 3, "quarter", "2024-Q4"),
        ((2024 * 12 + 11) // 12, "year", "2024"),
    ],
)
def test_period_labels(index: int, period: str, label: str) -> None:
    assert period_label(index, period) == label


def test_periods_are_month_quarter_year() -> None:
    assert PERIODS == ("month", "quarter", "year")
    assert parse_period(" Quarter ") == "quarter"


def test_an_unknown_period_is_refused_listing_the_allowed_ones() -> None:
    with pytest.raises(InvalidInput, match="allowed: month, quarter, year"):
        parse_period("week")


def test_conversion_is_none_without_entries_and_at_the_top_of_the_ladder() -> None:
    assert conversion(Stage.SEED, 0, 0) is None
    assert conversion(Stage.INDUSTRIAL_PARK, 10, 0) is None
    assert conversion(Stage.NURSERY, 4, 1) == 0.25


def test_blank_filters_mean_all_companies() -> None:
    assert Filters(site="", sector="").scope() == NO_FILTERS.scope()
    assert Filters(site="钟祥", cohort=2024).scope() == {
        "site": "钟祥",
        "sector": None,
        "cohort": 2024,
    }


# --- stuck rules ---------------------------------------------------------------------------

US_PER_MONTH = 30.4375 * 86_400_000_000


def test_a_sector_limit_replaces_the_stage_limit_for_that_sector_only() -> None:
    rules = stage_limits({"incubator": 48, "nursery": 24}, {"biomedicine": {"incubator": 60}})
    assert set(rules) == {
        StageLimit("incubator", round(48 * US_PER_MONTH), except_sectors=("biomedicine",)),
        StageLimit("nursery", round(24 * US_PER_MONTH)),
        StageLimit("incubator", round(60 * US_PER_MONTH), sector="biomedicine"),
    }


def test_stuck_limits_are_checked() -> None:
    with pytest.raises(InvalidInput, match="unknown stage"):
        stage_limits({"garage": 3}, {})
    with pytest.raises(InvalidInput, match="months >= 0"):
        stage_limits({"seed": -1}, {})
