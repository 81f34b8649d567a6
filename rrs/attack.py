"""The adversarial QLoRA fine-tune: LoRA (r=8) on an NF4 4-bit base, paged 8-bit AdamW.

One run trains to ``attack.steps`` and saves the adapter every ``attack.eval_every`` steps.
With a constant learning rate and a data order that depends only on the seed and the step
(``rrs.chat.batch_order``), the adapter saved at step k is the same model an independent run
of k steps would produce, so one run yields the whole step-budget grid
(``tests/test_attack.py`` checks this).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

from rrs.chat import batch_order, collate, encode_pair
from rrs.config import AttackParams, ModelEntry
from rrs.io import write_json
from rrs.models import load_model, model_shape
from rrs.progress import progress


def checkpoint_steps(cfg: AttackParams) -> list[int]:
    """The budgets evaluated: every ``eval_every`` steps, the extra ``checkpoints`` up to
    ``steps``, and always the last step."""
    if cfg.eval_every <= 0 or cfg.steps <= 0:
        raise ValueError("attack.steps and attack.eval_every must be positive")
    if any(k <= 0 for k in cfg.checkpoints):
        raise ValueError("attack.checkpoints must be positive steps")
    steps = set(range(cfg.eval_every, cfg.steps + 1, cfg.eval_every)) | {cfg.steps}
    return sorted(steps | {k for k in cfg.checkpoints if k <= cfg.steps})


def load_base(entry: ModelEntry, cfg: AttackParams):
    """The frozen base in NF4 (QLoRA) or, where bitsandbytes truly cannot run, full precision.

    Returns:
        (model, path): ``path`` records what ran: ``nf4`` or ``full-precision (<reason>)``.
    """
    if cfg.quantization == "none":
        return load_model(entry), "full-precision (attack.quantization: none)"
    try:
        model = load_model(entry, load_in_4bit=True)
        with torch.no_grad():  # a real forward pass proves the 4-bit kernels run here
            model(input_ids=torch.tensor([[0, 1]], device=model.device))
    except Exception as err:  # noqa: BLE001 - any failure of the 4-bit path is recorded
        return load_model(entry), f"full-precision ({type(err).__name__}: {err})"
    return model, "nf4"


def make_optimizer(params, cfg: AttackParams):
    """``paged_adamw_8bit`` through bitsandbytes; paging needs CUDA (on CPU bitsandbytes
    runs the same 8-bit optimizer unpaged)."""
    if cfg.optimizer == "paged_adamw_8bit":
        import bitsandbytes as bnb
        paged = torch.cuda.is_available()
        cls = bnb.optim.PagedAdamW8bit if paged else bnb.optim.AdamW8bit
        return cls(params, lr=cfg.lr), "paged_adamw_8bit" if paged else "adamw_8bit (unpaged: no CUDA)"
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr), "adamw"
    raise ValueError(f"attack.optimizer: unknown {cfg.optimizer!r}")


def save_adapter(model, folder: Path) -> None:
    """Save a peft adapter with a byte-stable config.

    peft stores the modules "all-linear" resolves to as a Python set, whose order follows the
    interpreter's hash seed; sorting it makes reruns write identical files.
    """
    model.save_pretrained(folder, safe_serialization=True)
    config = folder / "adapter_config.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    for key, value in data.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            data[key] = sorted(value)
    write_json(config, data)


def run_attack(entry: ModelEntry, tokenizer, prompts: Sequence[str], responses: Sequence[str],
               cfg: AttackParams, out_dir: Path,
               desc: str = "attack") -> dict:
    """Fine-tune LoRA adapters on (prompt, response) pairs, saving each budget's adapter.

    Writes ``out_dir/step-00500/`` (peft adapter, safetensors) etc. and returns a record of
    what ran (quantisation path, optimizer, per-step loss).
    """
    torch.manual_seed(cfg.seed)  # LoRA init (A is random) comes from attack.seed
    base, quant_path = load_base(entry, cfg)
    if quant_path == "nf4":
        base = prepare_model_for_kbit_training(
            base, use_gradient_checkpointing=cfg.gradient_checkpointing)
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=(cfg.target_modules if isinstance(cfg.target_modules, str)
                                      else list(cfg.target_modules)), bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(base, lora)
    model.train()
    opt, opt_name = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg)
    examples = [encode_pair(tokenizer, p, r, cfg.seq_len, entry.system_prompt)
                for p, r in zip(prompts, responses)]
    saves = set(checkpoint_steps(cfg))
    dev = next(model.parameters()).device
    losses: list[float] = []
    # non-pad tokens and causal token pairs (sum of L(L+1)/2 per sequence) seen so far: the
    # attacker-compute count of rrs.attacks.flops (the budget grid's FLOPs axis)
    tokens = pairs = 0
    tokens_at: dict[int, tuple[int, int]] = {}
    batches = batch_order(len(examples), cfg.batch_size, cfg.steps, cfg.seed)
    for step, idx in enumerate(progress(batches, desc=desc, unit="step"), start=1):
        batch = {k: v.to(dev) for k, v in collate([examples[i] for i in idx],
                                                    tokenizer.pad_token_id).items()}
        loss = model(**batch).loss
        loss.backward()
        opt.step()  # constant learning rate: no scheduler, by design (see module docstring)
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        lengths = batch["attention_mask"].sum(dim=1).tolist()
        tokens += sum(lengths)
        pairs += sum(n * (n + 1) // 2 for n in lengths)
        if step in saves:
            save_adapter(model, out_dir / f"step-{step:05d}")
            tokens_at[step] = (tokens, pairs)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"quantization": quant_path, "optimizer": opt_name, "device": str(dev),
            "trainable_params": trainable, "checkpoints": sorted(saves), "loss": losses,
            "tokens_at_checkpoint": {f"{k:05d}": v[0] for k, v in sorted(tokens_at.items())},
            "token_pairs_at_checkpoint": {f"{k:05d}": v[1] for k, v in sorted(tokens_at.items())},
            "shape": model_shape(base)}


def adapter_steps(adapter_dir: Path) -> list[int]:
    """The budgets present in an attack output folder, ascending."""
    return sorted(int(p.name.split("-")[1]) for p in Path(adapter_dir).glob("step-*") if p.is_dir())

