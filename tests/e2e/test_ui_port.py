"""`incubator ui` on a port it cannot use: one line naming the port and how to pick another,
exit 1, and no web server started."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from incubator.ports import free_port_after, port_problem


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program is listening on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def run_ui(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "incubator.cli", "ui", "--headless", "--db", f"sqlite:///{db}",
         *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_ui_on_a_busy_port_says_which_port_and_how_to_pick_another(
    busy_port: int, tmp_path: Path
) -> None:
    result = run_ui("--port", str(busy_port), db=tmp_path / "x.db")
    assert result.returncode == 1
    assert result.stdout == ""  # Streamlit never started: it would greet or complain here
    assert re.fullmatch(
        rf"error: port {busy_port} on 127\.0\.0\.1 is already in use \(another program, or the "
        r"tracker running already\); pick another port: make run PORT=(\d+), or incubator ui "
        r"--port \1\n",
        result.stderr,
    ), result.stderr
    suggested = int(result.stderr.rsplit(" ", 1)[1])
    assert suggested > busy_port and port_problem("127.0.0.1", suggested) is None


def test_ui_refuses_a_port_number_out_of_range_in_one_line(tmp_path: Path) -> None:
    result = run_ui("--port", "70000", db=tmp_path / "x.db")
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr == "error: 70000 is not a TCP port; allowed: 1 to 65535, e.g. --port 8600\n"
    )


@pytest.mark.parametrize(
    "address", ["no-such-host.invalid", "192.0.2.1"], ids=["unknown name", "not this machine"]
)
def test_ui_refuses_an_address_this_machine_cannot_listen_on(address: str) -> None:
    problem = port_problem(address, 8600)
    assert problem is not None and address in problem
    assert problem.endswith("use 127.0.0.1 (this machine only) or 0.0.0.0 (every network)")


def test_a_free_port_passes_and_the_suggestion_skips_busy_ports(busy_port: int) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        free = int(listener.getsockname()[1])
    assert port_problem("127.0.0.1", free) is None
    with socket.socket() as next_one:
        try:
            next_one.bind(("127.0.0.1", busy_port + 1))
            next_one.listen()
        except OSError:
            pass  # someone else has it: busy either way
        found = free_port_after("127.0.0.1", busy_port)
    assert found is not None and found > busy_port + 1


def test_a_busy_port_on_every_address_is_busy_for_the_loopback_too() -> None:
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        problem = port_problem("127.0.0.1", port)
    assert problem is not None and f"port {port} on 127.0.0.1 is already in use" in problem
