"""A newcomer's first minutes: the install (uv, or pip as the fallback) and make lab.

The installs here are offline: they install two tiny wheels made by the test from a folder, so
the same code paths as `make book` run (uv brought into VENV/.uv, or pip after its note) without
the network.
"""

import base64
import hashlib
import importlib.metadata
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from book import ROOT
from book.maintainer.install import uv_binary
from tests.support import free_port, still_running, tail


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[_normal(name.split("[", 1)[0])] = version.strip()
    return pins


def test_the_course_venv_holds_exactly_the_pinned_packages() -> None:
    """Whichever installer filled .venv, it holds constraints.txt's versions and nothing else."""
    installed = {_normal(dist.metadata["Name"]): dist.version for dist in importlib.metadata.distributions()}
    installed.pop("fastapi-di-course", None)
    for tool in ("pip", "setuptools"):  # the venv's own, from python -m venv, never pinned
        installed.pop(tool, None)
    pins = _pins(ROOT / "constraints.txt")
    wrong = {name: (version, pins.get(name)) for name, version in installed.items() if pins.get(name) != version}
    assert not wrong, f"installed (version, pinned) differ from constraints.txt: {wrong}"
    direct = _pins(ROOT / "requirements.txt")
    assert {name: pins[name] for name in direct} == direct, "requirements.txt and constraints.txt disagree"


def _wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A minimal pure-Python wheel, written by hand (no build backend, no network)."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist_info}/METADATA": "\n".join(
            [
                "Metadata-Version: 2.1",
                f"Name: {name}",
                f"Version: {version}",
                *[f"Requires-Dist: {r}" for r in requires],
            ]
        )
        + "\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture(scope="module")
def offline_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A folder of two wheels (one needs the other) and a requirements file pinning them."""
    folder = tmp_path_factory.mktemp("wheels")
    _wheel(folder, "tiny_app", "1.0", requires=("tiny_dep==2.0",))
    _wheel(folder, "tiny_dep", "2.0")
    _wheel(folder, "tiny_dep", "3.0")  # a newer release the pin must keep out
    requirements = folder / "requirements.txt"
    requirements.write_text("tiny_app==1.0\n", encoding="utf-8")
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(folder), UV_NO_CACHE="1")
    env.pop("BOOK_INSTALLER", None)
    return requirements, env


def _install(venv: Path, requirements: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "book.maintainer.install", str(venv), "-r", str(requirements)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _packages(venv: Path) -> dict[str, str]:
    listing = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'], d.version)",
        ],
        cwd=venv,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        _normal(name): version
        for name, version in (line.split() for line in listing.splitlines())
        if _normal(name) not in ("pip", "setuptools")
    }


def test_without_uv_pip_installs_the_same_packages_after_a_one_line_note(
    tmp_path: Path, offline_index: tuple[Path, dict[str, str]]
) -> None:
    requirements, env = offline_index
    # uv cannot be had here (the offline folder has no uv), so pip must take over
    by_pip = _install(tmp_path / "pip-venv", requirements, env)
    assert by_pip.returncode == 0, by_pip.stderr
    notes = [line for line in by_pip.stderr.splitlines() if line.startswith("install:")]
    assert any("installing with pip" in line and "could not install uv" in line for line in notes), by_pip.stderr
    assert not (tmp_path / "pip-venv" / ".uv").joinpath("bin", "uv").exists()
    assert _packages(tmp_path / "pip-venv") == {"tiny-app": "1.0", "tiny-dep": "2.0"}


def test_with_uv_the_venv_is_the_same_as_with_pip(tmp_path: Path, offline_index: tuple[Path, dict[str, str]]) -> None:
    uv = uv_binary(ROOT / ".venv")
    if not uv.exists():
        pytest.skip("the course venv was installed with pip (uv could not be had here)")
    requirements, env = offline_index
    venv = tmp_path / "uv-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    uv_binary(venv).parent.mkdir(parents=True)
    uv_binary(venv).symlink_to(uv)  # as if brought from the registry, which this offline test cannot reach
    by_uv = _install(venv, requirements, env)
    assert by_uv.returncode == 0, by_uv.stderr
    assert "installed with uv" in by_uv.stderr and "installing with pip" not in by_uv.stderr, by_uv.stderr
    assert _packages(venv) == {"tiny-app": "1.0", "tiny-dep": "2.0"}
    # and the site-packages hold no trace of uv itself
    assert not list(venv.glob("lib/python*/site-packages/uv*"))


def test_book_installer_pip_skips_uv(tmp_path: Path, offline_index: tuple[Path, dict[str, str]]) -> None:
    requirements, env = offline_index
    done = _install(tmp_path / "venv", requirements, dict(env, BOOK_INSTALLER="pip"))
    assert done.returncode == 0, done.stderr
    assert "installing with pip" in done.stderr and "BOOK_INSTALLER=pip" in done.stderr


def test_a_missing_requirements_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "book.maintainer.install", str(tmp_path / "venv"), "-r", "nope.txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip().splitlines()[-1]
        == "python -m book.maintainer.install: error: no such requirements file: nope.txt"
    )
    assert not (tmp_path / "venv").exists()


def test_a_failing_install_says_so_in_one_line(tmp_path: Path, offline_index: tuple[Path, dict[str, str]]) -> None:
    _, env = offline_index
    wanted = tmp_path / "requirements.txt"
    wanted.write_text("tiny_app==9.9\n", encoding="utf-8")
    done = _install(tmp_path / "venv", wanted, dict(env, BOOK_INSTALLER="pip"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("install: error: the install failed")


def test_make_lab_prints_a_url_that_works_and_stops_cleanly() -> None:
    lab = subprocess.Popen(
        [sys.executable, "-m", "book.learner.lab", "--port", str(free_port())],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    stdout = lab.stdout
    assert stdout is not None
    try:
        lines, deadline = [], time.monotonic() + 90
        while time.monotonic() < deadline:
            line = stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Open: " in line:
                break
        url = next((line.split("Open: ")[1].strip() for line in lines if "Open: " in line), None)
        assert url, f"no URL printed; output: {tail(''.join(lines))}"
        if os.geteuid() == 0:
            assert any("passing --allow-root" in line for line in lines), lines
        with urllib.request.urlopen(url.replace("/lab?", "/api/status?"), timeout=10) as answer:
            assert answer.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:  # the token is what lets one in
            urllib.request.urlopen(url.split("?")[0].replace("/lab", "/api/status"), timeout=10)
        refused.value.close()
        assert refused.value.code == 403
    finally:
        lab.send_signal(signal.SIGTERM)
        assert lab.wait(timeout=30) == 0
        stdout.close()
    port = url.split(":")[2].split("/")[0]
    assert not still_running(f"ServerApp.port={port}"), "the JupyterLab server outlived make lab"


def test_the_course_wheel_holds_every_module_and_gives_book_graph(tmp_path: Path) -> None:
    """`pip install FOLDER` (what a downloaded notebook's note says) installs the whole package, not only
    the subpackages someone remembered to list; its `import book; book.graph` works from the wheel."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, tail(built.stderr)
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        held = {name for name in archive.namelist() if name.startswith("book/")}
        archive.extractall(tmp_path / "unpacked")
    tree = {path.relative_to(ROOT).as_posix() for path in (ROOT / "book").rglob("*") if path.suffix in (".py", ".ini")}
    assert held == tree
    unpacked = tmp_path / "unpacked"
    probe = (
        f"import sys; sys.path.insert(0, {str(unpacked)!r}); import book; print(book.__file__, book.graph.__module__)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, tail(done.stderr)
    assert done.stdout.split() == [str(unpacked / "book" / "__init__.py"), "book.learner.dependency_graph"]
