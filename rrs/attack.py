"""The adversarial QLoRA fine-tune: LoRA (r=8) on an NF4 4-bit base, paged 8-bit AdamW.

One run trains to ``attack.steps`` and saves the adapter every ``attack.eval_every`` steps.
With a constant learning rate and a data order that depends only on the seed and the step
(``rrs.chat.batch_order``), the adapter saved at step k is the same model an independent run
of k steps would produce, so one run yields the whole step-budget grid
(``tests/test_attack.py`` checks this).

``attack.micro_batch_size > 0`` computes each step's gradients from length-sorted micro-batches
(``rrs.train``: the same loss on the same tokens, with less padding, no full-vocabulary
logits, bf16 autocast on bf16 GPUs); 0 keeps one padded forward per step. Under ``accelerate
launch`` (``rrs.distributed``) the micro-batches are shared out over the GPUs and the main
process saves the adapters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import torch

from rrs import distributed
from rrs.chat import IGNORE_INDEX, batch_order, collate, encode_pair
from rrs.config import AttackParams, ModelEntry
from rrs.io import write_json
from rrs.models import load_model, model_shape
from rrs.progress import progress
from rrs.train import accumulate_gradients


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
        # A real forward pass proves the 4-bit kernels run here. In train mode: an eval-mode
        # forward on a CPU with AVX512-BF16 makes bitsandbytes repack the NF4 weights for its
        # inference kernel (gemv_4bit), which has no backward, so every later training step
        # would silently drop the gradient through the frozen base layers (tests/test_attack.py).
        model.train()
        with torch.no_grad():
            model(input_ids=torch.tensor([[0, 1]], device=model.device))
    except Exception as err:  # noqa: BLE001 - any failure of the 4-bit path is recorded
        return load_model(entry), f"full-precision ({type(err).__name__}: {err})"
    return model, "nf4"


def optimizer_name(cfg: AttackParams) -> str:
    """What :func:`make_optimizer` builds here (paging needs CUDA)."""
    if cfg.optimizer == "paged_adamw_8bit":
        return "paged_adamw_8bit" if torch.cuda.is_available() else "adamw_8bit (unpaged: no CUDA)"
    if cfg.optimizer == "adamw":
        return "adamw"
    raise ValueError(f"attack.optimizer: unknown {cfg.optimizer!r}")


def make_optimizer(params, cfg: AttackParams):
    """``paged_adamw_8bit`` through bitsandbytes; paging needs CUDA (on CPU bitsandbytes
    runs the same 8-bit optimizer unpaged)."""
    name = optimizer_name(cfg)
    if cfg.optimizer == "paged_adamw_8bit":
        import bitsandbytes as bnb
        paged = torch.cuda.is_available()
        cls = bnb.optim.PagedAdamW8bit if paged else bnb.optim.AdamW8bit
        return cls(params, lr=cfg.lr), name
    return torch.optim.AdamW(params, lr=cfg.lr), name


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


def prepare_base(entry: ModelEntry, cfg: AttackParams):
    """The frozen base, ready for LoRA (NF4 where it runs); returns (model, quantisation path)."""
    from peft import prepare_model_for_kbit_training  # peft (and bitsandbytes) load when used

    base, quant_path = load_base(entry, cfg)
    if quant_path == "nf4":
        base = prepare_model_for_kbit_training(
            base, use_gradient_checkpointing=cfg.gradient_checkpointing)
    return base, quant_path


def add_lora(base, cfg: AttackParams):
    """Wrap ``base`` with fresh LoRA adapters (initialised from the torch RNG), train mode."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=(cfg.target_modules if isinstance(cfg.target_modules, str)
                                      else list(cfg.target_modules)), bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(base, lora)
    model.train()
    return model


def train(model, tokenizer, examples, cfg: AttackParams, out_dir: Path | None,
          desc: str = "attack", on_step=None) -> list[float]:
    """``cfg.steps`` optimizer steps; saves the adapter at every checkpoint (main process).

    Args:
        on_step: called as ``on_step(step, loss)`` after each step (benchmarks time with it).
    Returns:
        The loss of every step.
    """
    opt, _ = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg)
    saves = set(checkpoint_steps(cfg))
    dev = next(model.parameters()).device
    world = distributed.rank_world()[1]
    micro = cfg.micro_batch_size or (-(-cfg.batch_size // world) if world > 1 else 0)
    losses: list[float] = []
    batches = batch_order(len(examples), cfg.batch_size, cfg.steps, cfg.seed)
    for step, idx in enumerate(progress(batches, desc=desc, unit="step"), start=1):
        chosen = [examples[i] for i in idx]
        if micro:
            loss_value = accumulate_gradients(model, chosen, tokenizer.pad_token_id, micro)
        else:  # one padded forward over the whole batch
            batch = {k: v.to(dev) for k, v in collate(chosen, tokenizer.pad_token_id).items()}
            loss = model(**batch).loss
            loss.backward()
            loss_value = None
        opt.step()  # constant learning rate: no scheduler, by design (see module docstring)
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item() if loss_value is None else loss_value)
        if on_step is not None:
            on_step(step, losses[-1])
        if step in saves and out_dir is not None and distributed.is_main():
            save_adapter(model, out_dir / f"step-{step:05d}")
    return losses


def run_attack(entry: ModelEntry, tokenizer, prompts: Sequence[str], responses: Sequence[str],
               cfg: AttackParams, out_dir: Path,
               desc: str = "attack") -> dict:
    """Fine-tune LoRA adapters on (prompt, response) pairs, saving each budget's adapter.

    Writes ``out_dir/step-00500/`` (peft adapter, safetensors) etc. and returns a record of
    what ran (quantisation path, optimizer, per-step loss).
    """
    torch.manual_seed(cfg.seed)  # LoRA init (A is random) comes from attack.seed
    base, quant_path = prepare_base(entry, cfg)
    model = add_lora(base, cfg)
    examples = [encode_pair(tokenizer, p, r, cfg.seq_len, entry.system_prompt)
                for p, r in zip(prompts, responses)]
    cut = sum(all(label == IGNORE_INDEX for label in ex.labels) for ex in examples)
    if cut == len(examples):  # every loss would be 0/0 (NaN): say so instead of training on it
        raise ValueError(f"attack.seq_len {cfg.seq_len}: no attack pair keeps a response token "
                         "after its chat-template prompt; raise attack.seq_len")
    losses = train(model, tokenizer, examples, cfg, out_dir, desc)
    dev = next(model.parameters()).device
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # non-pad tokens and causal token pairs (sum of L(L+1)/2 per sequence) seen up to each
    # checkpoint: the attacker-compute count of rrs.attacks.flops (the budget grid's FLOPs axis)
    tokens = pairs = 0
    tokens_at: dict[int, tuple[int, int]] = {}
    saves = set(checkpoint_steps(cfg))
    for step, idx in enumerate(batch_order(len(examples), cfg.batch_size, cfg.steps, cfg.seed),
                               start=1):
        lengths = [len(examples[i].input_ids) for i in idx]
        tokens += sum(lengths)
        pairs += sum(n * (n + 1) // 2 for n in lengths)
        if step in saves:
            tokens_at[step] = (tokens, pairs)
    return {"quantization": quant_path, "optimizer": optimizer_name(cfg), "device": str(dev),
            "trainable_params": trainable, "checkpoints": checkpoint_steps(cfg), "loss": losses,
            "tokens_at_checkpoint": {f"{k:05d}": v[0] for k, v in sorted(tokens_at.items())},
            "token_pairs_at_checkpoint": {f"{k:05d}": v[1] for k, v in sorted(tokens_at.items())},
            "shape": model_shape(base)}


def adapter_steps(adapter_dir: Path) -> list[int]:
    """The budgets present in an attack output folder, ascending."""
    return sorted(int(p.name.split("-")[1]) for p in Path(adapter_dir).glob("step-*") if p.is_dir())

