"""Where a PostgreSQL move's time goes: wall time, the client's CPU and the server's CPU per
advance, for the tracker and two baselines on one database, interleaved in rounds.

    .venv/bin/python bench/move_cpu.py                        # 40,000 companies, 5 rounds
    .venv/bin/python bench/move_cpu.py --per-round 400 --rounds 5 --companies 40000

  tracker: `services.advance` (one process, one connection from its pool);
  driver:  the tracker's own two round trips (`store._PgMoves`: the company, its evidence
           and the settings with BEGIN; the event, spells and company row with COMMIT) sent
           through psycopg with none of the tracker's Python around them (the event's hash
           and gate text are stand-ins): the floor of the tracker's design;
  raw:     `bench/raw.py`'s one-statement advance (`bench/run.py`'s baseline).

The client's CPU is this process's (`time.process_time`), the server's that of each
connection's backend (`/proc/PID/stat`: Linux, and the server on this machine). A move on
PostgreSQL costs its round trips' waits whatever they carry; what the tracker adds to them
is its CPU, on both sides. Medians of the rounds are printed with the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

import advances  # noqa: E402
import raw as rawdb  # noqa: E402

from incubator import services  # noqa: E402
from incubator import store as S  # noqa: E402
from incubator.store import Database  # noqa: E402
from incubator.values import to_micros, year_month  # noqa: E402


def backend_cpu(pid: int) -> float:
    """Seconds of CPU the server process `pid` has used (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def driver_mover(conn: object) -> Callable[[str, str], None]:
    """The tracker's two round trips (its own `store._PgMoves`) on a plain psycopg
    connection, with none of the tracker's Python around them."""
    moves = S._PgMoves(conn)
    name, names = S._PG_RECORD_EVENT[True, True]
    columns = [c.name for c in S.COMPANY.c]

    def move(key: str, _stage: str) -> None:
        _settings, rows, _facts = moves.run(
            [("incubator_settings", ()), ("incubator_company", (key,)),
             ("incubator_evidence", (key,))]
        )  # fmt: skip
        row = dict(zip(columns, rows[0], strict=True))
        now = datetime.now(UTC)
        seq, dest = row["event_count"] + 1, advances.NEXT[row["stage"]]
        digest = hashlib.sha256(f"{row['head_hash']}{key}{seq}{now}".encode()).hexdigest()
        us, ym = to_micros(now), year_month(now)
        values = {
            "company_id": row["id"], "seq": seq, "kind": "advance", "from_stage": row["stage"],
            "to_stage": dest, "effective_at": now, "recorded_at": now, "actor": "bench",
            "note": "bench", "reason": None, "prev_hash": row["head_hash"], "hash": digest,
            "gate": advances.gate_text(dest, now), "end_us": us, "end_ym": ym,
            "end_kind": "advance", "exit_reason": None, "start_stage": dest, "start_us": us,
            "start_ym": ym, "site": row["site"], "sector": row["sector"],
            "cohort": row["cohort"], "c_stage": dest, "c_entered_stage_at": now,
            "c_last_event_at": now, "c_event_count": seq, "c_head_hash": digest,
        }  # fmt: skip
        moves.run([(name, tuple(values[n] for n in names))], commit=True)

    return move


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--companies", type=int, default=40_000)
    parser.add_argument("--per-round", type=int, default=400, help="advances per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import psycopg

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with advances.bench_database("postgresql", args.companies, work, work) as url:
            picks = advances.advanceable(url)
            needed = 3 * args.per_round * args.rounds + 1
            if needed > len(picks):
                raise SystemExit(f"{needed} companies needed, {len(picks)} can advance")
            schema = url.rsplit("%3D", 1)[1]
            dsn = url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
            options = f"-csearch_path={schema}"
            plain = psycopg.connect(dsn, options=options, autocommit=True)
            raw = psycopg.connect(dsn, options=options, autocommit=True)
            db = Database(url)
            key, stage = picks.pop()
            services.advance(db, key, actor=advances.ACTOR, seen=stage, override=advances.OVERRIDE)
            with db.engine.connect() as conn:  # the pool's connection, used by every move
                tracker_pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())

            def tracker(key: str, stage: str) -> None:
                services.advance(
                    db, key, actor=advances.ACTOR, seen=stage, note="bench",
                    override=advances.OVERRIDE,
                )  # fmt: skip

            def raw_move(key: str, _stage: str) -> None:
                raw.execute(rawdb._PG_ADVANCE, {"key": key, "actor": "bench", "note": "bench"})

            sides: dict[str, tuple[Callable[[str, str], None], int]] = {
                "tracker": (tracker, tracker_pid),
                "driver": (driver_mover(plain), plain.info.backend_pid),
                "raw": (raw_move, raw.info.backend_pid),
            }
            runs: dict[str, list[tuple[float, float, float]]] = {s: [] for s in sides}
            loads = []
            for _ in range(args.rounds):
                for side, (move, pid) in sides.items():
                    batch, picks = picks[: args.per_round], picks[args.per_round :]
                    server, client, wall = (
                        backend_cpu(pid),
                        time.process_time(),
                        time.perf_counter(),
                    )
                    for key, stage in batch:
                        move(key, stage)
                    n = len(batch) / 1e6
                    runs[side].append((
                        (time.perf_counter() - wall) / n,
                        (time.process_time() - client) / n,
                        (backend_cpu(pid) - server) / n,
                    ))  # fmt: skip
                loads.append(os.getloadavg()[0])
            db.dispose()
            plain.close()
            raw.close()
    print(
        f"PostgreSQL, {args.companies:,} companies, {args.per_round} advances a round,"
        f" medians of {args.rounds} rounds; load {min(loads):.2f}-{max(loads):.2f}"
    )
    print(f"  {'':8} {'wall µs':>8} {'client CPU':>11} {'server CPU':>11} {'per s':>7}")
    for side, values in runs.items():
        wall, client, server = (statistics.median(v[i] for v in values) for i in range(3))
        print(f"  {side:8} {wall:8.0f} {client:11.0f} {server:11.0f} {1e6 / wall:7.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
