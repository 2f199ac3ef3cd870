"""How long `incubator export` takes per format, and how much memory its process needs.

    .venv/bin/python bench/export_formats.py                      # 450,000 companies ≈ 1M events
    .venv/bin/python bench/export_formats.py --companies 20000    # a quick look

Generates N companies (`fixtures/generate_demo.py`), imports them into a SQLite file, then
runs `incubator export FILE --format F` as a whole process for csv, xes and ocel (and xlsx
with --xlsx), once each, reporting wall time, the file's size and the process's peak RSS.
The writers stream, so the peak memory should not grow with the log. The last line printed
is one JSON document with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from child import measure  # noqa: E402  (bench/child.py)

from fixtures.generate_demo import generate_rows, write_csv  # noqa: E402
from incubator import services  # noqa: E402
from incubator.access import cli_owner  # noqa: E402
from incubator.cli import seed_demo_registry  # noqa: E402
from incubator.store import Database  # noqa: E402

SEED = 20261126
INCUBATOR = str(Path(sys.executable).parent / "incubator")
SUFFIX = {"csv": "csv", "xlsx": "xlsx", "xes": "xes", "ocel": "json"}


def export(url: str, fmt: str, target: Path) -> dict[str, float]:
    """Run one export as its own process: seconds, peak RSS (MB) and file size (MB)."""
    run = measure([INCUBATOR, "export", target, "--format", fmt, "--force", "--db", url])
    return {
        "seconds": round(run.wall_s, 2),
        "peak_rss_mb": round(run.peak_mb, 1),
        "file_mb": round(target.stat().st_size / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=450_000)
    parser.add_argument("--xlsx", action="store_true", help="also time the xlsx export")
    args = parser.parse_args(argv)
    formats = ["csv", "xes", "ocel", *(["xlsx"] if args.xlsx else [])]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        events = write_csv(work / "log.csv", generate_rows(n_companies=args.companies, seed=SEED))
        url = f"sqlite:///{work / 'bench.db'}"
        db = Database(url, check_schema=False)
        db.upgrade()
        seed_demo_registry(db)  # the generated companies' sites (an unknown one is refused)
        start = time.perf_counter()
        services.import_events(db, work / "log.csv", actor=cli_owner("bench"))
        imported = time.perf_counter() - start
        db.dispose()
        (work / "log.csv").unlink()
        print(f"{args.companies:,} companies, {events:,} events (import {imported:.1f} s)")
        figures: dict[str, object] = {"companies": args.companies, "events": events}
        for fmt in formats:
            figures[fmt] = result = export(url, fmt, work / f"out.{SUFFIX[fmt]}")
            print(f"  {fmt:<5} {result['seconds']:>7.1f} s  {result['peak_rss_mb']:>7.1f} MB RSS"
                  f"  {result['file_mb']:>8.1f} MB file")  # fmt: skip
            (work / f"out.{SUFFIX[fmt]}").unlink()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
