"""Start JupyterLab on the course and print the one URL to open: ``python -m book.learner.lab`` (make lab).

JupyterLab refuses to run as root unless told to, which is how many containers and cloud
workspaces run: as root this says so and passes ``--allow-root``. The port is the first free
one from 8888 and the access token is made here, so the URL printed once the server answers is
the one that works. Ctrl-C stops the server.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from book import ROOT

READY_SECONDS = 60


def free_port(host: str, first: int, tries: int = 50) -> int:
    """The first port from `first` that nothing listens on at `host`."""
    for port in range(first, first + tries):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise SystemExit(f"error: no free port on {host} from {first} to {first + tries - 1}")


def command(host: str, port: int, token: str, as_root: bool) -> list[str]:
    jupyter = Path(sys.executable).with_name("jupyter")
    return [
        str(jupyter),
        "lab",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        *(["--allow-root"] if as_root else []),
    ]


def wait_until_ready(url: str, server: subprocess.Popen[bytes], seconds: float = READY_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.learner.lab", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (0.0.0.0 to reach it from outside a container)"
    )
    parser.add_argument("--port", type=int, default=8888, help="the first port to try (default: 8888)")
    args = parser.parse_args(argv)
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        print("lab: running as root (as in many containers): passing --allow-root to JupyterLab", flush=True)
    port = free_port(args.host, args.port)
    token = secrets.token_hex(16)
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    base = f"http://{shown_host}:{port}"
    # A session of its own: Ctrl-C reaches this process only, which then stops the server cleanly
    # (JupyterLab would otherwise stop to ask "Shutdown this Jupyter server?").
    server = subprocess.Popen(command(args.host, port, token, as_root), cwd=ROOT, start_new_session=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a supervisor: stop the server too
    try:
        if not wait_until_ready(f"{base}/api/status?token={token}", server):
            print("error: JupyterLab did not start; its messages are above", file=sys.stderr)
            return 1
        print(
            f"\n  JupyterLab is ready. Open: {base}/lab?token={token}\n"
            "  Start with chapters/00-in-process.ipynb. Ctrl-C stops the server.\n",
            flush=True,
        )
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
