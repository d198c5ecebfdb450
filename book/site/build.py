"""Build the site: the full course, or the class edition without the Solutions part.

`_config.yml` has one setting for everything that points at the repository: ``repository.url``.
With a URL, the pages get the repository, edit and issue buttons and the Binder and Colab launch
buttons; with none (the default), those buttons are left out rather than left broken. The
configuration Jupyter Book reads is derived from `_config.yml` into `_build/config/`, and so is
the class edition's table of contents, so neither can drift from the files a maintainer edits.
Both editions share one execution cache: the class edition executes nothing again.

Jupyter Book executes the notebooks one after another. Before it starts, the notebooks the cache
does not hold yet are executed side by side, one per core, exactly as Jupyter Book would execute
them (jupyter-cache's executor, the notebook's folder as working directory), and stored in its
cache; Jupyter Book then finds every result there. A notebook that fails is left out of the cache,
so Jupyter Book executes it again and fails the build with its traceback.
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from html import escape
from pathlib import Path
from typing import Any

import yaml

from book import ROOT

BUILD = ROOT / "_build"
GENERATED = BUILD / "config"
CACHE = BUILD / ".jupyter_cache"
# Jupyter Book writes an edition into <path-output>/_build/html.
EDITIONS = {"full": ROOT, "class": BUILD / "class"}
SOLUTIONS_CAPTION = "Solutions"
BINDER = "https://mybinder.org"
COLAB = "https://colab.research.google.com"
Yaml = dict[str, Any]  # a mapping read from _config.yml or _toc.yml


def effective_config(config: Yaml) -> Yaml:
    """The configuration to build with: repository buttons on exactly when a repository is set."""
    config = copy.deepcopy(config)
    url = ((config.get("repository") or {}).get("url") or "").strip()
    html = config.setdefault("html", {})
    for button in ("use_repository_button", "use_edit_page_button", "use_issues_button"):
        html[button] = bool(url)
    launch = config.setdefault("launch_buttons", {})
    launch["binderhub_url"] = BINDER if url else ""
    launch["colab_url"] = COLAB if url else ""
    launch["thebe"] = False  # it would load code from the network at view time
    # The footer: the course's name, linked to its repository when there is one (no "By ..." line).
    config["author"] = ""
    title = escape(config.get("title") or "The course")
    html["extra_footer"] = (
        f'<p>{title} · <a href="{escape(url)}">the course\'s repository</a></p>' if url else f"<p>{title}</p>"
    )
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["course_repository"] = url
    config.setdefault("execute", {})["cache"] = str(CACHE)
    return config


def class_toc(toc: Yaml) -> Yaml:
    """The table of contents without the Solutions part."""
    toc = copy.deepcopy(toc)
    parts = toc.get("parts", [])
    kept = [part for part in parts if part.get("caption") != SOLUTIONS_CAPTION]
    if len(kept) == len(parts):
        raise SystemExit(f"error: _toc.yml has no part captioned {SOLUTIONS_CAPTION!r} to leave out")
    toc["parts"] = kept
    return toc


def solution_titles(toc: Yaml) -> Yaml:
    """The table of contents with each solution under the title of its page, "Solution NN: ..."
    (book/site/edition.py titles the page), rather than a title of its own in _toc.yml."""
    toc = copy.deepcopy(toc)

    def walk(entries: list[Yaml]) -> None:
        for entry in entries:
            if entry.get("file", "").startswith("solutions/"):
                entry.pop("title", None)
            walk(entry.get("sections", []))

    walk([entry for part in toc.get("parts", []) for entry in part.get("chapters", [])])
    return toc


def write_inputs(edition: str, repository: str | None = None) -> tuple[Path, Path]:
    """Write the configuration and table of contents for `edition`; return their paths."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    if repository is not None:
        config.setdefault("repository", {})["url"] = repository
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    toc = class_toc(toc) if edition == "class" else solution_titles(toc)
    config.setdefault("sphinx", {}).setdefault("config", {})["course_edition"] = edition
    GENERATED.mkdir(parents=True, exist_ok=True)
    config_path, toc_path = GENERATED / f"_config.{edition}.yml", GENERATED / f"_toc.{edition}.yml"
    config_path.write_text(yaml.safe_dump(effective_config(config), sort_keys=False), encoding="utf-8")
    toc_path.write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return config_path, toc_path


def build_command(edition: str, repository: str | None = None, quiet: bool = False) -> list[str]:
    config_path, toc_path = write_inputs(edition, repository)
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(ROOT),
        "--config",
        str(config_path),
        "--toc",
        str(toc_path),
        "--path-output",
        str(EDITIONS[edition]),
        "-W",
        "--keep-going",
    ]
    return command + (["--quiet"] if quiet else [])


def toc_files(toc: Yaml) -> list[str]:
    """Every page a table of contents lists, sections included, in its order (the root first)."""

    def walk(entries: list[Yaml]) -> list[str]:
        return [name for entry in entries for name in [entry.get("file", ""), *walk(entry.get("sections", []))]]

    return [toc.get("root", ""), *walk([entry for part in toc.get("parts", []) for entry in part.get("chapters", [])])]


def toc_notebooks(toc: Yaml) -> list[Path]:
    """The notebooks a table of contents lists, in its order."""
    return [ROOT / f"{name}.ipynb" for name in toc_files(toc) if name and (ROOT / f"{name}.ipynb").is_file()]


def _execute(path: str, timeout: int) -> tuple[str, str | None, float, str]:
    """Execute one notebook as myst-nb's cache mode does; (path, notebook JSON or None, seconds, error)."""
    from jupyter_cache.executors.utils import single_nb_execution

    from book.core import nbfiles

    notebook = nbfiles.read(path, as_version=4)
    result = single_nb_execution(
        notebook, cwd=str(Path(path).parent), timeout=timeout, allow_errors=False, meta_override=True
    )
    if result.err is not None:
        return path, None, result.time, type(result.err).__name__
    return path, nbfiles.writes(notebook), result.time, ""


def prime_cache(edition: str, quiet: bool = False) -> int:
    """Execute, side by side, the notebooks of `edition` that the execution cache lacks; how many ran."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from book.core import nbfiles

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    execute = config.get("execute") or {}
    if execute.get("execute_notebooks", "auto") not in ("cache", "auto"):
        return 0
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    cache = get_cache(str(CACHE))
    todo = []
    for path in toc_notebooks(class_toc(toc) if edition == "class" else toc):
        notebook = nbfiles.read(path, as_version=4)
        if (notebook.metadata.get("mystnb") or {}).get("execution_mode") == "off":
            continue
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            todo.append(path)
    if not todo:
        return 0
    workers = min(len(todo), os.cpu_count() or 1)
    if not quiet:
        print(f"Executing {len(todo)} notebooks, {workers} at a time", flush=True)
    started = time.perf_counter()
    # spawn: a fresh interpreter per worker, nothing of this process (its cache database) inherited
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_execute, str(path), int(execute.get("timeout", 120))) for path in todo]
        for future in as_completed(futures):
            ran, text, seconds, error = future.result()
            shown = Path(ran).relative_to(ROOT)
            if text is None:
                # left for Jupyter Book, which runs it again and fails the build with the traceback
                print(f"  {shown}: {error} after {seconds:.1f} s", flush=True)
                continue
            record = cache.add_nb_to_project(ran)
            cache.cache_notebook_bundle(
                CacheBundleIn(nbfiles.reads(text, as_version=4), record.uri, data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            if not quiet:
                print(f"  {shown} {seconds:.1f} s", flush=True)
    if not quiet:
        print(f"Executed {len(todo)} notebooks in {time.perf_counter() - started:.1f} s", flush=True)
    return len(todo)


def html_folder(edition: str) -> Path:
    return EDITIONS[edition] / "_build" / "html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.site", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--class",
        dest="edition",
        action="store_const",
        const="class",
        default="full",
        help="build the class edition, without the Solutions part, into _build/class/_build/html",
    )
    parser.add_argument("--repository", metavar="URL", help="override repository.url of _config.yml for this build")
    parser.add_argument("--quiet", action="store_true", help="print only warnings and errors")
    args = parser.parse_args(argv)
    prime_cache(args.edition, args.quiet)
    done = subprocess.run(build_command(args.edition, args.repository, args.quiet), cwd=ROOT)
    if done.returncode == 0:
        print(f"The {args.edition} site is built: {html_folder(args.edition) / 'index.html'}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
