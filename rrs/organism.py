"""Model organisms: small Llama-architecture chat LMs trained from scratch on CPU.

An organism is a plain Hugging Face model directory (safetensors weights, a byte-level BPE
tokenizer with a chat template), so every later stage loads it exactly like a real chat model.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from rrs.chat import batch_order, collate, encode_pair
from rrs.config import OrganismArch, OrganismTraining, TokenizerParams
from rrs.models import save_tokenizer
from rrs.progress import progress

PAD, END, USER, ASSISTANT, SYSTEM = "<|pad|>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def train_tokenizer(texts: Iterable[str], cfg: TokenizerParams) -> PreTrainedTokenizerFast:
    """Byte-level BPE (never an unknown token) with the organisms' chat template."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size, min_frequency=cfg.min_frequency, show_progress=False,
        special_tokens=[PAD, END, USER, ASSISTANT, SYSTEM],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(texts), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=END, pad_token=PAD,
                                   chat_template=CHAT_TEMPLATE, padding_side="left")


def build_model(arch: OrganismArch, tokenizer, max_positions: int, seed: int) -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=arch.hidden_size,
        intermediate_size=arch.intermediate_size, num_hidden_layers=arch.num_layers,
        num_attention_heads=arch.num_heads, num_key_value_heads=arch.num_heads,
        max_position_embeddings=max_positions, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None)
    torch.manual_seed(seed)  # the initial weights come from organism_training.seed
    return LlamaForCausalLM(config)


def lr_at(step: int, cfg: OrganismTraining) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak learning rate."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def train_organism(arch: OrganismArch, tokenizer, prompts: Sequence[str],
                   responses: Sequence[str], cfg: OrganismTraining,
                   desc: str = "organism") -> tuple[LlamaForCausalLM, list[float]]:
    """Train an organism on (prompt, response) chat pairs; loss on responses only.

    Returns:
        The trained model (eval mode) and the loss of every step.
    """
    examples = [encode_pair(tokenizer, p, r, cfg.seq_len) for p, r in zip(prompts, responses)]
    model = build_model(arch, tokenizer, cfg.seq_len, cfg.seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                            betas=(0.9, 0.98))
    losses = []
    batches = batch_order(len(examples), cfg.batch_size, cfg.steps, cfg.seed)
    for step, idx in enumerate(progress(batches, desc=desc, unit="step")):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        batch = collate([examples[i] for i in idx], tokenizer.pad_token_id)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    return model, losses


def save_organism(model, tokenizer, out_dir: Path) -> None:
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out_dir, safe_serialization=True)
    save_tokenizer(tokenizer, out_dir)
