"""Where a submission's processes run: a bubblewrap sandbox on Linux, with limits, or plainly.

In the sandbox (Debian's ``bubblewrap``) a submission's processes have a PID namespace of their own
(everything they start ends with the sandbox), no network but loopback, and a filesystem that shows
only what Python and the course's package need, read-only, and a scratch ``/tmp`` of limited size
that disappears with them. The checks, the solutions, the learner's workspace and every other
submission are simply not there.

Where bubblewrap cannot create namespaces (inside many containers, Gradescope's among them), the
grader says so and relies on the container; on macOS and Windows it runs without one and says so.
Either way the limits on time, memory and processes still hold, watched from outside.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from book import ROOT

SANDBOX, CONTAINER, NONE = "sandbox", "container", "none"
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "alternatives",
    "mime.types",
)
ADDRESS_SPACE = 8 << 30  # per process, a backstop; the memory limit is on what is resident, in all
POLL = 0.1


@dataclass(frozen=True)
class Limits:
    """What one submission may use, all its processes together."""

    memory_mb: int = 1536
    processes: int = 64
    disk_mb: int = 256

    def exceeded(self, what: str) -> str:
        return {
            "memory": f"used more than the memory limit of {self.memory_mb} MB",
            "processes": f"started more than {self.processes} processes at once",
            "disk": f"wrote more than the {self.disk_mb} MB of disk it may use",
        }[what]


@dataclass(frozen=True)
class Isolation:
    """How a grade's submission code ran: "sandbox", "container" or "none", and why."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} ({self.detail})"


@functools.lru_cache(maxsize=1)
def _bwrap_works() -> str:
    """ "" when bubblewrap can make a sandbox here, or why not."""
    if not sys.platform.startswith("linux"):
        return f"no sandbox on {sys.platform}"
    binary = shutil.which("bwrap")
    if binary is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        done = subprocess.run(
            [binary, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap does not run ({type(exc).__name__})"
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        return f"bubblewrap cannot create namespaces here ({reason[:120]})"
    return ""


def in_container() -> bool:
    if Path("/.dockerenv").exists() or Path("/run/.containerenv").exists() or os.environ.get("container"):  # noqa: SIM112 (podman's name)
        return True
    try:
        cgroup = Path("/proc/1/cgroup").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(word in cgroup for word in ("docker", "containerd", "kubepods", "lxc", "podman"))


def choose(wanted: bool = True) -> Isolation:
    """The isolation this machine gives: the sandbox when wanted and possible, else what there is."""
    if not wanted:
        return Isolation(NONE, "--no-sandbox")
    why_not = _bwrap_works()
    if not why_not:
        return Isolation(SANDBOX, "bubblewrap: own PID namespace, no network, read-only filesystem")
    if in_container():
        return Isolation(CONTAINER, f"inside a container; {why_not}")
    return Isolation(NONE, why_not)


def _visible_paths() -> list[Path]:
    """What a submission's Python needs to see: the interpreter, its libraries, the course package."""
    paths = [Path(sys.base_prefix).resolve(), Path(sys.prefix)]
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        paths.append(Path(sysconfig.get_paths()[key]))
    executable = Path(sys.executable)
    paths += [executable.parent, executable.resolve().parent]
    paths.append(ROOT / "book")
    unique: list[Path] = []
    for path in sorted({p for p in paths if p.exists()}, key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(kept) for kept in unique):
            unique.append(path)
    return unique


def bwrap_command(
    argv: list[str], *, limits: Limits, files: dict[str, int] | None = None, env: dict[str, str]
) -> list[str]:
    """The bubblewrap command that runs `argv` in a sandbox; `files` maps a path inside to a
    readable file descriptor whose content is copied there (nothing written outside)."""
    command = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            command += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            command += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    command += ["--size", str(limits.disk_mb << 20), "--tmpfs", "/tmp"]
    for path in _visible_paths():  # after /tmp: a checkout or venv that lives in /tmp stays visible
        command += ["--ro-bind", str(path), str(path)]
    for inside, fd in (files or {}).items():
        command += ["--file", str(fd), inside]
    for key, value in env.items():
        command += ["--setenv", key, value]
    return [*command, "--chdir", "/tmp", "--", *argv]


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a submission's processes: nothing of the grader's but what Python needs."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLBACKEND": "Agg",
        "BOOK_GRADING": "1",
    }  # book.grade() in a graded notebook does not grade it again
    for name in ("TZ", "PYTHONHASHSEED", "REDIS_URL"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env | (extra or {})


# Loaded here, not between fork and exec: the grader has threads, and an import in the child could
# wait forever on a lock another thread held at the fork.
_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """Have the kernel kill this process when its parent dies (Linux). Mind that "parent" is the
    thread that started it: a process started from a thread that ends is killed then."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _preexec() -> None:  # pragma: no cover - runs in the child, between fork and exec
    die_with_parent()
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@dataclass
class Sandboxed:
    """A submission's process tree, watched: the first limit it exceeds ends it, with the reason."""

    process: subprocess.Popen[bytes]
    limits: Limits
    isolation: Isolation
    exceeded: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.process.pid)
        except psutil.Error:
            return
        while not self._stop.wait(POLL):
            try:
                tree = [root, *root.children(recursive=True)]
                resident = 0
                for process in tree:
                    with contextlib.suppress(psutil.Error):
                        resident += process.memory_info().rss
            except psutil.Error:
                return
            what = ""
            if len(tree) > self.limits.processes + 2:  # bwrap's two processes do not count
                what = "processes"
            elif resident > self.limits.memory_mb << 20:
                what = "memory"
            elif self.isolation.kind == SANDBOX and self._disk_full(tree):
                what = "disk"
            if what:
                self.exceeded = self.limits.exceeded(what)
                self.kill()
                return

    def _disk_full(self, tree: list[Any]) -> bool:
        for process in tree[1:2]:  # the sandbox's first process sees its /tmp
            try:
                usage = os.statvfs(f"/proc/{process.pid}/root/tmp")
            except OSError:
                return False
            return usage.f_bfree * usage.f_frsize < (1 << 20)
        return False

    def kill(self) -> None:
        """End the process and everything it started (in the sandbox, the whole PID namespace)."""
        import psutil

        self._stop.set()
        try:
            tree = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.Error:
            tree = []
        for process in tree:
            with contextlib.suppress(psutil.Error):
                process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def stop_watching(self) -> None:
        self._stop.set()


def start(
    argv: list[str],
    isolation: Isolation,
    limits: Limits,
    *,
    stdin: int | IO[bytes] | None = None,
    stdout: int | IO[bytes] | None = None,
    stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    pass_fds: tuple[int, ...] = (),
    files: dict[str, int] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Sandboxed:
    """Start `argv` as a submission's process, in the sandbox when `isolation` says so."""
    environ = environment(env)
    if isolation.kind == SANDBOX:
        command = bwrap_command(argv, limits=limits, files=files, env=environ)
        run_env: dict[str, str] | None = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        fds = tuple(pass_fds) + tuple((files or {}).values())
        run_cwd: Path | None = None
    else:
        if files:
            raise ValueError("files are copied into a sandbox only; without one, pass paths")
        command, run_env, fds, run_cwd = (
            argv,
            {**os.environ, **environ, "HOME": os.environ.get("HOME", "/tmp")},
            tuple(pass_fds),
            cwd,
        )
        run_env.pop("TMPDIR", None)
        run_env.pop("JPY_SESSION_NAME", None)  # a grade started from a notebook: not the submission's name
        if cwd is not None:
            run_env["TMPDIR"] = str(cwd)
    process = subprocess.Popen(
        command,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        pass_fds=fds,
        env=run_env,
        cwd=run_cwd,
        start_new_session=True,
        preexec_fn=_preexec,
    )
    return Sandboxed(process, limits, isolation)


def wait(sandboxed: Sandboxed, deadline: float) -> str:
    """Wait until the process ends or the deadline (time.monotonic()); "" or why it was stopped."""
    try:
        sandboxed.process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        sandboxed.kill()
        return "timeout"
    finally:
        sandboxed.stop_watching()
    return sandboxed.exceeded
