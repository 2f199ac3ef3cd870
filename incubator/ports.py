"""Can the web app listen on an address and port? Checked before the server starts, so a busy
port is one line that names it and says how to pick another (Streamlit alone says only
"Port 8501 is not available"). Pure standard library.
"""

from __future__ import annotations

import errno
import os
import socket

#: How far above a busy port to look for a free one to suggest.
SUGGESTION_RANGE = 100


def port_problem(address: str, port: int) -> str | None:
    """Why the web app cannot listen on `address`:`port`, as one line that says what to do;
    None when it can. Binds the port itself, the way the web server will, and lets go."""
    if not 1 <= port <= 65535:
        return f"{port} is not a TCP port; allowed: 1 to 65535, e.g. --port 8600"
    try:
        error = bind_error(address, port)
    except (socket.gaierror, UnicodeError):
        return (
            f"cannot listen on address {address!r}: this machine does not know it; use "
            "127.0.0.1 (this machine only) or 0.0.0.0 (every network)"
        )
    if error is None:
        return None
    code = error.errno
    if code == errno.EADDRINUSE:
        other = free_port_after(address, port)
        pick = (
            f"make run PORT={other}, or incubator ui --port {other}"
            if other
            else "make run PORT=N, or incubator ui --port N"
        )
        return (
            f"port {port} on {address} is already in use (another program, or the tracker "
            f"running already); pick another port: {pick}"
        )
    if code in (errno.EACCES, errno.EPERM):
        return (
            f"port {port} needs administrator rights; pick a port above 1023: "
            "make run PORT=8600, or incubator ui --port 8600"
        )
    if code == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {address}: it is not an address of this machine; use "
            "127.0.0.1 (this machine only) or 0.0.0.0 (every network)"
        )
    return f"cannot listen on {address} port {port}: {error.strerror or error}"


def bind_error(address: str, port: int) -> OSError | None:
    """Bind `address`:`port` the way Streamlit's server binds it, then let go: one socket, IPv6
    (dual-stack) when the address has a colon, else IPv4; SO_REUSEADDR except on Windows, so
    a port left in TIME_WAIT by a server that just stopped counts as free while a port some
    program listens on does not. The error, or None. socket.gaierror for a name that does
    not resolve."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:  # e.g. no IPv6 on this machine
        return exc
    with sock:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        try:
            sock.bind((address, port))
        except socket.gaierror:
            raise
        except OSError as exc:
            return exc
    return None


def free_port_after(address: str, port: int) -> int | None:
    """The first port above `port` (within `SUGGESTION_RANGE`) free on `address`, or None."""
    for candidate in range(port + 1, min(port + SUGGESTION_RANGE, 65535) + 1):
        try:
            if bind_error(address, candidate) is None:
                return candidate
        except OSError:
            return None
    return None
