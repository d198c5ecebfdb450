"""Per exercise, the plausible mistakes its checks must catch and the correct alternatives they must accept.

One module per exercise, `ex_<slug with underscores>.py`, each with
- `MUTANTS`: (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail);
- `ALTERNATIVES`: (exercise, what is written differently, [(text of the solution, replaced by), ...]).
"""

import importlib
from pathlib import Path
from types import ModuleType

from book import SOLUTIONS


def _load() -> list[ModuleType]:
    modules = []
    for path in sorted(Path(__file__).parent.glob("ex_*.py")):
        module = importlib.import_module(f"{__name__}.{path.stem}")
        slug = path.stem.removeprefix("ex_").replace("_", "-")
        if not (SOLUTIONS / f"{slug}.ipynb").is_file():
            raise LookupError(f"{path.name}: no solution {slug}.ipynb")
        for entry in (*getattr(module, "MUTANTS", []), *getattr(module, "ALTERNATIVES", [])):
            if entry[0] != slug:
                raise LookupError(f"{path.name}: an entry names exercise {entry[0]!r}, not {slug!r}")
        modules.append(module)
    return modules


ALL = _load()
