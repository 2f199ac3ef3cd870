"""Server-side timings of the web app on a large database (through Streamlit's AppTest).

    .venv/bin/python ui/bench_ui.py                    # 100,000 companies (built once, reused)
    .venv/bin/python ui/bench_ui.py --companies 20000 --rebuild
    .venv/bin/python ui/bench_ui.py --db sqlite:///big.db --json      # an existing database
    .venv/bin/python ui/bench_ui.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test --json

Without `--db` it builds a SQLite database of `--companies` generated companies with
`fixtures/generate_demo.py` and `services.import_events`. With `--db URL` (a SQLAlchemy URL,
or a SQLite file's path) it uses the database there as it is, adding only its administrator
(`bench.admin`) when missing. It signs in as that administrator and times each page's render
and a filter change, as the server runs the app (no usage statistics gathered: `incubator ui`
turns them off). AppTest starts every step with empty `st.cache_data` caches (as after a
write), so each figure is a cold render: the worst a visitor waits; "warm" steps show the
cached re-render.

Budgets (issue 12, medians of three): funnel first render < 1.5 s, filter change (site)
< 1 s, audit log < 1.5 s, board < 1 s; no chart with more than 5,000 rows, a board that
renders at most 50 companies per column. `--json` times only those four steps and prints ONE
JSON line, their medians in seconds: `funnel_first_render_s`, `funnel_filter_change_s`,
`audit_log_s`, `board_s` (the human-readable table goes to stderr).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
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
#: Seconds, medians of three (issue 12's goals at 1,000,000 companies).
BUDGETS = {
    "funnel: first render": 1.5,
    "funnel: filter change (site)": 1.0,
    "audit: first render": 1.5,
    "board: first render": 1.0,
}
#: The `--json` keys of the budgeted steps.
JSON_KEYS = {
    "funnel: first render": "funnel_first_render_s",
    "funnel: filter change (site)": "funnel_filter_change_s",
    "audit: first render": "audit_log_s",
    "board: first render": "board_s",
}


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


def ensure_admin(db: Database) -> None:
    """The bench's administrator, added to an existing database when missing (nothing else
    is written)."""
    if all(user.name != ADMIN for user in services.list_users(db)):
        services.add_user(db, ADMIN, role="admin", password=PASSWORD, actor=cli_owner("bench"))


def database_url(db: str) -> str:
    """A SQLAlchemy URL as given, or a SQLite file's path as its URL."""
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


def largest_site(db: Database) -> str | None:
    """The site with the most companies (the filter change's site)."""
    sites = services.filter_options(db)["sites"]
    sizes = {s: sum(c.total for c in services.board(db, site=s, per_stage=0)) for s in sites}
    return max(sizes, key=lambda s: sizes[s]) if sizes else None


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
    parser.add_argument(
        "--db",
        help="an existing database: SQLAlchemy URL or SQLite file (default: a SQLite file "
        "built once per size in the temp directory)",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per step (default 3)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="time the four budgeted steps only; print one JSON line of their medians",
    )
    args = parser.parse_args(argv)
    out = sys.stderr if args.json else sys.stdout

    if args.db:
        url = database_url(args.db)
    else:
        path = Path(Path(tempfile.gettempdir()) / f"incubator-bench-ui-{args.companies}.db")
        url = f"sqlite:///{path}"
        if args.rebuild and path.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        if not path.exists():
            build(url, args.companies)
    os.environ["INCUBATOR_DATABASE_URL"] = url

    from streamlit import config
    from streamlit.testing.v1 import AppTest

    config.set_option("browser.gatherUsageStats", False)  # as `incubator ui` serves the app
    results: dict[str, list[float]] = {}
    rows_seen: dict[str, int] = {}
    cards = 0
    db = Database(url)
    ensure_admin(db)
    site = largest_site(db)
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        # A real session, as the sign-in form makes it (AppTest cannot send the cookie).
        signed = timed("sign-in (argon2)", partial(services.sign_in, db, ADMIN, PASSWORD), results)
        at = AppTest.from_file(str(APP), default_timeout=300)
        at.session_state[SESSION_TOKEN_KEY] = signed.token
        timed("session check + funnel", partial(rerun, at), results)
        timed("funnel: first render", partial(rerun, at), results)
        timed("funnel: re-render (warm)", partial(rerun, at), results, cold=False)
        rows_seen["funnel"] = chart_rows(at)
        at.selectbox(key="site").set_value(site)
        timed("funnel: filter change (site)", partial(rerun, at), results)
        at.selectbox(key="site").set_value(None)
        check(at.run())
        if not args.json:
            at.segmented_control(key="throughput_by").set_value("quarter")
            timed("funnel: period → quarter", partial(rerun, at), results)
        pages = ("audit", "board") if args.json else ("dwell", "board", "company", "audit")
        for page in pages:
            at.switch_page(f"app_pages/{page}.py")
            timed(f"{page}: first render", partial(rerun, at), results)
            rows_seen[page] = chart_rows(at)
        if args.json:
            continue
        at.switch_page("app_pages/board.py")
        check(at.run())
        cards = sum(m.value.count("**") // 2 for m in at.markdown if "·" in m.value)
        at.text_input(key="board_search").input("JM-00001")
        timed("board: search (warm)", partial(rerun, at), results, cold=False)
        at.switch_page("app_pages/funnel.py")
        at.selectbox(key="sector").set_value("biomedicine")
        timed("funnel: filter change (sector)", partial(rerun, at), results)
    load_after = os.getloadavg()

    if args.json:
        db.dispose()
        report(results, out, url, args.repeat, load_before, load_after)
        print(
            json.dumps(
                {
                    key: round(statistics.median(results[label]), 4)
                    for label, key in JSON_KEYS.items()
                }  # fmt: skip
            )
        )
        return 0

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

    failed = report(results, out, url, args.repeat, load_before, load_after)
    print(
        "\nlargest chart data per page (rows):", ", ".join(f"{k} {v}" for k, v in rows_seen.items())
    )
    print(f"board companies rendered (all five columns): {cards}")
    print("direct calls:", ", ".join(f"{k} {v:.2f} s" for k, v in direct.items()))
    too_big = max(rows_seen.values(), default=0) > 5_000
    return 1 if failed or too_big else 0


def report(
    results: dict[str, list[float]],
    out: Any,
    url: str,
    repeat: int,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> bool:
    """Print each step's median and worst, with the budgets; True when one is over."""
    where = url.split("@")[-1] if "@" in url else url
    print(f"\n{where}: {repeat} runs each (median, worst)", file=out)
    print(
        "load average (1, 5, 15 min) before "
        + " ".join(f"{x:.2f}" for x in load_before)
        + ", after "
        + " ".join(f"{x:.2f}" for x in load_after),
        file=out,
    )
    failed = False
    for label, values in results.items():
        budget = BUDGETS.get(label)
        verdict = ""
        median = statistics.median(values)
        if budget is not None:
            ok = median < budget
            failed |= not ok
            verdict = f"  budget {budget:g} s: {'ok' if ok else 'OVER'}"
        print(f"  {label:<34} {median:6.2f} s {max(values):6.2f} s{verdict}", file=out)
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
