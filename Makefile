# The two commands: `make serve` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.flowmon-installed
DEMO_DIR := data/demo
PORT ?= 5006

# Serve data/ when it holds real (non-synthetic) data, else the demo store.
SERVE_DIR = $(shell $(BIN)/python -c "import flowmon.store as s; print('data' if s.stored_rows('data','events') and not s.is_synthetic('data') else '$(DEMO_DIR)')" 2>/dev/null || echo $(DEMO_DIR))

.PHONY: setup serve test test-fast lint format bench demo clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(DEMO_DIR)/manifest.json: | $(STAMP)
	$(BIN)/flowmon demo --data-dir $(DEMO_DIR)

demo: $(STAMP)
	$(BIN)/flowmon demo --data-dir $(DEMO_DIR)

serve: $(STAMP) $(DEMO_DIR)/manifest.json
	$(BIN)/flowmon serve --data-dir $(SERVE_DIR) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not ui and not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests dashboards notebooks
	$(BIN)/ruff format --check src tests dashboards notebooks

format: $(STAMP)
	$(BIN)/ruff format src tests dashboards notebooks
	$(BIN)/ruff check --fix src tests dashboards notebooks

bench: $(STAMP)
	$(BIN)/flowmon bench

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache
