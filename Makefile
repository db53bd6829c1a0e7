# The two commands that matter: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CACHE ?= .cache
HEROKU_CLI_DIR := $(CACHE)/heroku-cli
HEROKU_CLI := $(HEROKU_CLI_DIR)/node_modules/.bin/heroku
PYTEST_ARGS ?=

.PHONY: test lint unit venv heroku-cli clean

venv: $(VENV)/.installed

$(VENV)/.installed: pycore/pyproject.toml tests/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e 'pycore[sandbox]' -r tests/requirements.txt
	touch $@

# The official Heroku CLI (npm package `heroku`, v11), for the conformance tests.
heroku-cli: $(HEROKU_CLI)

$(HEROKU_CLI):
	mkdir -p $(HEROKU_CLI_DIR)
	npm install --prefix $(HEROKU_CLI_DIR) --no-audit --no-fund --loglevel=error heroku@11 >/dev/null
	test -x $@

lint: venv
	$(VENV)/bin/ruff check pycore
	$(VENV)/bin/mypy --strict pycore/src/herokupg

test: venv heroku-cli lint
	HEROKU_CLI=$(abspath $(HEROKU_CLI)) $(PY) -m pytest -q -p no:cacheprovider pycore/tests $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(CACHE) tests/output
