# make run   — set up and start the app on an embedded SQLite database with demo data
#              (make run PORT=8600 for another port)
# make test  — set up and run the whole test suite
# make shell — a shell with .venv/bin first on PATH, so `incubator` is at hand
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB     ?= incubator.db
PORT   ?= 8501
RUN_DB := INCUBATOR_DATABASE_URL=sqlite:///$(DB)
# Byte-compile the project's own modules, so that a command does not compile them at each
# start (an environment with PYTHONDONTWRITEBYTECODE never caches them): ~0.15 s per command.
COMPILE := $(BIN)/python -m compileall -q incubator ui fixtures > /dev/null

.PHONY: run test lint bench install shell clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(COMPILE)
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@$(COMPILE)
	@if [ ! -f "$(DB)" ]; then \
		$(RUN_DB) $(BIN)/incubator init && $(RUN_DB) $(BIN)/incubator demo --users; \
	else \
		$(RUN_DB) $(BIN)/incubator init; \
	fi
	$(RUN_DB) $(BIN)/incubator ui --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy incubator

bench: $(STAMP)
	@$(COMPILE)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/import_lock.py

shell: $(STAMP)
	@echo "$(BIN) is first on PATH in this shell (incubator, python, pytest); 'exit' leaves it"
	@VIRTUAL_ENV="$(CURDIR)/$(VENV)" PATH="$(CURDIR)/$(BIN):$$PATH" $${SHELL:-/bin/sh}

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .mypy_cache
