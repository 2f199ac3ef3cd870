"""One command run as a child process and measured: wall time, CPU time and peak memory.

    from child import measure            # bench/ is on sys.path in every bench script
    wall_s, cpu_s, peak_mb = measure([INCUBATOR, "funnel", "--json", "--db", url])

The command runs under a small wrapper process, so that `ru_maxrss` of the wrapper's
children is the command's own peak RSS (Linux gives it in KiB), not the benchmark's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
if done.returncode:
    sys.stderr.write(done.stderr)
    raise SystemExit(done.returncode)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


class Measured(NamedTuple):
    wall_s: float
    cpu_s: float  # user + system
    peak_mb: float


def measure(args: Sequence[Any]) -> Measured:
    """Run `args` to the end (SystemExit with its error output if it fails) and measure it."""
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *map(str, args)], capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"failed: {' '.join(map(str, args))}\n{out.stderr}")
    wall, cpu, kib = out.stdout.split()
    return Measured(float(wall), float(cpu), int(kib) / 1024)
