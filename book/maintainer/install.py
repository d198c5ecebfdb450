"""Install the pinned requirements into a venv: with uv where it can be had, else with pip.

    python3 -m book.maintainer.install .venv -r requirements.txt      # what make book runs (creates .venv)

Only the standard library is used, so the machine's Python can run it from the checkout before the
venv exists. uv is brought from the package registry into ``VENV/.uv``, beside the venv's
site-packages rather than in them: the venv holds the same packages whichever installer filled
it. Where uv cannot be installed, or fails, pip does the work after a one-line note; set
``BOOK_INSTALLER=pip`` to use pip from the start. Exit status: 0 installed, 1 the install failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# The uv release the course installs with; a newer one changes nothing in what gets installed.
UV = "uv==0.13.9"
QUIET_PIP = ["--quiet", "--disable-pip-version-check"]


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def uv_binary(venv: Path) -> Path:
    return venv / ".uv" / ("Scripts/uv.exe" if os.name == "nt" else "bin/uv")


def note(text: str) -> None:
    print(f"install: {text}", file=sys.stderr, flush=True)


def _tail(output: str) -> str:
    """The last line of an installer's complaint that says something, kept short."""
    lines = [
        line.strip()
        for line in output.strip().splitlines()
        if line.strip() and not line.lstrip().startswith("WARNING: Location")
    ]
    return (lines[-1] if lines else "no output")[:160]


def ensure_venv(venv: Path) -> Path:
    python = venv_python(venv)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    return python


def get_uv(venv: Path) -> tuple[Path | None, str]:
    """uv in VENV/.uv, installed from the registry when missing; (path, "") or (None, why not)."""
    if os.environ.get("BOOK_INSTALLER", "").lower() == "pip":
        return None, "BOOK_INSTALLER=pip"
    uv = uv_binary(venv)
    if uv.exists():
        return uv, ""
    done = subprocess.run(
        [str(venv_python(venv)), "-m", "pip", "install", *QUIET_PIP, "--target", str(venv / ".uv"), UV],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not uv.exists():
        return None, f"pip could not install {UV}: {_tail(done.stderr + done.stdout)}"
    return uv, ""


def uv_settings() -> tuple[dict[str, str], list[str]]:
    """pip's index and certificate settings from the environment, as uv reads them: (env, options)."""
    env = dict(os.environ)
    for pip_name, uv_name in (
        ("PIP_INDEX_URL", "UV_INDEX_URL"),
        ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
        ("PIP_FIND_LINKS", "UV_FIND_LINKS"),
        ("PIP_CERT", "SSL_CERT_FILE"),
    ):
        if env.get(pip_name) and not env.get(uv_name):
            env[uv_name] = env[pip_name]
    no_index = env.get("PIP_NO_INDEX", "").lower() in ("1", "true", "yes", "on")
    return env, ["--no-index"] if no_index else []


def install(
    venv: Path,
    requirements: Sequence[Path],
    *,
    constraints: Sequence[Path] = (),
    upgrade: bool = False,
    pre: bool = False,
    cwd: Path | None = None,
) -> str:
    """Install `requirements` into `venv` (made when missing); the installer that did it, "uv" or "pip".

    Raises subprocess.CalledProcessError when pip, the last resort, fails."""
    python = ensure_venv(venv)
    files = [item for path in requirements for item in ("-r", str(path))]
    files += [item for path in constraints for item in ("-c", str(path))]
    uv, why = get_uv(venv)
    if uv is not None:
        # copy, not hard links into uv's cache: a file edited in the venv must not change the cache;
        # bytecode compiled now, as pip does: kernels import the libraries in every notebook run
        env, options = uv_settings()
        command = [
            str(uv),
            "pip",
            "install",
            "--quiet",
            "--link-mode=copy",
            "--compile-bytecode",
            "--python",
            str(python),
            *options,
            *files,
        ]
        command += (["--upgrade"] if upgrade else []) + (["--prerelease=allow"] if pre else [])
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        if done.returncode == 0:
            return "uv"
        why = f"uv failed: {_tail(done.stderr)}"
    note(f"installing with pip, which takes a minute or two ({why})")
    command = [str(python), "-m", "pip", "install", *QUIET_PIP, *files]
    command += (["--upgrade"] if upgrade else []) + (["--pre"] if pre else [])
    subprocess.run(command, cwd=cwd, check=True)
    return "pip"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.maintainer.install", description=__doc__.splitlines()[0])
    parser.add_argument("venv", type=Path, help="the virtual environment (created when missing)")
    parser.add_argument(
        "-r",
        "--requirement",
        dest="requirements",
        type=Path,
        action="append",
        required=True,
        help="a requirements file (repeatable)",
    )
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.requirements if not path.is_file()]
    if missing:
        parser.error(f"no such requirements file: {missing[0]}")
    started = time.perf_counter()
    try:
        installer = install(args.venv, args.requirements)
    except subprocess.CalledProcessError as exc:
        note(f"error: the install failed (exit status {exc.returncode}); see pip's output above")
        return 1
    note(
        f"{', '.join(str(path) for path in args.requirements)} installed with {installer} "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
