# The two commands of the README:
#   make lab    create .venv, install, fetch weights/data, open JupyterLab
#   make test   create .venv if needed, run lint (ruff + mypy), the unit tests and nbval on every notebook
# Other targets: make fetch | lint | unit | nbval | demo | assignments | bench | browser-test | hub-test | clean

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install
LAB    := $(VENV)/.stamp-lab

# Offline data: use ../shared/mirror when it exists (CI and the course machines have it).
ifneq ($(wildcard ../shared/mirror/MANIFEST.json),)
export FACELIB_MIRROR ?= $(abspath ../shared/mirror)
endif
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1

ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
# Tests run in parallel (pytest-xdist): one worker per core, at most 4; a test file (a notebook
# for nbval) stays on one worker, so its module fixtures and its kernel are shared as before.
# JOBS=1 runs them in one process, e.g. to read a failure's output in order.
JOBS   ?= auto
xdist   = $(if $(filter 1,$(JOBS)),,-n $(JOBS) --maxprocesses=4 --dist $(1))
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: lab test lint unit nbval fetch demo assignments bench browser-test hub-test clean venv

venv: $(LAB)

# Installed once; redone only when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	@touch $@

# The project's JupyterLab settings (no news pop-up, widget state saved with the notebook) and
# the quiet kernel spec, installed into the venv once (tools/labsetup.py says what and why).
$(LAB): $(STAMP) tools/labsetup.py tools/lab/overrides.json
	@$(BIN)/python tools/labsetup.py
	@touch $@

fetch: $(LAB)
	$(BIN)/facelib fetch --all

lab: fetch
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_welcome.ipynb

test: fetch
	@$(MAKE) --no-print-directory lint unit nbval
	@if command -v chromium >/dev/null 2>&1; then $(MAKE) --no-print-directory browser-test; \
	  else echo "make test: chromium not installed, browser test not run (apt-get install chromium; make browser-test)"; fi

# Lint and import order (ruff), types (mypy): configured in pyproject.toml.
lint: $(STAMP)
	$(BIN)/python -m ruff check facelib tests bench tools
	$(BIN)/python -m mypy

# pytest exits 5 when it collects nothing: that is a failure here, with a clear message.
unit: $(STAMP)
	@$(BIN)/python -m pytest tests/ --ignore=tests/browser --ignore=tests/hub -q $(call xdist,loadfile); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make unit: pytest collected no tests in tests/"; exit 1; fi; exit $$rc

nbval: $(STAMP)
	@FACELIB_FAST=1 $(BIN)/python -m pytest $(NBVAL) notebooks/ -q $(call xdist,loadscope); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make nbval: no notebook cells collected in notebooks/"; exit 1; fi; exit $$rc

# Every lesson executed headless in full mode into build/html (a teacher's evening-before check).
demo: fetch
	$(BIN)/facelib classroom --out build/html

# The lessons' exercises as an nbgrader course (README, "For teachers"): build/assignments/ holds
# nbgrader_config.py, source/ (solutions between nbgrader's markers, graded test cells) and release/.
assignments: $(STAMP)
	$(BIN)/facelib assignments build --out build/assignments

# Every bench/*.py, one table in build/bench.md.
bench: fetch
	$(BIN)/python bench/run_all.py

# JupyterLab in headless Chromium (Debian's chromium, driven by Playwright; .ci/run installs it):
# lessons 05/06/07 with live widgets (run all, move a slider, re-open) and one `make demo` page
# typeset offline. One lab server for the whole run; screenshots in build/browser-*.png.
browser-test: fetch
	@FACELIB_FAST=1 $(BIN)/python -m pytest tests/browser -q -p no:cacheprovider --ignore=tests/browser/test_live_browser.py
	@# the webcam door starts its own Playwright (fake-camera Chromium): a process of its own
	@FACELIB_FAST=1 $(BIN)/python -m pytest tests/browser/test_live_browser.py -q -p no:cacheprovider

# A real JupyterHub for a class on localhost (deploy/one-server/jupyterhub_config.py): 8 students (Unix users,
# made and removed by the test; needs root and Node) sign up, log in, pull the lessons with nbgitpuller and run
# lesson 02 at once; prints the hub's start time, each student's peak memory and the wall time.
# build/hubenv (tools/hub_env.py): the system's Python with the hub's pins, the project venv's packages
# through a .pth, configurable-http-proxy from npm. HUB_STUDENTS=2 for a shorter run.
HUB_STUDENTS ?= 8
hub-test: fetch
	@$(BIN)/python tools/hub_env.py
	@FACELIB_HUB_STUDENTS=$(HUB_STUDENTS) $(BIN)/python -m pytest tests/hub -q -s -p no:cacheprovider -rs

clean:
	rm -rf build .pytest_cache
