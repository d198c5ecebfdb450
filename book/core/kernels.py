"""Jupyter kernels on Unix sockets, for nbval.

jupyter_client gives each kernel five TCP ports that it finds free by binding and releasing them.
Two processes that start kernels at the same moment (pytest-xdist workers, a batch graded with
``--jobs 2``) can be handed the same port, and then one kernel never answers: nbval waits 60 s and
fails every cell of the notebook. A kernel on Unix sockets, in a folder of its own, cannot collide
with another. Where there are no Unix sockets (Windows), kernels keep TCP.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile

from jupyter_client.manager import KernelManager
from traitlets import default

SHORT_ENOUGH = 60  # characters of the temporary folder's path; the rest of a socket's path takes ~40


class UnixSocketKernelManager(KernelManager):
    """A KernelManager whose kernel listens on Unix sockets in a temporary folder of its own."""

    _socket_folder = ""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        # For ipc, "ip" is the sockets' path prefix: <ip>-<port>, one per channel. A socket's path
        # may hold 107 bytes at most: under a deep temporary folder the kernel could not listen,
        # and nbval would wait for it until its time limit, so such a folder gives way to /tmp.
        base = tempfile.gettempdir()
        if len(base) > SHORT_ENOUGH and os.path.isdir("/tmp"):
            base = "/tmp"
        self._socket_folder = tempfile.mkdtemp(prefix="kernel-", dir=base)
        return os.path.join(self._socket_folder, "channel")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._socket_folder and not restart:  # a restarted kernel listens in the same folder
            shutil.rmtree(self._socket_folder, ignore_errors=True)


def use_in_nbval() -> bool:
    """Make nbval start its kernels on Unix sockets, if nbval is loaded; whether it now does."""
    kernel = sys.modules.get("nbval.kernel")
    if kernel is None or not hasattr(socket, "AF_UNIX"):
        return False
    vars(kernel)["KernelManager"] = UnixSocketKernelManager  # the name nbval starts its kernels with
    return True
