"""Cached reads: aggregates keyed by database URL and filters, cleared after every write.

Everything returned here is plain data (dicts, lists, DataFrames), never a session or an ORM
object. Arguments are primitives so `st.cache_data` can hash them; `ui.app_context.Scope.key()`
gives the filter part of the key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from incubator import metrics, services
from incubator.stages import DomainError
from incubator.values import EARLIEST_REPORT_YEAR
from ui.app_context import get_database
from ui.frames import (
    BOARD_CAP,
    LIMITS_SETTING,
    StageLimits,
    companies_frame,
    end_of_day,
    start_of_day,
)

TTL = 60  # seconds; writes clear the cache at once

ScopeKey = tuple[str | None, str | None, int | None, str | None]


def _filters(key: ScopeKey) -> metrics.Filters:
    site, sector, cohort, _ = key
    return metrics.Filters(site=site, sector=sector, cohort=cohort)


def _as_of(key: ScopeKey) -> datetime | None:
    return datetime.fromisoformat(key[3]) if key[3] else None


def concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent loads at the same time and return their results in order (the first
    in this thread, each other in a thread of its own that shares this run's context, so
    the caches work as here); the first error is raised once all are done.

    A page that needs several aggregates waits for the slowest, not for their sum: the
    databases answer each on a connection of its own, and the drivers let go of Python's
    lock while a query runs."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # re-raised in the page's thread below
            errors[i] = exc

    context = get_script_run_ctx(suppress_warning=True)
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(calls))]
    for thread in threads:
        if context is not None:
            add_script_run_ctx(thread, context)
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def funnel(url: str, key: ScopeKey) -> dict[str, Any]:
    return metrics.funnel(get_database(url), as_of=_as_of(key), filters=_filters(key))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def throughput(url: str, key: ScopeKey, by: str) -> dict[str, Any]:
    return metrics.throughput(get_database(url), by=by, as_of=_as_of(key), filters=_filters(key))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def dwell_quantiles(url: str, key: ScopeKey) -> list[dict[str, Any]]:
    return metrics.dwell_quantiles(get_database(url), as_of=_as_of(key), filters=_filters(key))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def stuck(url: str, key: ScopeKey, limits_json: str, limit: int = 500) -> list[dict[str, Any]]:
    limits = StageLimits.from_json(limits_json, default_limits())
    return metrics.stuck(
        get_database(url),
        as_of=_as_of(key),
        filters=_filters(key),
        limits=dict(limits.months),
        sector_limits={s: dict(v) for s, v in limits.sector_months.items()},
        limit=limit,
    )


#: A board column as loaded: the stage, how many companies are in it, and the ones shown
#: (at most `BOARD_CAP`, longest in stage first, as a `companies_frame`).
LoadedColumn = tuple[str, int, pd.DataFrame]


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def board(
    url: str, site: str | None, sector: str | None, cohort: int | None, search: str = ""
) -> list[LoadedColumn]:
    """The pipeline board, one column per ladder stage (SQL: counts and the first companies)."""
    columns = services.board(
        get_database(url),
        site=site,
        sector=sector,
        cohort=cohort,
        search=search.strip(),
        per_stage=BOARD_CAP,
    )
    return [(c.stage.value, c.total, companies_frame(c.companies)) for c in columns]


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def gates(url: str, keys: tuple[str, ...], day: str) -> dict[str, services.GateView]:
    """Would each company's next advance pass its gate on `day` (an ISO date, UTC)? The
    board's gate badges and its move form: every company in one batch (`gate_checks`, two
    reads whatever their number). Keyed on the companies and the day; a write (a move, a
    fact, a new policy) clears it. Companies that cannot advance (industrial park, exited)
    are left out. The views are frozen value objects (the criteria and the company's own
    figures), rendered in the reader's language by `ui.gates`."""
    if not keys:
        return {}
    at = start_of_day(date.fromisoformat(day))
    return services.gate_checks(get_database(url), list(keys), at=at)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=8)
def policy(url: str) -> services.PolicyView:
    """The gate policy in force (a frozen value object); a new policy clears it."""
    return services.policy_show(get_database(url))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def search(url: str, query: str, limit: int = 50) -> tuple[pd.DataFrame, int]:
    """The first `limit` companies whose key or name contains `query` (by key), and how many
    match in all; a blank query matches every company."""
    found, total = services.search_companies(get_database(url), query.strip(), limit=limit)
    return companies_frame(found), total


def company_name(url: str, key: str) -> str | None:
    """The name of the company `key`, or None when there is none (not cached: one row)."""
    try:
        view = services.show(get_database(url), key)
    except DomainError:
        return None
    return view.name if view.key == key else None


def company_key_name(url: str, key: str) -> tuple[str, str] | None:
    """The key as stored and the name of the company `key` names in any case (`jm-0042`),
    or None when it names none or several (not cached: one row)."""
    try:
        view = services.show(get_database(url), key)
    except DomainError:
        return None
    return view.key, view.name


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=8)
def filter_options(url: str) -> dict[str, list[Any]]:
    return services.filter_options(get_database(url))


def default_limits() -> StageLimits:
    return StageLimits(
        dict(metrics.DEFAULT_LIMITS_MONTHS),
        {s: dict(v) for s, v in metrics.SECTOR_LIMITS_MONTHS.items()},
    )


def stage_limits(url: str) -> StageLimits:
    """The stuck-list limits stored by an admin, or the defaults (not cached: one row)."""
    return StageLimits.from_json(
        services.get_setting(get_database(url), LIMITS_SETTING), default_limits()
    )


#: The most audit events one view shows (the newest ones).
AUDIT_LIMIT = 5_000


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def audit_rows(
    url: str,
    *,
    company: str | None = None,
    actor: str | None = None,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    overrides_only: bool = False,
) -> list[dict[str, Any]]:
    """The newest events matching the filters (`company`: part of a key or name, any case;
    dates as ISO days, inclusive; `overrides_only`: the moves whose gate was overridden)."""
    return services.audit_log(
        get_database(url),
        company=company,
        actor=actor,
        kind=kind,
        since=start_of_day(date.fromisoformat(since)) if since else None,
        until=end_of_day(date.fromisoformat(until)) if until else None,
        overrides_only=overrides_only,
        limit=AUDIT_LIMIT,
    )


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def record_rows(
    url: str,
    *,
    company: str | None = None,
    actor: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """The newest company records (profile changes and facts) matching the filters, as
    `audit_rows` (`kind`: a record kind, e.g. `qualification`)."""
    return services.record_log(
        get_database(url), company=company, actor=actor, kind=kind, limit=AUDIT_LIMIT
    )


# --- reports (reports-page) ----------------------------------------------------------------

#: How many years the KPI trend shows (the year picked and the ones before it).
KPI_TREND_YEARS = 5


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=8)
def report_sites(url: str) -> list[str]:
    """The registry's site names (the reports page's site picker)."""
    return services.site_names(get_database(url))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def torch_report(url: str, year: int, site: str | None) -> services.TorchReport:
    """The Torch statistics of `year` for every registry site, or for `site` (a frozen
    value object: its `to_json()` is the CLI's JSON, `write_torch_workbook` its workbook)."""
    return services.torch_report(get_database(url), year, site=site)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def kpi(url: str, year: int) -> dict[str, Any]:
    """The city's KPIs of `year` against their targets (`{"year", "rows"}`)."""
    return services.kpi(get_database(url), year)


def kpi_trend(url: str, year: int, years: int = KPI_TREND_YEARS) -> list[dict[str, Any]]:
    """The KPIs of `year` and the `years - 1` before it (none before 1990), oldest first;
    each year cached on its own by `kpi`."""
    first = max(EARLIEST_REPORT_YEAR, year - years + 1)
    return [kpi(url, y) for y in range(first, year + 1)]
