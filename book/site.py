"""Build the site: the full course, or the class edition without the Solutions part.

`_config.yml` has one setting for everything that points at the repository: ``repository.url``.
With a URL, the pages get the repository, edit and issue buttons and the Binder and Colab launch
buttons; with none (the default), those buttons are left out rather than left broken. The
configuration Jupyter Book reads is derived from `_config.yml` into `_build/config/`, and so is
the class edition's table of contents, so neither can drift from the files a maintainer edits.
Both editions share one execution cache: the class edition executes nothing again.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
from pathlib import Path

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


def effective_config(config: dict) -> dict:
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
    config.setdefault("execute", {})["cache"] = str(CACHE)
    return config


def class_toc(toc: dict) -> dict:
    """The table of contents without the Solutions part."""
    toc = copy.deepcopy(toc)
    parts = toc.get("parts", [])
    kept = [part for part in parts if part.get("caption") != SOLUTIONS_CAPTION]
    if len(kept) == len(parts):
        raise SystemExit(f"error: _toc.yml has no part captioned {SOLUTIONS_CAPTION!r} to leave out")
    toc["parts"] = kept
    return toc


def write_inputs(edition: str, repository: str | None = None) -> tuple[Path, Path]:
    """Write the configuration and table of contents for `edition`; return their paths."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    if repository is not None:
        config.setdefault("repository", {})["url"] = repository
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    if edition == "class":
        toc = class_toc(toc)
    config.setdefault("sphinx", {}).setdefault("config", {})["course_edition"] = edition
    GENERATED.mkdir(parents=True, exist_ok=True)
    config_path, toc_path = GENERATED / f"_config.{edition}.yml", GENERATED / f"_toc.{edition}.yml"
    config_path.write_text(yaml.safe_dump(effective_config(config), sort_keys=False), encoding="utf-8")
    toc_path.write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return config_path, toc_path


def build_command(edition: str, repository: str | None = None, quiet: bool = False) -> list[str]:
    config_path, toc_path = write_inputs(edition, repository)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "--config", str(config_path),
               "--toc", str(toc_path), "--path-output", str(EDITIONS[edition]), "-W", "--keep-going"]
    return command + (["--quiet"] if quiet else [])


def html_folder(edition: str) -> Path:
    return EDITIONS[edition] / "_build" / "html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.site", description=__doc__.splitlines()[0])
    parser.add_argument("--class", dest="edition", action="store_const", const="class", default="full",
                        help="build the class edition, without the Solutions part, into _build/class/_build/html")
    parser.add_argument("--repository", metavar="URL", help="override repository.url of _config.yml for this build")
    parser.add_argument("--quiet", action="store_true", help="print only warnings and errors")
    args = parser.parse_args(argv)
    done = subprocess.run(build_command(args.edition, args.repository, args.quiet), cwd=ROOT)
    if done.returncode == 0:
        print(f"The {args.edition} site is built: {html_folder(args.edition) / 'index.html'}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
