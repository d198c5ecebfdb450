"""nbval's kernels on Unix sockets (book/core/kernels.py): no TCP port for two processes to collide on."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import nbval.kernel
import pytest

from book.core import kernels

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")


def test_the_course_plugin_makes_nbval_start_kernels_on_unix_sockets() -> None:
    assert nbval.kernel.KernelManager is kernels.UnixSocketKernelManager  # done as pytest started
    assert kernels.use_in_nbval()


def test_each_kernel_gets_a_folder_of_sockets_and_leaves_nothing_behind(tmp_path: Path) -> None:
    started = []
    try:
        for _ in range(2):  # as nbval starts them, through the name it looks up
            started.append(
                nbval.kernel.start_new_kernel(
                    kernel_name=nbval.kernel.CURRENT_ENV_KERNEL_NAME,
                    startup_timeout=30,
                    cwd=str(tmp_path),
                    stderr=subprocess.DEVNULL,
                )
            )
        managers = [manager for manager, _ in started]
        assert [manager.transport for manager in managers] == ["ipc", "ipc"]
        folders = [os.path.dirname(manager.ip) for manager in managers]
        assert folders[0] != folders[1]
        channels = [f"{manager.ip}-{manager.shell_port}" for manager in managers]
        assert all(os.path.exists(channel) for channel in channels)  # the kernels listen there
        assert all(manager.is_alive() for manager in managers)
        managers[0].restart_kernel(now=True)  # the same folder, still there
        started[0][1].wait_for_ready(timeout=30)
        assert os.path.exists(channels[0]) and managers[0].is_alive()
    finally:
        for manager, client in started:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    assert not any(os.path.exists(folder) for folder in folders)


def test_under_a_deep_temporary_folder_the_sockets_go_where_their_paths_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    manager = kernels.UnixSocketKernelManager()
    try:
        assert len(f"{manager.ip}-65535") < 108  # a Unix socket's path limit
    finally:
        shutil.rmtree(os.path.dirname(manager.ip), ignore_errors=True)
