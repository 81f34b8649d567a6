"""One optimizer step's gradients from length-sorted micro-batches: the padded batch's loss.

``model(**collate(batch)).loss`` is the mean cross-entropy over every response token of the
batch, computed over a batch padded to its longest example, with logits for every position
and the whole vocabulary. :func:`accumulate_gradients` computes the same loss on the same
tokens, and its gradients, for less:

- the step's examples are sorted by length and cut into micro-batches of
  ``attack.micro_batch_size`` rows, each right-padded only to its own longest row, with no
  attention mask (causal attention never lets a real token see the padding after it);
- each micro-batch's loss is its token *sum* over the step's token count, so the gradients
  accumulate to the batch mean's exactly (up to float summation order);
- the head and the cross-entropy run only on positions that carry a label, in chunks of
  ``LOSS_CHUNK`` tokens recomputed in the backward pass, so ``[tokens, vocabulary]`` logits
  never exist at once (152k-token vocabularies: 5 GB per 16k tokens in bf16);
- on a bf16 GPU the forward runs under bf16 autocast (QLoRA's compute dtype; the trained
  LoRA weights and the optimizer stay fp32);
- under ``accelerate launch`` each process takes every ``world``-th sorted example and the
  gradients (and the loss) are summed over processes before the optimizer step.

``tests/test_train.py`` checks loss and gradients against the padded batch on CPU.
"""

from __future__ import annotations

import contextlib
from typing import Sequence

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from rrs import distributed
from rrs.chat import IGNORE_INDEX, Example, collate

LOSS_CHUNK = 2048  # tokens per head + cross-entropy chunk (2048 x 152k vocab = 1.2 GB fp32)


def label_count(example: Example) -> int:
    """Tokens this example adds to the loss (labels are shifted: position t predicts t+1)."""
    return sum(1 for y in example.labels[1:] if y != IGNORE_INDEX)


def shares(examples: Sequence[Example], micro_batch: int, rank: int = 0, world: int = 1
           ) -> list[list[Example]]:
    """This process's micro-batches: every ``world``-th example by length, longest first."""
    ordered = sorted(examples, key=lambda e: -len(e.input_ids))[rank::world]
    return [ordered[i:i + micro_batch] for i in range(0, len(ordered), micro_batch)]


def _ce_sum(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(F.linear(hidden, weight).float(), labels, reduction="sum")


def head_loss_sum(hidden: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Summed next-token cross-entropy of ``hidden [B, T, H]`` against ``labels [B, T]``."""
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    h, y = hidden[:, :-1][keep], targets[keep]
    total = hidden.new_zeros((), dtype=torch.float32)
    for start in range(0, y.shape[0], LOSS_CHUNK):
        part = slice(start, start + LOSS_CHUNK)
        total = total + checkpoint(_ce_sum, h[part], weight, y[part], use_reentrant=False)
    return total


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 autocast on GPUs that have bf16; none elsewhere (CPU, fp16-only GPUs such as the
    T4, whose fp16 would need loss scaling)."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def accumulate_gradients(model, examples: Sequence[Example], pad_id: int, micro_batch: int
                         ) -> float:
    """Backpropagate the batch-mean loss of ``examples`` into the trainable parameters'
    ``.grad`` (summed over processes); return that loss."""
    rank, world = distributed.rank_world()
    lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    dev = next(p for p in model.parameters() if p.requires_grad).device
    cast = autocast_dtype(dev)
    weight = lm.get_output_embeddings().weight
    if cast is not None:
        weight = weight.to(cast)  # once per step, not once per chunk
    n_tokens = sum(label_count(e) for e in examples)
    total = torch.zeros((), device=dev)
    for part in shares(examples, micro_batch, rank, world):
        batch = collate(part, pad_id)
        ids, labels = batch["input_ids"].to(dev), batch["labels"].to(dev)
        ctx = torch.autocast(dev.type, dtype=cast) if cast else contextlib.nullcontext()
        with ctx:
            hidden = lm.model(input_ids=ids).last_hidden_state
            loss = head_loss_sum(hidden, labels, weight)
        (loss / n_tokens).backward()
        total += loss.detach()
    if world > 1:
        params = [p for p in model.parameters() if p.requires_grad]
        flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten()
                          for p in params] + [total.reshape(1)])
        distributed.all_reduce_sum(flat)
        offset = 0
        for p in params:
            p.grad = flat[offset:offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        total = flat[-1]
    return float(total) / n_tokens
