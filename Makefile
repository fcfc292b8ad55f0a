# The two set-up commands: `make run` and `make test`. Each makes .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed

.PHONY: run test typecheck clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check .
	touch $@

$(TEST_STAMP): setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check '.[test]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(PY) server.py $(ARGS)

test: $(TEST_STAMP)
	$(PY) -m mypy
	$(PY) -m pytest $(PYTEST_ARGS)

typecheck: $(TEST_STAMP)
	$(PY) -m mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
