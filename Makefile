# heartai developer commands. `make test` is the project's test command (README, CI).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU machines: pin the CPU build of torch and the tested versions. With a GPU: make CONSTRAINTS= test
CONSTRAINTS ?= constraints-cpu.txt
PIP := $(BIN)/python -m pip
CFLAG := $(if $(CONSTRAINTS),-c $(CONSTRAINTS),)
JOBS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install test test-slow check export clean readme settings outputs hooks bench demo

help:  ## list the targets with what they do
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z_-]+):[^#]*## */\1\t/' | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'

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

export: install  ## notebooks -> heartai/, clean notebooks (outputs kept only in tutorials and index), regenerate README.md and settings.ini
	$(BIN)/nbdev-export
	$(BIN)/python tools/clean_nbs.py
	$(BIN)/python tools/make_readme.py
	$(BIN)/python tools/make_settings.py

check: install  ## fail if notebooks are not clean, heartai/ is not exported from them, or README.md / settings.ini are stale
	bash tools/check_sync.sh $(BIN)

readme: install  ## regenerate README.md (and its images in nbs/images) from nbs/index.ipynb
	$(BIN)/python tools/make_readme.py

settings: install  ## regenerate settings.ini from pyproject.toml (the source of the configuration)
	$(BIN)/python tools/make_settings.py

# e.g. make outputs OUTPUTS_ARGS="--only 91 --timeout 3600"
outputs: install  ## rerun the tutorials and index on the real data (../shared/data) to regenerate their outputs, then README.md (an hour or more)
	$(BIN)/python tools/run_outputs.py $(OUTPUTS_ARGS)

hooks:  ## install the git pre-commit hook tools/pre-commit (clean/export/README/settings checks before each commit)
	bash tools/pre-commit --install

bench: install  ## run every benchmark on the real data (an hour or more on 2 cores; replaces the files in bench/results/), then SUMMARY.md
	$(BIN)/python bench/bench_data.py
	$(BIN)/python bench/bench_loader.py --overwrite
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_predict.py --overwrite
	$(BIN)/python bench/bench_onnx.py --overwrite
	$(BIN)/python bench/bench_startup.py --before b866eab --overwrite
	$(BIN)/python bench/summarize.py

demo: install  ## the whole workflow offline on synthetic data in a few minutes, into ./heartai-demo (DEMO_ARGS=--force to redo it)
	$(BIN)/heartai demo $(DEMO_ARGS)

clean:  ## remove pytest's cache and nbdev's build folders
	rm -rf .pytest_cache _proc _docs
