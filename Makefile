# Every target that runs Python bootstraps .venv from the requirements files on first use.
#
#   make test                          the whole test suite (what .ci/run calls), within 10 minutes on 2 cores
#   make test-fast                     the same without the slow tests (markers load, e2e, terraform,
#                                      package: the load run, Terraform, checkov, the Lambda zip)
#   make demo                          the main job on a local moto server
#   make package [ARCH=x86_64|arm64]   Lambda artifacts under build/<arch>/
#   make deploy  [ARCH=...] [TF_APPLY_ARGS=-auto-approve]
#                                      terraform init + apply against real AWS
#   make local-up / local-down [MOTO_PORT=5000]
#                                      the same stack on a moto server + a local worker
#   make bench [BENCH_ARGS=--quick]    this project against the download-everything baseline; then the
#              [BENCH_CATALOG_ARGS=]   catalog's cone search against a full scan of 1,000,000 rows
#   make load                          the 2,000-object load scenario, figures to docs/load.md
#   make checkov                       the Terraform stack's security scan
PYTHON ?= python3
TERRAFORM ?= terraform
ARCH ?= x86_64
MOTO_PORT ?= 5000
TF_APPLY_ARGS ?=
BENCH_ARGS ?=
BENCH_CATALOG_ARGS ?=

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The bench's own tools (SeaweedFS's `weed`, matplotlib), installed into .venv on first use
# and again whenever requirements-bench.txt changes.
BENCH_STAMP := $(VENV)/.bench-installed
# checkov pins boto3 and friends differently from requirements.txt: its own venv.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

.PHONY: venv test test-fast demo load package deploy local-up local-down bench checkov-venv checkov

$(STAMP): requirements.txt requirements-dev.txt requirements-catalog.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(STAMP)

# One worker per core, each taking whole test files (a file's fixtures and servers stay together)
# in collection order, where tests/conftest.py puts the slow files first (xdist's default order,
# the most tests first, would start the one-test end-to-end and load files last).
PYTEST_XDIST := -n auto --dist loadfile --no-loadscope-reorder
FAST := not load and not e2e and not terraform and not package

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_XDIST)

# The markers are registered in pyproject.toml; CI runs them all (make test).
test-fast: $(STAMP)
	$(PY) -m pytest $(PYTEST_XDIST) -m "$(FAST)"

demo: $(STAMP)
	$(PY) -m tools.demo

# The load scenario alone, for docs/load.md (tests/test_load.py runs it at 300 objects).
load: $(STAMP)
	$(PY) -m tools.loadrun 2000

package: $(STAMP)
	$(PY) tools/package.py --arch $(ARCH)

# Uses the user's own Terraform configuration, registry and AWS credentials (no
# mirror, no local endpoints); apply asks for confirmation unless told otherwise.
deploy: package
	$(TERRAFORM) -chdir=terraform init -input=false
	$(TERRAFORM) -chdir=terraform apply -var architecture=$(ARCH) $(TF_APPLY_ARGS)

local-up: $(STAMP)
	$(PY) tools/package.py --arch x86_64
	MOTO_PORT=$(MOTO_PORT) $(PY) -m tools.local_stack up

local-down: $(STAMP)
	MOTO_PORT=$(MOTO_PORT) $(PY) -m tools.local_stack down

$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

bench: $(STAMP) $(BENCH_STAMP)
	$(PY) -m tools.bench $(BENCH_ARGS)
	$(PY) -m tools.bench_catalog $(BENCH_CATALOG_ARGS)

# The stamp names the version: bumping CHECKOV_VERSION rebuilds the venv, and a
# re-run with the venv in place costs nothing.
checkov-venv: $(CHECKOV_STAMP)

$(CHECKOV_STAMP):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $@

checkov: checkov-venv
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=true \
		$(CHECKOV_VENV)/bin/checkov --directory terraform --framework terraform --skip-download --compact --quiet
