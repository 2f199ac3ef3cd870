"""A separate process for the import-lock test: an interactive writer that keeps working.

    python -m tests.integration.steady_writer URL STOP_FILE PREFIX

Admits companies PREFIX-0001, PREFIX-0002, ... and advances them, one action every few
milliseconds, through the services (a company that reaches the top is replaced by a new
one), until STOP_FILE exists. Prints one line per action: `ok admit KEY START END` or
`ok advance KEY START END` (wall-clock times around the call); any error (e.g. "database is
locked") is printed as `error ...` and makes the exit code 1.
"""

from __future__ import annotations

import os
import sys
import time

from incubator import services
from incubator.access import Actor, Role
from incubator.store import Database

COMPANIES = 8  # worked on in turn


def main() -> int:
    url, stop_file, prefix = sys.argv[1:]
    db = Database(url)
    actor = Actor(f"writer-{os.getpid()}", Role.MANAGER, "钟祥")
    made = 0
    failed = False

    def admit() -> str:
        nonlocal made
        made += 1
        key = f"{prefix}-{made:04d}"
        start = time.time()
        services.admit(db, key, name=f"Live {made}", stage="seed", actor=actor, site="钟祥")
        print(f"ok admit {key} {start:.6f} {time.time():.6f}", flush=True)
        return key

    try:
        keys = [admit() for _ in range(COMPANIES)]
        turn = 0
        while not os.path.exists(stop_file):
            slot = turn % COMPANIES
            turn += 1
            start = time.time()
            view = services.advance(db, keys[slot], actor=actor)
            print(f"ok advance {keys[slot]} {start:.6f} {time.time():.6f}", flush=True)
            if view.to_stage == "industrial_park":
                keys[slot] = admit()
            time.sleep(0.01)
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        print(f"error {type(exc).__name__}: {exc}", flush=True)
        failed = True
    db.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
