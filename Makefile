# Two commands do everything on a fresh clone: `make run` and `make test`.
# Every target first makes sure .venv exists and matches constraints.txt (a no-op when it does).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LOCK   := constraints.txt
STAMP  := $(VENV)/.installed-stamp

# Offline MNIST mirror: use ../shared/data when it is there and nothing else was chosen.
MIRROR_DEFAULT := $(abspath $(wildcard ../shared/data))
export LABUTILS_DATA_MIRROR ?= $(MIRROR_DEFAULT)
# Batch runs (papermill, nbval) show no progress bars, so stored outputs stay stable.
export LABUTILS_PROGRESS ?= 0
export PYTHONHASHSEED := 0

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --ignore=notebooks/05_assignment.ipynb --ignore=notebooks/06_assignment_mnist.ipynb \
               -p no:cacheprovider
# Threshold tests judge what nbval's run of the lessons printed (tests/conftest.py): they run in
# the same pytest session, after the notebooks, so each lesson is executed once. Unit runs
# deselect them (they would have nothing to read).
EXECUTED_TESTS := $(wildcard tests/test_executed_lessons.py tests/instructor/test_executed_report.py \
                            tests/instructor/test_executed_mnist_budget.py)
UNIT_FLAGS := -m "not executed_lessons"
# What `make nbval` checks; e.g. `make nbval NBVAL_PATHS=notebooks/02_optimizers.ipynb`.
NBVAL_PATHS ?= notebooks $(EXECUTED_TESTS)

.PHONY: help setup run test unit nbval lint lab badges images export assignment release bench lock clean-venv

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# A new .venv is first asked whether pip accepts this Python (requires-python in pyproject.toml);
# when it does not, the new .venv is removed again so that another PYTHON can start afresh.
$(STAMP): $(LOCK) pyproject.toml
	@test -x $(PY) || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet \
	    --disable-pip-version-check --dry-run --no-deps -e . ; } || { rm -rf $(VENV); \
	    echo "No $(VENV) made with PYTHON=$(PYTHON) (see the error above). The course needs a" \
	         "Python that pyproject.toml's requires-python accepts, with venv; pick one with" \
	         "e.g. make setup PYTHON=python3.12" >&2; exit 1; }
	@echo "Installing labutils and the pinned course environment into $(VENV) (first time: a few minutes)..."
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(LOCK) -e ".[dev]" || { \
	    echo "Installing into $(VENV) failed (see above). If it was made with another Python" \
	         "than the course supports, start afresh: make clean-venv setup PYTHON=python3.12" >&2; \
	    exit 1; }
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course .venv)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP)  ## Create .venv, install the pinned packages and register the kernel.

run: $(STAMP)  ## Execute every notebook in order with papermill (outputs stored in place).
	$(PY) -m labutils run

unit: $(STAMP)  ## Unit tests only.
	$(PY) -m pytest $(UNIT_FLAGS) tests

nbval: $(STAMP)  ## Re-execute the notebooks (or NBVAL_PATHS=...) and compare with their stored outputs.
	$(PY) -m pytest $(NBVAL_FLAGS) $(NBVAL_PATHS)

test: $(STAMP)  ## Unit tests, then nbval over every notebook and the lessons' thresholds.
	$(PY) -m pytest $(UNIT_FLAGS) tests
	$(PY) -m pytest $(NBVAL_FLAGS) notebooks $(EXECUTED_TESTS)

lint: $(STAMP)  ## ruff over the package, tests, benchmarks and notebooks.
	$(PY) -m ruff check .

lab: $(STAMP)  ## Open JupyterLab on the course.
	LABUTILS_PROGRESS=1 $(VENV)/bin/jupyter lab notebooks

badges: $(STAMP)  ## Rewrite every Colab badge and setup cell from [tool.labutils] in pyproject.toml.
	$(PY) -m labutils.instructor badges

images: $(STAMP)  ## Regenerate the figures in images/.
	$(PY) -m labutils.instructor images

export: $(STAMP)  ## Write the assignment (or NOTEBOOK=...) as HTML for hand-in; PDF if LaTeX exists.
	$(PY) -m labutils export $(NOTEBOOK)

assignment: $(STAMP)  ## Regenerate notebooks/05_assignment.ipynb from its instructor source.
	$(PY) -m labutils.instructor assignment

release: $(STAMP)  ## Build the student repository: make release [DIR=build/student] [REPORT=1].
	$(PY) -m labutils.instructor release --to $(or $(DIR),build/student) --replace $(if $(REPORT),--with-report,)

bench: $(STAMP)  ## Run the benchmarks and write benchmarks/results.md.
	$(PY) -m benchmarks

# Pins what this Python installed and keeps the pins of packages it does not install (other
# supported Pythons need them): run it once per supported Python, e.g. in a clone with
# `make lock PYTHON=python3.12`. pip is the venv's own; labutils is this project.
lock: $(STAMP)  ## Re-pin constraints.txt from .venv (keeps pins other Pythons need).
	@$(PY) -m pip freeze --all --exclude-editable | grep -viE '^(pip|labutils)==' > $(LOCK).here
	@{ sed '/^[^#]/,$$d' $(LOCK); \
	   awk -F'==' 'function key(s) { s = tolower(s); gsub(/[-_.]+/, "-", s); return s } \
	       NR == FNR { here[key($$1)] = $$0; next } \
	       /^[^#]/ { k = key($$1); if (k in here) { print here[k]; delete here[k] } else print } \
	       END { for (k in here) print here[k] }' $(LOCK).here $(LOCK) \
	   | awk -F'==' '{ print tolower($$1) "\t" $$0 }' | LC_ALL=C sort | cut -f2-; } > $(LOCK).new
	@rm $(LOCK).here && mv $(LOCK).new $(LOCK)

clean-venv:  ## Remove .venv (the next command reinstalls it).
	rm -rf $(VENV)

# The course website (site/, issue 22): Sphinx tools of its own in $(SITE_VENV), pinned by
# site/constraints.txt (students never need them). Built from the STUDENT release: here, in the
# instructor repository, a release built into $(SITE_RELEASE) first; in the student repository,
# the repository itself. Executes no notebook (pages show the stored outputs).
SITE_VENV    ?= build/site-venv
SITE_STAMP   := $(SITE_VENV)/.installed-stamp
SITE_RELEASE := build/site-release
.PHONY: site

$(SITE_STAMP): site/constraints.txt site/requirements.txt
	@test -x $(SITE_VENV)/bin/python || $(PYTHON) -m venv $(SITE_VENV)
	env -u PYTHONPATH $(SITE_VENV)/bin/python -m pip install --quiet --no-compile \
	    --disable-pip-version-check -c site/constraints.txt -r site/requirements.txt
	@touch $(SITE_STAMP)

site: $(SITE_STAMP) $(if $(wildcard labutils/instructor),$(STAMP))  ## Build the course website (build/site/) from the student release.
	@if [ -d labutils/instructor ]; then \
	    $(MAKE) --no-print-directory release DIR=$(SITE_RELEASE) >/dev/null \
	    && $(SITE_VENV)/bin/python site/build.py --release $(SITE_RELEASE) --to build/site; \
	else $(SITE_VENV)/bin/python site/build.py --release . --to build/site; fi
