# The two commands that matter: `make demo` and `make test` (see README.md).
#
#   make test          lint + every pytest suite in one run + ansible-test sanity + ansible-test units
#   make lint          ruff and mypy --strict on the Python core
#   make pytest        pycore/tests, tests/unit and tests/integration in one pytest run
#   make unit          tests/unit with plain pytest;   make units: the same under ansible-test units
#   make integration   tests/integration (real ansible-playbook runs against the sandbox)
#   make sanity        ansible-test sanity on a copy of the collection (offline, no ignore file)
#   make ansible-integration  ansible-test integration --local: every target in tests/integration/targets
#   make test-lower-bounds  the core's tests with the lowest httpx and pydantic pycore/pyproject.toml allows
#   make test-matrix   sanity, units and a module smoke on every supported ansible-core and Python
#   make demo          the Heroku Postgres guide, checked step by step, on a fresh sandbox (postgres engine)
#   make bench         timings: demo, follower replication, modules vs Heroku CLI, slow-query log (prints only)
#   make soak-failover failovers under a writer on real PostgreSQL, with and without write fencing (figures)
SHELL := /bin/bash
# The system Python when there is one: Debian's python3.11 runs our pure-Python parts (the slow-query
# parser most) about 17 % faster than a pyenv build on PATH before it (pycore/bench/RESULTS.md).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV ?= .venv
PY := $(VENV)/bin/python
CACHE ?= .cache
HEROKU_CLI_DIR := $(CACHE)/heroku-cli
HEROKU_CLI := $(HEROKU_CLI_DIR)/node_modules/.bin/heroku
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist worksteal)
SANITY_ARGS ?=
UNITS_ARGS ?=
INTEGRATION_ARGS ?=
# herokuops.postgres is this checkout, through collections/ (a symlink; ansible.cfg points there too).
COLLECTIONS := $(CURDIR)/collections
PYTEST := HEROKU_CLI=$(abspath $(HEROKU_CLI)) ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) \
	$(PY) -m pytest -q -p no:cacheprovider --rootdir $(CURDIR)

.PHONY: test test-matrix lint pytest unit units integration ansible-integration sanity shellcheck pgbadger gnu-time venv heroku-cli clean demo bench test-lower-bounds test-live

venv: $(VENV)/.installed

$(VENV)/.installed: pycore/pyproject.toml pycore/sandbox/pyproject.toml tests/requirements.txt tests/unit/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e 'pycore[report,postgres]' -e pycore/sandbox -r tests/requirements.txt \
	  -r tests/unit/requirements.txt
	touch $@

# The official Heroku CLI (npm package `heroku`, v11), for the conformance tests.
heroku-cli: $(HEROKU_CLI)

$(HEROKU_CLI):
	mkdir -p $(HEROKU_CLI_DIR)
	npm install --prefix $(HEROKU_CLI_DIR) --no-audit --no-fund --loglevel=error heroku@11 >/dev/null
	test -x $@

# Debian tools some suites need, installed when we can (root with apt-get, as in CI) and reported
# otherwise: ansible-test skips its shellcheck test without shellcheck, the pgBadger cross-check and
# benchmark need pgbadger, the benchmarks read peak memory with GNU time.
shellcheck:
	@tests/apt-tools.sh "shellcheck:shellcheck:ansible-test will skip its shellcheck test"

pgbadger:
	@tests/apt-tools.sh "pgbadger:pgbadger:the pgBadger cross-check and comparison will not run"

gnu-time:
	@tests/apt-tools.sh "/usr/bin/time:time:the slow-query benchmark will not report peak memory"

lint: venv
	$(VENV)/bin/ruff check pycore
	$(VENV)/bin/mypy --strict pycore/src/herokupg
	cd pycore/sandbox && $(abspath $(VENV))/bin/mypy --strict src/herokupg_sandbox

# Every suite in one run. The arguments are the parent directories on purpose: then no conftest.py
# is loaded before pytest reaches its directory, so tests that `from conftest import ...`
# (tests/integration, pycore/tests/conformance) each get their own directory's conftest.
# PYTEST_WORKERS processes (pytest-xdist; worksteal evens out the few long integration tests):
# most tests wait on subprocesses and sandboxes, so two workers use both cores. 0: one process.
pytest: venv heroku-cli pgbadger
	$(PYTEST) $(XDIST) pycore tests $(PYTEST_ARGS)

unit: venv
	$(PYTEST) tests/unit $(PYTEST_ARGS)

integration: venv heroku-cli
	$(PYTEST) tests/integration $(PYTEST_ARGS)

sanity: venv shellcheck
	VENV=$(VENV) tests/sanity/run-sanity.sh $(SANITY_ARGS)

units: venv
	VENV=$(VENV) tests/sanity/run-units.sh $(UNITS_ARGS)

# ansible-test integration --local on a copy of the collection: each module's target against a
# sandbox of its own (memory engine; outliers_info on the postgres engine), none left running.
# INTEGRATION_ARGS go to ansible-test (e.g. a target name, or -v).
ansible-integration: venv
	VENV=$(VENV) tests/sanity/run-integration.sh $(INTEGRATION_ARGS)

test: lint pytest sanity units test-lower-bounds ansible-integration

# herokupg's lower bounds (pycore/pyproject.toml: httpx>=X, pydantic>=Y), tested: a venv of its own
# with exactly X and Y (pip constraints made from pyproject) runs the core's tests, with the sandbox
# distribution they run against (pycore/sandbox, the same constraints)
# (the PostgreSQL-engine and Heroku CLI suites do not touch either library differently).
LOWER_VENV ?= $(CACHE)/lower-bounds-venv
LOWEST := import re, tomllib; deps = tomllib.load(open("pycore/pyproject.toml", "rb"))["project"]["dependencies"]; \
	print("\n".join(re.sub(r">=([^,]+).*", r"==\1", d) for d in deps))
INSTALLED := import sys, importlib.metadata as m; from packaging.version import Version as V; \
	pins = [line.split("==") for line in open(sys.argv[1]).read().split()]; \
	print("installed:", *(f"{n}=={m.version(n)}" for n, _ in pins)); \
	sys.exit(any(V(m.version(n)) != V(v) for n, v in pins))
test-lower-bounds:
	test -x $(LOWER_VENV)/bin/python || $(PYTHON) -m venv $(LOWER_VENV)
	$(PYTHON) -c '$(LOWEST)' > $(LOWER_VENV)/lowest.txt
	$(LOWER_VENV)/bin/python -m pip install -q -c $(LOWER_VENV)/lowest.txt -e 'pycore[report,postgres]' \
	  -e pycore/sandbox 'pytest>=8' 'pytest-timeout>=2.3' 'pytest-xdist>=3.5' cryptography 'pglast>=7'
	$(LOWER_VENV)/bin/python -c '$(INSTALLED)' $(LOWER_VENV)/lowest.txt
	$(LOWER_VENV)/bin/python -m pytest -q -p no:cacheprovider --rootdir $(CURDIR) $(XDIST) pycore/tests \
	  -m 'not postgres' --ignore=pycore/tests/conformance $(PYTEST_ARGS)

# Every ansible-core the collection supports, on this machine's Pythons (tests/sanity/run-matrix.sh;
# about 20-30 minutes, so not part of make test). MATRIX="2.16:3.11 ..." picks the cells.
test-matrix: shellcheck
	tests/sanity/run-matrix.sh

# Against real Heroku (not part of `make test`): HEROKU_API_KEY=... make test-live HEROKU_LIVE_APP=myapp
# runs the read-only set; HEROKU_LIVE_WRITE=backup|all adds the write set, its cost printed first.
# Without a key or an app every test is skipped and the summary says why.
HEROKU_LIVE_APP ?=
HEROKU_LIVE_DATABASE ?=
HEROKU_LIVE_WRITE ?=
test-live: venv
	HEROKU_LIVE=1 HEROKU_LIVE_APP="$(HEROKU_LIVE_APP)" HEROKU_LIVE_DATABASE="$(HEROKU_LIVE_DATABASE)" \
	  HEROKU_LIVE_WRITE="$(HEROKU_LIVE_WRITE)" $(PYTEST) -rs tests/live $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(CACHE) tests/output

# --- release: tools venv, docs site, packages (make tools-venv | docs | package) -----------------
# antsibull-changelog, antsibull-docs (+ Sphinx) and ansible-builder live in their own venv, made on
# demand, so that .venv stays lean and their pins never move the test tools' (docs/tools-requirements.txt).
TOOLS_VENV ?= $(CACHE)/tools-venv
TOOLS := $(abspath $(TOOLS_VENV))/bin
DOCS_DIR ?= $(CACHE)/docs
DIST ?= dist

.PHONY: tools-venv docs package rate-limit-200 soak-failover

tools-venv: $(TOOLS_VENV)/.installed

$(TOOLS_VENV)/.installed: docs/tools-requirements.txt
	test -x $(TOOLS)/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS)/python -m pip install -q -r docs/tools-requirements.txt
	touch $@

# The docs site: antsibull-docs renders every module, role and filter from its own documentation
# (RST), Sphinx makes HTML of it in $(DOCS_DIR)/build/html. No intersphinx: only package registries
# are reachable here, so links into docs.ansible.com stay plain text.
docs: tools-venv
	rm -rf $(DOCS_DIR) && mkdir -p $(DOCS_DIR) && chmod 700 $(DOCS_DIR)
	PATH=$(TOOLS):$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(TOOLS)/antsibull-docs sphinx-init \
	  --use-current --fail-on-error --lenient --dest-dir $(DOCS_DIR) --index-rst-source docs/index.rst \
	  --project herokuops.postgres --title herokuops.postgres --copyright 'herokuops maintainers' \
	  herokuops.postgres >/dev/null
	echo 'intersphinx_mapping = {}' >> $(DOCS_DIR)/conf.py
	PATH=$(TOOLS):$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(DOCS_DIR)/build.sh >$(DOCS_DIR)/build.log 2>&1 \
	  || { tail -40 $(DOCS_DIR)/build.log; exit 1; }
	@echo "docs: $(DOCS_DIR)/build/html/index.html"

# dist/herokuops-postgres-<version>.tar.gz (galaxy.yml's build_ignore keeps pycore, venvs and caches
# out), dist/herokupg-<version>-py3-none-any.whl (the core: no sandbox code) and
# dist/herokupg_sandbox-<version>-py3-none-any.whl (the emulator, pycore/sandbox), each built from a
# clean copy of its project so that no stale build/ or egg-info leaks into the wheel.
package: venv
	mkdir -p $(DIST)
	rm -f $(DIST)/herokuops-postgres-*.tar.gz $(DIST)/herokupg-*.whl $(DIST)/herokupg_sandbox-*.whl
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(DIST) .
	for project in pycore pycore/sandbox; do \
	  tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT \
	  && tar -C $$project --exclude=__pycache__ --exclude='*.egg-info' -cf - pyproject.toml README.md src \
	     | tar -C "$$tmp" -xf - \
	  && $(PY) -m pip wheel -q --no-deps "$$tmp" -w $(DIST) && rm -rf "$$tmp" || exit 1; \
	done
	ls $(DIST)/herokuops-postgres-*.tar.gz $(DIST)/herokupg-*-py3-none-any.whl \
	  $(DIST)/herokupg_sandbox-*-py3-none-any.whl

# `make demo` and `make bench`: ansible-playbook finds this checkout as herokuops.postgres through
# collections/. The demo's sandbox keeps its state in DEMO_STATE_DIR (fresh each run; the postgres
# user must reach it, so not under /root).
DEMO_STATE_DIR ?= $(abspath $(CACHE))/demo
BENCH_ARGS ?=

demo: venv
	VENV=$(abspath $(VENV)) DEMO_STATE_DIR=$(DEMO_STATE_DIR) ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) \
	  playbooks/run-demo.sh

# bench: demo_bench.py (demo and follower replication, postgres engine), ops_bench.py (our modules vs the
# Heroku CLI: requests, wall time, workflow, polling; memory engine) and slowlog_bench.py (slow-query
# report, JSON and the HTML page, vs pgBadger on 100 MB of Heroku log from a real pgbench run, kept in
# .cache/bench; and our peak memory on a 300 MB log line).
# import_costs.py: what a module run pays for httpx and pydantic, step by step (CPU ms, -X importtime).
# OPS_BENCH_ARGS=--quick for a smoke run. Results: pycore/bench/RESULTS.md. Both module benchmarks
# byte-compile herokupg first, as pip does when it installs the wheel (benchlib.compile_core).
OPS_BENCH_ARGS ?=
SLOWLOG_BENCH_ARGS ?=
bench: venv heroku-cli pgbadger gnu-time
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(PY) pycore/bench/demo_bench.py $(BENCH_ARGS)
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) HEROKU_CLI=$(abspath $(HEROKU_CLI)) \
	  $(PY) pycore/bench/ops_bench.py $(OPS_BENCH_ARGS)
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(PY) pycore/bench/import_costs.py
	$(PY) pycore/bench/slowlog_bench.py $(SLOWLOG_BENCH_ARGS)

# The rate-limit run at the issue's scale: 200 apps, 10 forks, a bucket the run must exceed (about 8 min;
# `make test` runs the same test with 20 apps).
rate-limit-200: venv
	HEROKUPG_RATE_LIMIT_APPS=200 HEROKUPG_RATE_LIMIT_REFILL=300 $(PYTEST) -s tests/integration/test_rate_limit.py

# Failovers under a writer on real PostgreSQL (postgres engine): 20 with write fencing, 5 without,
# one line each and a summary (rows acknowledged, lost, writes refused and for how long); exits 1 if
# a fenced run lost a row. About 6 minutes; `make test` runs two fenced ones.
SOAK_ARGS ?=
soak-failover: venv
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(PY) tests/integration/failover_soak.py $(SOAK_ARGS)
