"""The model registry: alias -> weights on disk, loaded the same way for every model.

``params.yaml`` lists each alias with ``source`` (``organism``: trained by this pipeline;
``hf``: a local Hugging Face chat-model directory), its ``path`` and optionally a ``params``
count, ``revision`` and ``system_prompt``. Nothing downstream asks which kind a model is.
Weights load from safetensors only; remote code is never trusted.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

from rrs import distributed
from rrs.config import ModelEntry
from rrs.io import write_text


def device() -> torch.device:
    """This process's GPU (one per process under ``accelerate launch``), else the CPU."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    distributed.rank_world()  # under accelerate launch: sets this process's device first
    return torch.device("cuda", torch.cuda.current_device())


def compute_dtype() -> torch.dtype:
    """bf16 where the GPU has it, fp16 on older GPUs (T4), fp32 on CPU."""
    if not torch.cuda.is_available():
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _local_dir(entry: ModelEntry) -> Path:
    path = Path(entry.path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"model directory {path} not found: organisms are built by `dvc repro`; for a "
            "Hugging Face model, download it first (e.g. `huggingface-cli download "
            "Qwen/Qwen2-7B-Instruct --local-dir <dir>`) and point models.<alias>.path at it")
    return path


def load_tokenizer(entry: ModelEntry):
    tok = AutoTokenizer.from_pretrained(_local_dir(entry), revision=entry.revision,
                                        trust_remote_code=False)
    tok.padding_side = "left"  # decoder-only batched generation pads on the left
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    if tok.chat_template is None:
        raise ValueError(f"{entry.path}: tokenizer has no chat template; this study "
                         "evaluates chat models through their own template")
    return tok


# What transformers records in tokenizer_config.json about how the files were loaded (from a
# local folder; with HF_HUB_OFFLINE set): facts of the run, not of the tokenizer, which would
# make a saved model's bytes depend on the environment it was saved in.
LOAD_TIME_KEYS = ("is_local", "local_files_only")


def save_tokenizer(tokenizer, out_dir: str | Path) -> None:
    """``tokenizer.save_pretrained(out_dir)`` without the load-time keys, so the same
    tokenizer saves to the same bytes wherever and however it was loaded."""
    tokenizer.save_pretrained(out_dir)
    path = Path(out_dir) / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    kept = {key: value for key, value in config.items() if key not in LOAD_TIME_KEYS}
    if kept != config:
        write_text(path, json.dumps(kept, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def nf4_config() -> BitsAndBytesConfig:
    """QLoRA's base-model quantisation: 4-bit NormalFloat with double quantisation."""
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=compute_dtype())


def load_model(entry: ModelEntry, load_in_4bit: bool = False):
    """Load a causal LM from its directory (safetensors, no remote code), eval mode."""
    kwargs = dict(revision=entry.revision, use_safetensors=True, trust_remote_code=False)
    if load_in_4bit:
        kwargs["quantization_config"] = nf4_config()
        kwargs["device_map"] = {"": device()}
    else:
        kwargs["dtype"] = compute_dtype()
    model = AutoModelForCausalLM.from_pretrained(_local_dir(entry), **kwargs)
    if not load_in_4bit:
        model.to(device())
    return model.eval()


def param_count(entry: ModelEntry, model=None) -> int:
    """The registry's count where given, else the model's parameters (unique tensors)."""
    if entry.params is not None:
        return entry.params
    if model is None:
        raise ValueError("param_count needs the model when the registry gives no count")
    return sum(p.numel() for p in model.parameters())


def model_shape(model) -> dict[str, int]:
    """``{"layers", "width"}`` of a causal LM from its config: what the attacker-FLOP count
    (:mod:`rrs.attacks.flops`) needs besides the parameter count (width = heads x head size)."""
    cfg = model.config
    heads = cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    return {"layers": int(cfg.num_hidden_layers), "width": int(heads * head_dim)}
