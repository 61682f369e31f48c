# Regie — the two commands a new user needs are `make demo` and `make test`.
# Both set everything up on first use: a virtual environment with the project
# and its dev tools, and the node packages used as independent test peers.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NODE_DIR := tests/interop/node
PACKAGES := regie regie_protocol issuer wallet verifier audit

.PHONY: install demo test lint typecheck unit bench soak clean

install: $(VENV)/.installed $(NODE_DIR)/node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Regie needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The node peers (jose, @sd-jwt/*, Spectral) are only needed by the tests.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm not found: the node interop tests will be skipped (under CI=true they fail)"; \
	fi

demo: $(VENV)/.installed
	$(BIN)/regie demo

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy --strict $(PACKAGES)

unit: install
	$(BIN)/pytest --cov --cov-report=term

test: lint typecheck unit

# The HTTP read bench drives the servers with the autocannon load generator (npm).
BENCH_NODE_DIR := bench/node

$(BENCH_NODE_DIR)/node_modules/.installed: $(BENCH_NODE_DIR)/package.json $(BENCH_NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(BENCH_NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm not found: the HTTP read benchmark will be skipped"; \
	fi

bench: $(VENV)/.installed $(BENCH_NODE_DIR)/node_modules/.installed
	$(BIN)/python -m bench

# Long runs (e.g. 200 kill -9 per backend; REGIE_SOAK_KILLS sets the count), kept out of `make test`.
soak: install
	$(BIN)/pytest -m slow -s tests

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules $(BENCH_NODE_DIR)/node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage
