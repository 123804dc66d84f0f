# Packaging and infrastructure targets. Included by the Makefile, which defines
# VENV, PY (.venv/bin/python) and STAMP (the prerequisite that bootstraps .venv).
#
#   make package [ARCH=x86_64|arm64]   Lambda artifacts under build/<arch>/
#   make deploy  [ARCH=...] [TF_APPLY_ARGS=-auto-approve]
#                                      terraform init + apply against real AWS
#   make local-up / local-down [MOTO_PORT=5000]
#                                      the same stack on a moto server + a local worker
#   make checkov-venv                  checkov in its own venv (used by the tests)

PYTHON ?= python3
TERRAFORM ?= terraform
ARCH ?= x86_64
MOTO_PORT ?= 5000
TF_APPLY_ARGS ?=

# checkov pins boto3 and friends differently from requirements.txt: its own venv.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

.PHONY: package deploy local-up local-down checkov-venv checkov

package: $(STAMP)
	$(PY) tools/package.py --arch $(ARCH)

# Uses the user's own Terraform configuration, registry and AWS credentials (no
# mirror, no local endpoints); apply asks for confirmation unless told otherwise.
deploy: package
	$(TERRAFORM) -chdir=terraform init -input=false
	$(TERRAFORM) -chdir=terraform apply -var architecture=$(ARCH) $(TF_APPLY_ARGS)

local-up: $(STAMP)
	$(PY) tools/package.py --arch x86_64
	MOTO_PORT=$(MOTO_PORT) $(PY) tools/local_stack.py up

local-down: $(STAMP)
	MOTO_PORT=$(MOTO_PORT) $(PY) tools/local_stack.py down

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
