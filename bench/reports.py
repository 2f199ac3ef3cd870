"""How long the annual reports take on a large database (DESIGN §9, issue 9's speed goals).

    .venv/bin/python bench/reports.py                      # 100,000 companies
    .venv/bin/python bench/reports.py --companies 10000    # a quick look

Generates N companies (`fixtures/generate_demo.py`) and imports them into a SQLite file with
the demo's sites (kinds, levels, figures) and targets, then the generated facts of every
company that is in the incubator or the accelerator stage now. Then it runs, each as a whole
process (`incubator ...`, Python start-up included), three times, and reports the median:

- `incubator report torch --year Y --json` (goal: under 2 s);
- `incubator report torch --year Y --out FILE.xlsx --force` (goal: under 10 s);
- `incubator kpi --year Y --json` (goal: under 1 s);
- the web app's Reports page, first render with empty caches, server-side through
  Streamlit's AppTest as an administrator (goal: under 2 s).

The load average is printed before and after: on a shared machine the times depend on it.
The last line printed is one JSON document with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.generate_demo import generate_facts, generate_rows, write_csv, write_facts_csv  # noqa: E402
from incubator import services  # noqa: E402
from incubator.access import cli_owner  # noqa: E402
from incubator.cli import seed_demo_registry  # noqa: E402
from incubator.store import Database  # noqa: E402

SEED = 20261127
INCUBATOR = str(Path(sys.executable).parent / "incubator")
GOALS = {"torch_json": 2.0, "torch_xlsx": 10.0, "kpi_json": 1.0, "reports_page": 2.0}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (on {os.cpu_count()} CPUs)"


def timed(args: list[str], runs: int) -> dict[str, object]:
    """Run `incubator ARGS` `runs` times as a whole process; the median and every time."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([INCUBATOR, *args], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times]}


def page_render(url: str, year: int, runs: int) -> dict[str, object]:
    """The Reports page's first render for `year`, caches emptied before each (as after a
    write), signed in as an administrator; the median and every time."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from ui.app_context import SESSION_TOKEN_KEY

    os.environ["INCUBATOR_DATABASE_URL"] = url
    db = Database(url)
    name, password = "bench.admin", "bench-password-1"
    services.add_user(db, name, role="admin", password=password, actor=cli_owner("bench"))
    times = []
    for _ in range(runs):
        at = AppTest.from_file(str(ROOT / "ui" / "streamlit_app.py"), default_timeout=120)
        at.session_state[SESSION_TOKEN_KEY] = services.sign_in(db, name, password).token
        at.query_params["report_year"] = str(year)
        at.run()  # the first page (the funnel), signed in
        at.switch_page("app_pages/reports.py")
        st.cache_data.clear()
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise SystemExit(f"the reports page raised: {[e.message for e in at.exception]}")
    db.dispose()
    return {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"load average before: {load()}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        rows = list(generate_rows(n_companies=args.companies, seed=SEED))
        events = write_csv(work / "log.csv", rows)
        stage: dict[str, str] = {}
        for row in rows:  # rows are grouped by company, in time order
            stage[row["company_key"]] = row["to_stage"] or "exited"
        kept = {k for k, s in stage.items() if s in ("incubator", "accelerator")}
        facts = write_facts_csv(
            work / "facts.csv",
            (f for f in generate_facts(rows, seed=SEED) if f["company_key"] in kept),
        )
        del rows
        url = f"sqlite:///{work / 'bench.db'}"
        db = Database(url, check_schema=False)
        db.upgrade()
        owner = cli_owner("bench")
        start = time.perf_counter()
        seed_demo_registry(db)
        services.import_events(db, work / "log.csv", actor=owner)
        services.import_facts(db, work / "facts.csv", actor=owner)
        loaded = time.perf_counter() - start
        db.dispose()
        print(
            f"{args.companies:,} companies, {events:,} events, {facts:,} facts of "
            f"{len(kept):,} companies in the incubator or accelerator (loaded in {loaded:.1f} s)"
        )
        year = ["--year", str(args.year), "--db", url]
        figures: dict[str, object] = {
            "companies": args.companies, "events": events, "facts": facts,
            "facts_companies": len(kept), "year": args.year,
        }  # fmt: skip
        figures["torch_json"] = timed(["report", "torch", *year, "--json"], args.runs)
        out = work / "torch.xlsx"
        figures["torch_xlsx"] = timed(
            ["report", "torch", *year, "--out", str(out), "--force"], args.runs
        )
        figures["xlsx_mb"] = round(out.stat().st_size / 1e6, 2)
        figures["kpi_json"] = timed(["kpi", *year, "--json"], args.runs)
        figures["reports_page"] = page_render(url, args.year, args.runs)
        for name, goal in GOALS.items():
            result = figures[name]
            assert isinstance(result, dict)
            verdict = "ok" if result["median_s"] < goal else "SLOWER THAN THE GOAL"
            print(f"  {name:<11} median {result['median_s']:>6.2f} s of {result['runs_s']} "
                  f"(goal < {goal:g} s: {verdict})")  # fmt: skip
    figures["load_average_after"] = load()
    print(f"load average after: {figures['load_average_after']}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
