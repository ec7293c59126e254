# One command each: `make test` and `make demo` create .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/panelpilot decide examples/shared-panel.yaml examples/shared-panel.jsonl --table

bench: $(STAMP)
	$(BIN)/pytest bench --benchmark-only --benchmark-columns=min,median,max,rounds -p no:cacheprovider -o addopts=""

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
