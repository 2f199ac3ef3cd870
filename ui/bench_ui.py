"""Server-side timings of the web app on a large SQLite database (through Streamlit's AppTest).

    .venv/bin/python ui/bench_ui.py                    # 100,000 companies (built once, reused)
    .venv/bin/python ui/bench_ui.py --companies 20000 --rebuild

Builds the database with `fixtures/generate_demo.py` and `services.import_events`, signs in
as an administrator and times each page's render and a filter change. AppTest starts every
step with empty `st.cache_data` caches (as after a write), so each figure is a cold render:
the worst a visitor waits; "warm" steps show the cached re-render. Budgets: funnel first render < 2 s, filter change
< 1 s, no chart with more than 5,000 rows, a board that renders at most 50 companies per
column.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from incubator import metrics, services  # noqa: E402
from incubator.access import cli_owner  # noqa: E402
from incubator.cli import seed_demo_registry  # noqa: E402
from incubator.store import Database  # noqa: E402
from ui.app_context import SESSION_TOKEN_KEY  # noqa: E402

APP = ROOT / "ui" / "streamlit_app.py"
ADMIN, PASSWORD = "bench.admin", "bench-password-1"
BUDGETS = {"funnel: first render": 2.0, "funnel: filter change (site)": 1.0}


def build(url: str, companies: int) -> None:
    from fixtures import generate_demo as generator  # the repository's demo-data generator

    db = Database(url, check_schema=False)
    db.upgrade()
    seed_demo_registry(db)  # the generated companies' sites (an unknown one is refused)
    started = time.perf_counter()
    out = io.StringIO()
    rows = list(generator.generate_rows(n_companies=companies))
    writer = csv.DictWriter(out, fieldnames=generator.COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    result = services.import_events(db, out.getvalue().encode(), actor=cli_owner("bench"))
    services.add_user(db, ADMIN, role="admin", password=PASSWORD, actor=cli_owner("bench"))
    print(
        f"built {url}: {result.companies_new:,} companies, {result.events:,} events "
        f"in {time.perf_counter() - started:.1f} s"
    )
    db.dispose()


def timed(
    label: str, action: Callable[[], Any], results: dict[str, list[float]], *, cold: bool = True
) -> Any:
    """Time `action`; `cold` empties Streamlit's data caches first (as a write does)."""
    if cold:
        st.cache_data.clear()
    started = time.perf_counter()
    value = action()
    results.setdefault(label, []).append(time.perf_counter() - started)
    return value


def rerun(at: Any) -> Any:
    return check(at.run())


def check(at: Any) -> Any:
    if at.exception:
        raise SystemExit(f"the app raised: {[e.message for e in at.exception]}")
    return at


def chart_rows(at: Any) -> int:
    """The most rows any Vega-Lite chart on the page was sent (inline or as Arrow data)."""
    import json

    import pyarrow as pa

    most = 0
    for element in at.get("vega_lite_chart"):
        proto = element.proto
        for dataset in json.loads(proto.spec).get("datasets", {}).values():
            most = max(most, len(dataset))
        arrows = [d.data.data for d in proto.datasets]
        if proto.HasField("data"):
            arrows.append(proto.data.data)
        for raw in arrows:
            if raw:
                most = max(most, pa.ipc.open_stream(raw).read_all().num_rows)
    return most


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--db", help="SQLite file (default: one per size in the temp directory)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per step (default 3)")
    args = parser.parse_args(argv)

    path = Path(args.db or Path(tempfile.gettempdir()) / f"incubator-bench-ui-{args.companies}.db")
    url = f"sqlite:///{path}"
    if args.rebuild and path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    if not path.exists():
        build(url, args.companies)
    os.environ["INCUBATOR_DATABASE_URL"] = url

    from streamlit.testing.v1 import AppTest

    results: dict[str, list[float]] = {}
    rows_seen: dict[str, int] = {}
    db = Database(url)
    sites = services.filter_options(db)["sites"]
    site = max(sites, key=lambda s: len(services.list_companies(db, site=s))) if sites else None
    for _ in range(args.repeat):
        # A real session, as the sign-in form makes it (AppTest cannot send the cookie).
        signed = timed("sign-in (argon2)", partial(services.sign_in, db, ADMIN, PASSWORD), results)
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.session_state[SESSION_TOKEN_KEY] = signed.token
        timed("session check + funnel", partial(rerun, at), results)
        timed("funnel: first render", partial(rerun, at), results)
        timed("funnel: re-render (warm)", partial(rerun, at), results, cold=False)
        rows_seen["funnel"] = chart_rows(at)
        at.selectbox(key="site").set_value(site)
        timed("funnel: filter change (site)", partial(rerun, at), results)
        at.selectbox(key="site").set_value(None)
        check(at.run())
        at.segmented_control(key="throughput_by").set_value("quarter")
        timed("funnel: period → quarter", partial(rerun, at), results)
        for page in ("dwell", "board", "company", "audit"):
            at.switch_page(f"app_pages/{page}.py")
            timed(f"{page}: first render", partial(rerun, at), results)
            rows_seen[page] = chart_rows(at)
        at.switch_page("app_pages/board.py")
        check(at.run())
        cards = sum(m.value.count("**") // 2 for m in at.markdown if "·" in m.value)
        at.text_input(key="board_search").input("JM-00001")
        timed("board: search (warm)", partial(rerun, at), results, cold=False)
        at.switch_page("app_pages/funnel.py")
        at.selectbox(key="sector").set_value("biomedicine")
        timed("funnel: filter change (sector)", partial(rerun, at), results)

    t = time.perf_counter()
    metrics.funnel(db)
    direct = {"metrics.funnel": time.perf_counter() - t}
    t = time.perf_counter()
    metrics.throughput(db, by="month")
    direct["metrics.throughput(month)"] = time.perf_counter() - t
    t = time.perf_counter()
    metrics.dwell_quantiles(db)
    direct["metrics.dwell_quantiles"] = time.perf_counter() - t
    t = time.perf_counter()
    services.list_companies(db)
    direct["services.list_companies (all)"] = time.perf_counter() - t
    t = time.perf_counter()
    services.board(db)
    direct["services.board"] = time.perf_counter() - t
    t = time.perf_counter()
    services.search_companies(db, "")
    direct["services.search_companies (blank)"] = time.perf_counter() - t
    db.dispose()

    print(f"\n{args.companies:,} companies, {args.repeat} runs each (median, worst)")
    failed = False
    for label, values in results.items():
        budget = BUDGETS.get(label)
        verdict = ""
        if budget is not None:
            ok = max(values) < budget
            failed |= not ok
            verdict = f"  budget {budget:.0f} s: {'ok' if ok else 'OVER'}"
        print(f"  {label:<34} {statistics.median(values):6.2f} s {max(values):6.2f} s{verdict}")
    print(
        "\nlargest chart data per page (rows):", ", ".join(f"{k} {v}" for k, v in rows_seen.items())
    )
    print(f"board companies rendered (all five columns): {cards}")
    print("direct calls:", ", ".join(f"{k} {v:.2f} s" for k, v in direct.items()))
    too_big = max(rows_seen.values(), default=0) > 5_000
    return 1 if failed or too_big else 0


if __name__ == "__main__":
    raise SystemExit(main())
