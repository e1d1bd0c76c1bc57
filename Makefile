# The two commands for users are `make demo` and `make test` (see README.md).
# Every step of the suite is a target of its own so a developer can run one.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(CURDIR)/$(VENV)/bin
CORE218     := $(VENV)/core-2.18
PYTHONS     := $(shell tests/tools/pythons.sh)
# The interpreter the venvs are made from: the machine's python3, looked up
# before PYTHONS (which may hold older interpreters for sanity) joins PATH.
PYTHON      ?= $(shell command -v python3)
export PYTHON

export PATH := $(BIN):$(PYTHONS):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(VENV)/collections
export CONTAINERS_CONF := $(CURDIR)/tests/testbed/containers.conf
export ANSIBLE_NOCOLOR := 1

.PHONY: help setup test demo units units-2.19 units-2.18 sanity sanity-2.19 sanity-2.18 \
        lint import molecule testbed bench ee clean

help:
	@echo "make demo   - discover and assess localhost, read-only (see README.md)"
	@echo "make test   - set up everything and run the whole suite"
	@echo "steps: setup units sanity lint import ee molecule bench"
	@echo "make ee     - build the AWX/AAP execution environment image with ansible-builder and podman (docs/awx.md)"

setup:
	@tests/tools/system-packages.sh
	@tests/tools/setup-venv.sh

# The checks (sanity, lint, import) run beside Molecule's scenarios, which keep the two CPUs only part busy; the
# execution environment is built before them, since it builds the same Debian 12 image as the testbed step when it
# is missing.
test:
	@tests/tools/run-suite.sh setup units ee 'molecule | sanity lint import'

units: units-2.19 units-2.18

# One pytest worker more than there are CPUs: the tests spend much of their time waiting on the
# playbooks, package managers and servers they start (on 2 CPUs, 3 workers took 295 s where 2 took 375 s).
UNIT_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

units-2.19: setup
	tests/tools/ansible-test.sh $(VENV) units --venv --python 3.11 --color no --num-workers $(UNIT_WORKERS)

# The tests that drive the package managers themselves (dnf on installroots, dpkg, apt): what they check depends on
# the package manager, not on ansible-core, and they take a third of the units' time, so they run under the newest
# core only.  Every test that reaches ansible-core otherwise is run under both.
PACKAGE_MANAGER_TESTS := $(wildcard tests/unit/controller/test_*_installroot.py) tests/unit/controller/test_system_backup_dpkg.py \
	tests/unit/controller/test_apt_pending.py tests/unit/controller/test_deb_rebuild_dpkg.py
# The tests that never reach ansible-core (tests/tools/core-free-tests.py follows their imports and the commands they
# run: about half the files, ~160 s of the ~830 s of test time under the older core) check the same code whatever the core: they
# run under the newest only as well.
CORE_FREE_TESTS = $(shell $(PYTHON) tests/tools/core-free-tests.py tests/unit/plugins tests/unit/controller)
UNITS_BOTH_CORES = $(filter-out $(PACKAGE_MANAGER_TESTS) $(CORE_FREE_TESTS),$(sort $(shell find tests/unit/plugins tests/unit/controller -name 'test_*.py')))

units-2.18: setup
	tests/tools/ansible-test.sh $(CORE218) units --venv --python 3.11 --color no --num-workers $(UNIT_WORKERS) $(UNITS_BOTH_CORES)

# ansible-test sanity runs one test at a time, on one CPU.  The runs under the two cores go one after the other: both
# make their tests' venvs under ~/.ansible/test/venv, at one path for the same requirements, and remove a venv they find
# half made, so on a machine where the venvs do not exist yet two runs at once break each other (a cold `make test`
# failed so).  make test runs the checks beside Molecule's scenarios, which keep the CPUs busy part of the time only.
# -k: a failure under one core does not keep the other's run from showing its own.
sanity: setup
	$(MAKE) -k --no-print-directory sanity-2.19 sanity-2.18

# Without --python, ansible-test runs its multi-version tests (compile, import)
# on every supported interpreter on PATH: PYTHONS above puts 3.9-3.13 there.
sanity-2.19: setup
	tests/tools/ansible-test.sh $(VENV) sanity --venv --color no --junit

sanity-2.18: setup
	tests/tools/ansible-test.sh $(CORE218) sanity --venv --color no --junit

lint: setup
	tests/tools/lint.sh

import: setup
	tests/tools/galaxy-import.sh

molecule: setup testbed
	tests/tools/molecule-all.sh

testbed: setup
	tests/testbed/setup-host.sh

demo: setup
	tests/tools/demo.sh

bench: setup
	tests/tools/run-bench.sh

# The execution environment (execution-environment.yml, docs/awx.md) from the testbed's debootstrap Debian 12
# image, since no registry is reachable here; EE_BASE_IMAGE=<image> builds it from another Debian/Ubuntu base.
EE_IMAGE      ?= localhost/patchwise-ee:latest
EE_BASE_IMAGE ?= localhost/patchwise-testbed:bookworm
PATCHWISE_DEBIAN_MIRROR ?= http://deb.debian.org/debian
PATCHWISE_DEBIAN_SECURITY_MIRROR ?= http://deb.debian.org/debian-security
# Local CA certificates the image trusts (a TLS-inspecting proxy in front of PyPI, internal APIs).
EE_CA_CERTIFICATES ?= $(wildcard /usr/local/share/ca-certificates/*.crt)

ee: setup
	@if [[ $(EE_BASE_IMAGE) == localhost/patchwise-testbed:bookworm ]]; then tests/testbed/build-image.sh bookworm $(CURDIR)/.cache/testbed; fi
	rm -rf .cache/ee/context .cache/ee/ca-certificates .cache/ee/patchwise-patching*.tar.gz
	mkdir -p .cache/ee/ca-certificates
	$(BIN)/ansible-galaxy collection build --force --output-path .cache/ee >/dev/null
	cp .cache/ee/patchwise-patching-*.tar.gz .cache/ee/patchwise-patching.tar.gz
	$(if $(EE_CA_CERTIFICATES),cp $(EE_CA_CERTIFICATES) .cache/ee/ca-certificates/)
	$(BIN)/ansible-builder build --file execution-environment.yml --context .cache/ee/context \
	  --container-runtime podman --tag $(EE_IMAGE) --build-arg EE_BASE_IMAGE=$(EE_BASE_IMAGE) \
	  --build-arg PATCHWISE_DEBIAN_MIRROR=$(PATCHWISE_DEBIAN_MIRROR) \
	  --build-arg PATCHWISE_DEBIAN_SECURITY_MIRROR=$(PATCHWISE_DEBIAN_SECURITY_MIRROR)
	podman run --rm $(EE_IMAGE) ansible-doc -l patchwise.patching | tee .cache/ee/plugins.txt
	@# ansible-doc lists nothing, and exits 0, when the collection is not where the image's Ansible looks.
	@grep -q '^patchwise.patching.asset_facts ' .cache/ee/plugins.txt || { echo "ee: the image does not list patchwise.patching's modules" >&2; exit 1; }
	podman run --rm $(EE_IMAGE) ansible-doc -t inventory -l patchwise.patching | grep -q '^patchwise.patching.assets ' \
	  || { echo "ee: the image does not list the assets inventory plugin" >&2; exit 1; }

clean:
	rm -rf $(VENV) tests/output bench/output .ansible *.tar.gz
