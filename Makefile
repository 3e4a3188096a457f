# The two commands of the README:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# Recorded real data (never committed): ../shared/data beside the checkout, unless set.
TRACKER_DATA_DIR ?= $(abspath $(wildcard ../shared/data))
export TRACKER_DATA_DIR
# The real PostgreSQL the storage tests also run on (empty to run on SQLite only).
TRACKER_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TRACKER_TEST_POSTGRES_URL

.PHONY: setup run test lint typecheck pytest clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: setup
	$(BIN)/tracker db upgrade
	$(BIN)/tracker --help

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy tracker dashboard bench

pytest: setup
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
