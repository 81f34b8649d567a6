"""Stage ``tune@<alias>``: a safety-tuned variant of a fetched chat model.

LoRA on the full-precision base, trained on the chat corpus (help with the benign requests,
refuse the redacted harmful ones) by the attack's own training loop (``rrs.attack``: seeded
data order, constant learning rate), then merged into the base and saved as a safetensors
model directory: a real architecture, publicly pretrained and chat-tuned, that has been taught
to refuse, to study beside the model organisms and the untouched model.

In:  ``models/fetched/<base>``, the chat corpus; params ``tuned.<alias>``.
Out: ``models/tuned/<alias>/`` and ``metrics/tuned/<alias>.json`` (loss, parameter counts).
Run: ``rrs tune --model smollm2-135m-safe --corpus data/train/chat_corpus.csv
     --out models/tuned/smollm2-135m-safe --record metrics/tuned/smollm2-135m-safe.json``
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click
import torch

from rrs.attack import run_attack
from rrs.config import FETCHED_DIR, ModelEntry, tuned
from rrs.io import read_table, write_json
from rrs.models import load_model, load_tokenizer, save_tokenizer
from stages.common import params_option, read_params, setup_torch


@click.command("tune")
@click.option("--model", "alias", required=True, help="Alias in params.yaml `tuned`.")
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--record", type=click.Path(path_type=Path), required=True)
@params_option
def cli(alias: str, corpus: Path, out: Path, record: Path, params_path: Path) -> None:
    """Safety-tune a fetched model with LoRA on the chat corpus; save it merged."""
    from peft import PeftModel
    specs = tuned(read_params(params_path))
    if alias not in specs:
        raise click.BadParameter(f"no tuned.{alias} in {params_path} (has {', '.join(specs)})")
    spec = specs[alias]
    cfg = spec.attack_params()
    setup_torch(cfg.threads)
    base = ModelEntry(source="tuned", path=f"{FETCHED_DIR}/{spec.base}")
    tokenizer = load_tokenizer(base)
    table = read_table(corpus, required=("prompt", "response"))
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as tmp:
        adapters = Path(tmp) / "adapters"
        result = run_attack(base, tokenizer, list(table["prompt"]), list(table["response"]),
                            cfg, adapters, desc=f"tune {alias}")
        model = PeftModel.from_pretrained(load_model(base), adapters / f"step-{cfg.steps:05d}")
        merged = model.merge_and_unload()
        staged = out.with_name(out.name + ".tmp")
        shutil.rmtree(staged, ignore_errors=True)
        merged.save_pretrained(staged, safe_serialization=True)
        save_tokenizer(load_tokenizer(base), staged)
    shutil.rmtree(out, ignore_errors=True)
    staged.rename(out)
    losses = result["loss"]
    window = max(1, cfg.steps // 10)
    write_json(record, {
        "model": alias, "base": spec.base, "steps": cfg.steps, "lr": cfg.lr,
        "batch_size": cfg.batch_size, "seq_len": cfg.seq_len, "lora_r": cfg.lora_r,
        "trainable_params": result["trainable_params"], "path": result["quantization"],
        "loss_first": round(sum(losses[:window]) / window, 4),
        "loss_last": round(sum(losses[-window:]) / window, 4),
        "params": sum(p.numel() for p in merged.parameters())})
    del merged
    torch.cuda.empty_cache() if torch.cuda.is_available() else None
