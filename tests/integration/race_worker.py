"""A separate process for the concurrency tests: advances companies and prints outcomes.

    python -m tests.integration.race_worker URL START_AT MODE KEY [KEY ...]

MODE `ladder`: try to advance every KEY until it reaches the top, in a shuffled order.
MODE `from-seed`: advance each KEY once, saying it was seen in seed (`--from seed`).
Prints one line per attempt: `ok KEY`, `conflict KEY` or `refused KEY`; any other error
(e.g. "database is locked") is printed as `error ...` and makes the exit code 1.
"""

from __future__ import annotations

import os
import random
import sys
import time

from incubator import services
from incubator.access import Actor, Role
from incubator.stages import Conflict, InvalidTransition
from incubator.store import Database


def main() -> int:
    url, start_at, mode, *keys = sys.argv[1:]
    db = Database(url)
    actor = Actor(f"worker-{os.getpid()}", Role.MANAGER, None)
    rng = random.Random(os.getpid())
    while time.time() < float(start_at):  # start together
        time.sleep(0.001)
    failed = False
    attempts = [k for k in keys for _ in range(5)] if mode == "ladder" else list(keys)
    rng.shuffle(attempts)
    for key in attempts:
        try:
            seen = "seed" if mode == "from-seed" else None
            services.advance(db, key, actor=actor, seen=seen)
            print(f"ok {key}", flush=True)
        except Conflict:
            print(f"conflict {key}", flush=True)
        except InvalidTransition:
            print(f"refused {key}", flush=True)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            print(f"error {type(exc).__name__}: {exc}", flush=True)
            failed = True
    db.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
