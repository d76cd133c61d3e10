# The two set-up commands: `make run` (product on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --constraint constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint browser clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "NewRetail needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) --editable .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) --editable '.[dev,spark]'
	@touch $@

run: $(VENV)/.installed
	$(BIN)/newretail demo --host $(HOST) --port $(PORT)

browser:
	bash scripts/install-browser.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(VENV)/.installed-dev browser lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .newretail .pytest_cache .mypy_cache .ruff_cache
