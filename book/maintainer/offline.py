"""Run a command with no network but loopback: ``python -m book.maintainer.offline CMD [ARGS...]``.

The build and the tests must not fetch anything. Where the machine allows it (Linux, as root or
with user namespaces), the command runs in a new network namespace whose only interface is
loopback, which Jupyter kernels need; a fetch then fails at once instead of passing unnoticed.
Elsewhere it says so on stderr and runs the command as it is.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000


def isolate() -> str | None:
    """Move this process into a network namespace with only loopback; return why not, or None."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    libc = ctypes.CDLL(None, use_errno=True)
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWNET | CLONE_NEWUSER
    if libc.unshare(flags) != 0:
        return os.strerror(ctypes.get_errno())
    ip = shutil.which("ip") or "/usr/sbin/ip"
    up = subprocess.run([ip, "link", "set", "lo", "up"], capture_output=True, text=True)
    if up.returncode != 0:
        return f"cannot bring loopback up ({up.stderr.strip() or up.returncode})"
    return None


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m book.maintainer.offline CMD [ARGS...]", file=sys.stderr)
        return 2
    why = isolate()
    if why:
        print(f"offline: network isolation unavailable ({why}); running with the network", file=sys.stderr)
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"offline: cannot run {argv[0]}: {exc.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
