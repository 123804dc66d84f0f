# Every target bootstraps .venv from the requirements files on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test demo load

include mk/infra.mk
-include mk/bench.mk

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(STAMP)

# One worker per core, each taking whole test files (a file's fixtures and servers stay together).
test: $(STAMP)
	$(PY) -m pytest -n auto --dist loadfile

demo: $(STAMP)
	$(PY) -m tools.demo

# The load scenario alone (tests/test_load.py runs it too): figures to docs/load.md.
load: $(STAMP)
	$(PY) -m tools.loadrun 2000
