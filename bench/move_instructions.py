"""Instructions a committed SQLite advance costs, counted by valgrind's callgrind: a figure
that does not move with the machine's load, where wall times on a shared 2-core machine vary
by ±20% from one run to the next. For comparing two versions of the move's code.

    .venv/bin/python bench/move_instructions.py                     # 100,000 companies
    .venv/bin/python bench/move_instructions.py --companies 20000 --moves 200 700

Sides, on copies of one database of generated companies (`bench/advances.py`'s, kept in its
cache):
  tracker: `services.advance` (gated stages overridden: every gate is evaluated and recorded);
  raw:     `bench/raw.py`'s `advance_many`, `bench/run.py`'s baseline (the same reads, rows
           and hash, on stdlib sqlite3).
For each side, one process under `valgrind --tool=callgrind` makes the first M1 advances of a
seeded list of companies, and another, on a fresh copy, the first M2; (I(M2) - I(M1)) /
(M2 - M1) is the count per advance, with start-up, imports and warm-up cancelled out. SQLite's
own work (its B-trees, its WAL and checkpoints) is counted too, the time spent waiting for the
disk is not. Needs valgrind (Debian's package); takes a few minutes (valgrind runs Python some
50 times slower).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

import advances  # noqa: E402


def child(side: str, path: str, picks_file: str, moves: int) -> None:
    """Make the first `moves` advances of the list (after one more, as warm-up)."""
    picks = [tuple(p) for p in json.loads(Path(picks_file).read_text())][: moves + 1]
    if side == "tracker":
        step = advances.project_worker(f"sqlite:///{path}")
    else:
        import raw as rawdb
        import run

        from incubator.values import now_utc

        conn, gates = rawdb.Raw("sqlite", path), run.gate_texts(now_utc().date())

        def step(key: str, _stage: str) -> None:
            rawdb.advance_many(conn, [key], run.ACTOR_NAME, "bench", gates)

    for key, stage in picks:
        step(key, stage)


def instructions(side: str, template: Path, picks_file: Path, moves: int, work: Path) -> int:
    target = work / f"{side}-{moves}.db"
    shutil.copyfile(template, target)
    done = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, __file__, "--child", side, str(target), str(picks_file), str(moves),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--moves", type=int, nargs=2, default=[200, 700], metavar=("M1", "M2"))
    parser.add_argument("--sides", nargs="+", default=["tracker", "raw"])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "inc-bench")
    parser.add_argument("--child", nargs=4, metavar=("SIDE", "DB", "PICKS", "MOVES"))
    args = parser.parse_args()
    if args.child:
        side, path, picks_file, moves = args.child
        child(side, path, picks_file, int(moves))
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    m1, m2 = sorted(args.moves)
    with tempfile.TemporaryDirectory(prefix="incubator-instr-") as tmp:
        work = Path(tmp)
        with advances.bench_database("sqlite", args.companies, args.cache, work) as url:
            template = work / "template.db"
            shutil.copyfile(url.removeprefix("sqlite:///"), template)
            picks_file = work / "picks.json"
            picks_file.write_text(json.dumps(advances.advanceable(url)[: m2 + 1]))
        for side in args.sides:
            low = instructions(side, template, picks_file, m1, work)
            high = instructions(side, template, picks_file, m2, work)
            per_move = (high - low) / (m2 - m1)
            print(f"{side:8s} {per_move / 1000:8,.0f} k instructions an advance "
                  f"({args.companies:,} companies; advances {m1} and {m2})", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
