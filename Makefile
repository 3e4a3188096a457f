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

# The case study on the embedded SQLite database, then the scheduler and the dashboard.
run: setup
	@if [ -n "$(TRACKER_DATA_DIR)" ]; then \
	  $(BIN)/tracker demo; \
	else \
	  echo "no recorded data (TRACKER_DATA_DIR): starting on an empty database"; \
	  $(BIN)/tracker db upgrade; \
	fi
	@echo "dashboard: http://localhost:8501   scheduler health: http://127.0.0.1:8502/health"
	@echo "Ctrl-C stops both."
	@$(BIN)/tracker run & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/tracker dashboard

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy tracker dashboard bench

# Two workers on the 2-core machines the project runs on; tests reading a demo database share
# one worker (--dist loadgroup), so each demo is built once. PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= auto
pytest: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=25

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
