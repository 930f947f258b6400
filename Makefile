# The two commands: `make run` and `make test`. Each does all its own set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format typecheck bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ echo "cannot create a venv: install python3-venv (sudo apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The offline demo collects from files that `publisher init --demo` writes under DATA_DIR.
DEMO_SOURCES := $${PUBLISHER_SOURCES_FILE:-$${PUBLISHER_DATA_DIR:-var}/demo-sources/sources.toml}

## run: set up, load Setagaya's data and the demo, serve on http://$(HOST):$(PORT)
## (make run PORT=8001 HOST=0.0.0.0; links follow them unless PUBLISHER_BASE_URL is set)
run: $(STAMP)
	@scripts/system-deps.sh run
	export PUBLISHER_SOURCES_FILE="$(DEMO_SOURCES)"; \
	$(BIN)/publisher init --demo --host $(HOST) --port $(PORT) && \
	exec $(BIN)/publisher serve --host $(HOST) --port $(PORT)

## test: set up and run every test (PostgreSQL too when PUBLISHER_TEST_DATABASE_URL is set)
test: $(STAMP)
	@scripts/system-deps.sh test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: every benchmark in bench/, each prints its figures
bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## clean: remove the venv and var/ (the SQLite database, slides, demo files, screen URLs)
clean:
	rm -rf $(VENV) var .pytest_cache
