# heartai developer commands. `make test` is the project's test command (README, CI).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU machines: pin the CPU build of torch and the tested versions. With a GPU: make CONSTRAINTS= test
CONSTRAINTS ?= constraints-cpu.txt
PIP := $(BIN)/python -m pip
CFLAG := $(if $(CONSTRAINTS),-c $(CONSTRAINTS),)
JOBS ?= 2

.PHONY: install test test-slow check export clean readme bench demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py $(CONSTRAINTS)
	$(PIP) install $(CFLAG) -e ".[dev,tune]"
	touch $@

install: $(VENV)/.installed  ## create .venv if missing and install heartai with its dev and tune extras

test: install  ## run every notebook (slow cells skipped) and the tests in tests/
	$(BIN)/pytest -n $(JOBS) tests

test-slow: install  ## also run the `#| slow` cells and slow tests (real data in ../shared/data, minutes)
	$(BIN)/pytest -n $(JOBS) --slow tests

export: install  ## notebooks -> heartai/, then clean notebooks and regenerate README.md
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean
	$(BIN)/python tools/make_readme.py

check: install  ## fail if notebooks are not clean, heartai/ is not exported from them, or README.md is stale
	bash tools/check_sync.sh $(BIN)

readme: install
	$(BIN)/python tools/make_readme.py

demo: install  ## the whole workflow offline on synthetic data in a few minutes, into ./heartai-demo (DEMO_ARGS=--force to redo it)
	$(BIN)/heartai demo $(DEMO_ARGS)

clean:
	rm -rf .pytest_cache _proc _docs
