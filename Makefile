# Setup and everyday tasks. `make test` and `make run` work on a fresh machine: they create .venv,
# install torch==2.13.0 first (the CPU build), then flowkit and every built-in plugin.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.flowkit-installed
PLUGINS := $(wildcard plugins/*/pyproject.toml)
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(PLUGINS))
TORCH_PIN := torch==2.13.0
PYTEST_ARGS ?=

.PHONY: setup test test-fast run lint typecheck docs bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIN)
	$(BIN)/python -m pip install --quiet -e ".[dev,docs]" $(addprefix -e ,$(PLUGIN_DIRS))
	touch $(STAMP)

# two test workers with one torch thread each use both cores without oversubscribing them
TEST_ENV := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

## the whole test suite, slow end-to-end runs included (what CI runs)
test: setup
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

## the quick inner loop: everything but the slow end-to-end runs
test-fast: setup
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

## train, sample and evaluate the shipped checkerboard example into runs/checkerboard
run: setup
	$(BIN)/flowkit run examples/checkerboard.json --output runs/checkerboard --overwrite

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

docs: setup
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) site runs .pytest_cache .mypy_cache .ruff_cache
