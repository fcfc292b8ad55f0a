# The two set-up commands: `make run` and `make test`. Each makes .venv on a fresh machine.
# `make bench` measures the WebSocket fan-out beside two peers (docs/performance.md);
# `make bench-settle` times starting and settling brackets of 64 to 1024 players;
# `make bench-landay` runs the LAN day: 32 live matches, 3,600 sockets, tournament room coalesced or not.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run test typecheck bench bench-landay bench-settle clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check .
	touch $@

$(TEST_STAMP): setup.cfg pyproject.toml tests/browser/package.json tests/browser/package-lock.json clients/python/pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check '.[test]'
	$(PY) -m pip install --quiet --disable-pip-version-check -e ./clients/python  # editable: tests/clients run the code in the tree
	# Debian's Chromium for tests/browser (Playwright cannot download a browser here)
	command -v chromium >/dev/null || (apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| { echo "make test needs Chromium for the browser tests: apt-get install chromium (as root)"; exit 1; }
	# Debian's redis-server for tests/broker (a real Redis between the nodes, started by the tests)
	command -v redis-server >/dev/null || (apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) \
		|| { echo "make test needs redis-server for the broker tests: apt-get install redis-server (as root)"; exit 1; }
	# brackets-viewer.js for tests/browser/test_brackets_viewer.py, exactly as package-lock.json pins it
	command -v npm >/dev/null || (apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm) \
		|| { echo "make test needs npm for the browser tests: apt-get install npm (as root)"; exit 1; }
	npm ci --prefix tests/browser --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@ $(RUN_STAMP)

$(BENCH_STAMP): setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check '.[bench]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(PY) server.py $(ARGS)

test: $(TEST_STAMP)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy
	$(PY) -m pytest $(PYTEST_ARGS)

typecheck: $(TEST_STAMP)
	$(PY) -m mypy

bench: $(BENCH_STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

bench-landay: $(BENCH_STAMP)
	$(PY) -m bench.landay $(LANDAY_ARGS)

bench-settle: $(RUN_STAMP)
	$(PY) -m bench.settle $(SETTLE_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
