# syntax=docker/dockerfile:1
# The reviewers' image: the study's locked Python environment on a pinned CUDA base, TeX for
# the paper, run as a non-root user on a bind-mounted clone of this repository.
# NEVER BUILT OR RUN HERE: the development machines have no Docker engine. The tests lint this
# file (hadolint) and check that it installs requirements.lock through the Makefile's own
# set-up recipe, the one CI runs (tests/test_dockerfile.py).
#
#   docker build -t rrs .                  # add --build-arg UID="$(id -u)" if yours is not 1000
#   docker run --gpus all -v "$PWD":/work rrs dvc repro      # the default study (organisms)
#   docker run --gpus all -v "$PWD":/work -e HF_TOKEN rrs dvc exp run -S study=paper
#                                            # the paper's models from the Hub (Llama: HF_TOKEN)
#   docker run --gpus all -v "$PWD":/work rrs dvc exp run -S attack.steps=2000
# The default DVC remote is ../rrs-dvc-store beside the clone; mount it for push / pull:
#   docker run --gpus all -v "$PWD":/work -v "$PWD/../rrs-dvc-store":/rrs-dvc-store rrs dvc pull

# CUDA 13.0 is the CUDA of torch 2.13.0's default PyPI build (the one this image installs).
# Pinned by tag and by digest: the digest as published for this tag, found in a public build
# config; it was not pulled here. Refresh both together:
#   docker buildx imagetools inspect nvidia/cuda:13.0.0-base-ubuntu22.04
FROM nvidia/cuda:13.0.0-base-ubuntu22.04@sha256:c08986c5ea16a41bba86f4ac08b327861c7b7d05dee7fae0648dcf0e964bf6e4

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# apt reads Ubuntu's archive as it was at this instant (snapshot.ubuntu.com), so every package
# below and its dependencies resolve to that day's versions: apt's way of pinning a whole tree.
ARG UBUNTU_SNAPSHOT=20261101T000000Z
# the container user's uid: match the owner of the bind-mounted clone (or use docker run --user)
ARG UID=1000

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HOME=/cache/huggingface \
    PYTHONPATH=/work

# python3.11: the lock's hashes are those of CPython 3.11 wheels (Ubuntu 22.04's universe has
# it); git: DVC needs it; make: the set-up recipe; latexmk + TeX Live: the paper's build.
# NVIDIA's apt list goes: nothing is installed from it, and the snapshot alone is then read.
# hadolint ignore=DL3008
RUN rm -f /etc/apt/sources.list.d/cuda*.list \
    && sed -i -E "s#http://(archive|security)\.ubuntu\.com/ubuntu/?#http://snapshot.ubuntu.com/ubuntu/${UBUNTU_SNAPSHOT}/#" /etc/apt/sources.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates git make python3.11 python3.11-venv \
        latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
    && rm -rf /var/lib/apt/lists/*

# The Python environment, by the Makefile's `setup` recipe: requirements.lock installed with
# --require-hashes --no-deps, exactly as CI installs it. TORCH_BUILD=cuda is the one deliberate
# difference: the lock's torch line (the CPU build) is left out and the same torch version's
# default PyPI build, compiled for CUDA, goes in with the CUDA runtime wheels it pins.
WORKDIR /opt/rrs
COPY Makefile pyproject.toml requirements.lock ./
COPY rrs ./rrs
COPY stages ./stages
RUN make setup VENV=/opt/venv PYTHON=python3.11 TORCH_BUILD=cuda

# DVC runs git in the bind-mounted clone, which belongs to the host's user: git's ownership
# check (safe.directory) would stop it. `dvc exp run` commits experiment refs, so a fallback
# identity is set system-wide (the clone's own or a mounted ~/.gitconfig takes precedence).
RUN git config --system --add safe.directory '*' \
    && git config --system user.name "rrs container" \
    && git config --system user.email "rrs@container.invalid"

# A non-root user; the Hugging Face cache (real models' downloads) lives on a volume, writable
# by any uid passed with --user.
RUN useradd --no-log-init --create-home --uid "${UID}" rrs \
    && mkdir -p /cache/huggingface /work \
    && chmod 1777 /cache/huggingface \
    && chown rrs /work
USER ${UID}
VOLUME ["/cache/huggingface"]

# The clone is mounted here; PYTHONPATH=/work makes its rrs/ and stages/ (the code DVC hashes)
# shadow the copy installed above, which only provides the `rrs` command.
WORKDIR /work
CMD ["dvc", "repro"]
