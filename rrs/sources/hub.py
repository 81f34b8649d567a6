"""A Hugging Face Hub repository at a pinned commit, through the real ``huggingface_hub`` client.

Only what the study loads is fetched: the config, safetensors weights (and their index), the
tokenizer files, the chat template, and the licence and model card. Never Python files (no
remote code) and never pickled weights (``*.bin``, ``*.pt``). Every downloaded file is checked
against the hash the Hub lists for it at that commit (LFS sha256, or the git blob id), so a
server that serves other bytes for a pinned commit is caught, not silently used.

The endpoint is the client's own setting (``HF_ENDPOINT``; tests and air-gapped machines
point it at :mod:`rrs.sources.local_hub`). Gated repositories read ``HF_TOKEN``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from rrs.config import FetchSpec

# What a chat model directory needs, by file name pattern (fnmatch, top-level files only).
WANTED = ("config.json", "generation_config.json", "*.safetensors", "*.safetensors.index.json",
          "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json",
          "added_tokens.json", "vocab.json", "merges.txt", "chat_template.json",
          "chat_template.jinja", "LICENSE*", "README.md", "USE_POLICY.md", "NOTICE*")


def wanted(name: str) -> bool:
    return "/" not in name and any(fnmatch.fnmatch(name, pat) for pat in WANTED)


def git_blob_id(data: bytes) -> str:
    """The git object id of a file's bytes (what the Hub lists for non-LFS files)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _what_to_run(alias_hint: str) -> str:
    return (f"run `dvc pull {alias_hint}` to restore it from the DVC remote, or run "
            f"`dvc repro {alias_hint}` where the Hub (or a mirror set by HF_ENDPOINT) is reachable")


def _token(spec: FetchSpec, stage: str) -> str | None:
    from rrs.sources import FetchError
    token = os.environ.get("HF_TOKEN") or None
    if spec.gated and token is None:
        from huggingface_hub import get_token
        token = get_token()
        if token is None:
            raise FetchError(
                f"{spec.repo} is gated: accept its licence at "
                f"https://huggingface.co/{spec.repo}, then set HF_TOKEN (or run `hf auth "
                f"login`) and run `dvc repro {stage}`; or {_what_to_run(stage)}")
    return token


def fetch(alias: str, spec: FetchSpec, out_dir: Path) -> dict:
    from huggingface_hub import HfApi, constants, hf_hub_download
    from huggingface_hub.errors import (GatedRepoError, OfflineModeIsEnabled,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    from rrs.sources import FetchError
    stage = f"fetch@{alias}"
    if constants.HF_HUB_OFFLINE:
        raise FetchError(f"{spec.repo}: offline (HF_HUB_OFFLINE=1), nothing can be downloaded; "
                         + _what_to_run(stage))
    token = _token(spec, stage)
    api = HfApi(token=token)
    try:
        info = api.model_info(spec.repo, revision=spec.revision, files_metadata=True)
    except GatedRepoError:
        raise FetchError(f"{spec.repo} is gated and the token was refused: accept the licence "
                         f"at https://huggingface.co/{spec.repo} with the account of HF_TOKEN; "
                         f"or {_what_to_run(stage)}") from None
    except RevisionNotFoundError:
        raise FetchError(f"{spec.repo} has no revision {spec.revision}") from None
    except RepositoryNotFoundError:
        raise FetchError(f"{spec.repo}: no such repository at {constants.ENDPOINT} (or it is "
                         "private: set HF_TOKEN)") from None
    except OfflineModeIsEnabled:
        raise FetchError(f"{spec.repo}: offline mode is on; " + _what_to_run(stage)) from None
    except Exception as err:  # noqa: BLE001 - the HTTP library's own errors (httpx: ConnectError,
        # timeouts, DNS) are not OSErrors; all mean the same here: the Hub is out of reach
        raise FetchError(f"{spec.repo}: the Hub at {constants.ENDPOINT} cannot be reached "
                         f"({type(err).__name__}: {err}); " + _what_to_run(stage)) from None
    if info.sha != spec.revision:
        raise FetchError(f"{spec.repo}: asked for commit {spec.revision}, the Hub resolved "
                         f"{info.sha}")
    files = {s.rfilename: s for s in info.siblings if wanted(s.rfilename)}
    if not any(name.endswith(".safetensors") for name in files):
        raise FetchError(f"{spec.repo}@{spec.revision}: no safetensors weights; this study "
                         "loads safetensors only (never pickled weights)")
    record = {}
    scratch = Path(tempfile.mkdtemp(prefix=".fetch-", dir=out_dir.parent))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            got = Path(hf_hub_download(spec.repo, name, revision=info.sha, token=token,
                                       local_dir=scratch))
            record[name] = _verify(spec, name, got, files[name])
            shutil.move(str(got), out_dir / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    card = getattr(info, "card_data", None)
    licence = (card or {}).get("license") if card is not None else None
    return {"repo": spec.repo, "revision": spec.revision, "commit": info.sha,
            "licence": licence or spec.licence, "gated": spec.gated, "files": record}


def _verify(spec: FetchSpec, name: str, path: Path, sibling) -> dict:
    """The file's sha256 and size, after checking it against the Hub's listing."""
    from rrs.sources import FetchError
    size = path.stat().st_size
    digest = _sha256(path)
    lfs = getattr(sibling, "lfs", None)
    if lfs is not None:
        expected = lfs["sha256"] if isinstance(lfs, dict) else lfs.sha256
        if digest != expected:
            raise FetchError(f"{spec.repo}@{spec.revision}/{name}: sha256 {digest} differs "
                             f"from the Hub's listing {expected}; the served file changed")
    elif sibling.blob_id is not None and git_blob_id(path.read_bytes()) != sibling.blob_id:
        # (non-LFS files are small: configs, tokenizers)
        raise FetchError(f"{spec.repo}@{spec.revision}/{name}: bytes differ from the Hub's "
                         f"git blob {sibling.blob_id}; the served file changed")
    return {"sha256": digest, "size": size}
