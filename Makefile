# The course's commands. `make book` and `make test` are all a fresh machine needs.
# Installs go through book/maintainer/install.py: uv where it can be had (seconds), pip otherwise (minutes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 8000
JOBS ?= auto

# Builds and tests run with no network but loopback where the machine allows it (book/maintainer/offline.py).
OFFLINE := $(PY) -m book.maintainer.offline

.PHONY: book book-class test test-grading lint test-latest repeat bench lab serve start grade watch progress release execute constraints clean

$(INSTALLED): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "error: Python 3.11 or newer is needed; run e.g. make PYTHON=python3.12 $(MAKECMDGOALS)" >&2; exit 1; }
	@$(PYTHON) -m book.maintainer.install $(VENV) -r requirements.txt
	@touch $@

$(TEST_INSTALLED): $(INSTALLED) requirements-test.txt
	@$(PY) -m book.maintainer.install $(VENV) -r requirements-test.txt
	@touch $@

book: $(INSTALLED)
	$(OFFLINE) $(PY) -m book.site
	@echo "Open $(CURDIR)/_build/html/index.html, or run make serve"

# The class edition: the site without the Solutions part, in _build/class/_build/html.
book-class: $(INSTALLED)
	$(OFFLINE) $(PY) -m book.site --class

# Everything CI runs. The browser tests need Chromium (apt-get install chromium): without it they are
# skipped here, and .ci/run, which installs it, makes them required.
test: $(TEST_INSTALLED) lint
	$(PY) -m book release --check
	$(OFFLINE) $(PY) -m book.site --quiet
	$(OFFLINE) $(PY) -m pytest -n $(JOBS) --dist loadfile
	$(OFFLINE) $(PY) -m book.maintainer.repeat --rounds 1 --first 2 --jobs $(JOBS)

# The grader's own proof, after make test (CI runs both): every solution at full marks and every
# starter failing every check, every listed mistake caught by the checks it names, every correct
# alternative at full marks under five seeds, 20 grades of a submission alike.
test-grading: $(TEST_INSTALLED)
	$(OFFLINE) $(PY) -m pytest tests/grading -n $(JOBS) --dist loadfile

# ruff (lint, and the format every file is kept in) and mypy (strict) over all of book/ and tests/.
lint: $(TEST_INSTALLED)
	$(VENV)/bin/ruff check book tests
	$(VENV)/bin/ruff format --check book tests
	$(VENV)/bin/mypy

# Every chapter and solution under strict nbval, ROUNDS rounds in a row, each with its own hash
# seed and time zone: make repeat ROUNDS=5
ROUNDS ?= 3
repeat: $(INSTALLED)
	$(OFFLINE) $(PY) -m book.maintainer.repeat --rounds $(ROUNDS) --jobs $(JOBS)

# The suite against the newest releases of fastapi, starlette, pydantic, sqlalchemy, httpx, aiosqlite
# and fakeredis, in .venv-latest; reports what breaks and why (_build/latest/report.md).
# make test-latest LATEST=--pre takes pre-releases too.
test-latest: $(INSTALLED)
	$(PY) -m book.maintainer.latest $(LATEST)

# The benchmark (about half an hour): make bench, or e.g. make bench BENCH="--parts grading --runs 5"
bench: $(TEST_INSTALLED)
	$(PY) -m book.maintainer.bench $(BENCH)

# JupyterLab on the course; prints the URL to open (as root too, as in containers). HOST=0.0.0.0 to
# reach it from outside a container.
lab: $(INSTALLED)
	@$(PY) -m book.learner.lab --host $(HOST)

serve:
	@test -f _build/html/index.html || { echo "error: the site is not built yet: run make book" >&2; exit 1; }
	@echo "Serving the site on http://$(HOST):$(PORT)/ (Ctrl-C stops)"
	$(PYTHON) -m http.server $(PORT) --bind $(HOST) --directory _build/html

# Copy an exercise into workspace/, where you work on it: make start EX=01 (or EX=all)
start: $(INSTALLED)
	@test -n "$(EX)" || { echo 'error: say which exercise: make start EX=01 (or EX=all)' >&2; exit 2; }
	@$(PY) -m book start $(EX)

# Grade your copy in workspace/: make grade EX=01 (hidden checks and hints; exit 0 = full marks)
grade: $(INSTALLED)
	@test -n "$(EX)" || { echo 'error: say which exercise: make grade EX=01' >&2; exit 2; }
	@$(PY) -m book grade $(EX)

watch: $(INSTALLED)
	@test -n "$(EX)" || { echo 'error: say which exercise: make watch EX=01' >&2; exit 2; }
	@$(PY) -m book watch $(EX)

progress: $(INSTALLED)
	@$(PY) -m book progress

release: $(INSTALLED)
	$(PY) -m book release

# Re-run notebooks so stored outputs are fresh: make execute NB="chapters/01-typed-aliases.ipynb"
execute: $(INSTALLED)
	@test -n "$(NB)" || { echo 'error: say which notebooks: make execute NB="chapters/00-in-process.ipynb"' >&2; exit 2; }
	$(PY) -m book execute $(NB)

# Refresh the transitive pins from the current venv (after changing requirements.txt).
constraints: $(INSTALLED)
	$(PY) -m pip freeze --all --exclude-editable | grep -v -E '^(pip|setuptools|fastapi-di-course)==' > constraints.txt

clean:
	rm -rf _build
