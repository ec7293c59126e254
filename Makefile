# One command each: `make test` and `make demo` create .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo bench bench-ocpp plots clean

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
	$(BIN)/panelpilot demo

bench: $(STAMP)
	$(BIN)/pytest bench --benchmark-only --benchmark-columns=min,median,max,rounds -p no:cacheprovider -o addopts=""

bench-ocpp: $(STAMP)
	$(BIN)/python bench/bench_ocpp_load.py --chargers 500 --rounds 5

# The simulator's plots shown in docs/simulator.md (about five minutes: home-pcs is a day of
# 1 s steps with batteries, taken one step at a time).
PLOTS := seed-day shared-panel home-pcs
plots: $(STAMP)
	mkdir -p docs/images
	for s in $(PLOTS); do \
	  $(BIN)/panelpilot sim examples/scenarios/$$s.yaml --quiet --plot docs/images/sim-$$s.png \
	    > /dev/null || exit 1; \
	done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
