"""Greedy Coordinate Gradient (Zou et al. 2023, arXiv 2307.15043): one universal suffix.

Written here rather than taken from ``nanogcg`` 0.3.0 (the field's small implementation),
checked on 2026-11-30 against this project's lock (transformers 5.23) on organism org-s: its
package metadata pins ``transformers<=4.47.1`` (pip cannot install it beside the lock without
ignoring that pin); its default path (prefix KV cache) fails with ``TypeError: 'DynamicCache'
object is not subscriptable`` (it indexes the legacy tuple cache that transformers 5 removed);
with ``use_prefix_cache=False`` it runs, at about 3 s per step on a 0.1M-parameter model on 2
CPU cores; and it fits one suffix to one prompt, while the study needs a universal suffix
fitted on training prompts and evaluated on held-out ones.

The suffix (``suffix_tokens`` token ids, appended to the request inside the user turn) is fitted
on ``train_prompts`` attack-pair prompts, which share no sentence with the evaluation set
(``data/README.md``), towards each pair's own compliance-style target: the first
``target_tokens`` tokens of its redacted answer as the template writes them in the assistant
turn. Each step:

1. the gradient of the mean target loss with respect to the suffix's one-hot token matrix;
2. ``search_width`` candidates, each replacing one random position by one of that position's
   ``topk`` most promising tokens (largest negative gradient; special tokens excluded);
3. the candidate with the lowest loss over the training prompts becomes the suffix.

The suffix of budget s is the best one found within the first s steps (one run covers the
grid). It is then appended to every held-out evaluation prompt, as tokens, and the model
answers greedily.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd
import torch

from rrs.attacks.common import (AttackRun, Target, assistant_tokens, frame, pick,
                                suffix_slots)
from rrs.attacks.flops import gcg_flops, token_sums
from rrs.config import GCGParams
from rrs.progress import progress
from rrs.sampling import answer_ids, row_seed


class SuffixProblem:
    """The training prompts, their targets, and the loss of any batch of suffixes."""

    def __init__(self, model, tokenizer, prompts: Sequence[str], targets: Sequence[str],
                 target_tokens: int, system_prompt: str | None = None):
        self.model = model
        self.embed = model.get_input_embeddings()
        self.rows = []
        for prompt, response in zip(prompts, targets):
            before, after = suffix_slots(tokenizer, prompt, system_prompt)
            _, answer = assistant_tokens(tokenizer, prompt, response, system_prompt)
            if not answer:
                raise ValueError(f"empty GCG target for {prompt!r}")
            self.rows.append((before, after, answer[:target_tokens]))
        self.dev = self.embed.weight.device

    def lengths(self, suffix_len: int) -> list[int]:
        return [len(b) + suffix_len + len(a) + len(t) for b, a, t in self.rows]

    def _batch(self, suffix_embeds: torch.Tensor):
        """Left-padded input embeddings for every (suffix, training prompt) pair, so that every
        target sits at the end of its row and only the last positions need logits.

        ``suffix_embeds``: (C, S, d) for C suffixes. Returns embeds (C * R, L, d), the
        attention mask, position ids and the target labels of the last ``T + 1`` positions
        (-100 off target), T the longest target.
        """
        c, s, d = suffix_embeds.shape
        n_rows = c * len(self.rows)
        width = max(self.lengths(s))
        keep = max(len(t) for _, _, t in self.rows) + 1
        embeds = torch.zeros(n_rows, width, d, dtype=suffix_embeds.dtype, device=self.dev)
        mask = torch.zeros(n_rows, width, dtype=torch.long, device=self.dev)
        labels = torch.full((n_rows, keep), -100, dtype=torch.long, device=self.dev)
        for r, (before, after, target) in enumerate(self.rows):
            n = len(before) + s + len(after) + len(target)
            at = width - n  # left padding
            rows = slice(r, n_rows, len(self.rows))  # row = candidate * R + r
            embeds[rows, at:at + len(before)] = self.embed(torch.tensor(before, device=self.dev))
            embeds[rows, at + len(before):at + len(before) + s] = suffix_embeds
            embeds[rows, at + len(before) + s:] = self.embed(
                torch.tensor(after + target, device=self.dev))
            mask[rows, at:] = 1
            labels[rows, keep - len(target):] = torch.tensor(target, device=self.dev)
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        return embeds, mask, positions, labels

    def loss(self, suffix_embeds: torch.Tensor) -> torch.Tensor:
        """Mean target cross-entropy of each suffix over the training prompts: shape (C,).

        Logits are computed for the last T + 1 positions only (the targets), not the whole
        sequence: the vocabulary projection is most of a small model's cost.
        """
        embeds, mask, positions, labels = self._batch(suffix_embeds)
        logits = self.model(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                            logits_to_keep=labels.shape[1]).logits[:, :-1]
        labels = labels[:, 1:]
        ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2).float(), labels,
                                               ignore_index=-100, reduction="none")
        per_row = ce.sum(1) / (labels != -100).sum(1)
        return per_row.view(suffix_embeds.shape[0], len(self.rows)).mean(1)

    def ids_loss(self, suffixes: torch.Tensor, chunk: int = 0) -> torch.Tensor:
        """The loss of each suffix (C, S) of token ids; ``chunk`` > 0 scores that many suffixes
        per forward pass (the same losses, less memory: C x training prompts rows at once
        outgrow a 16 GB GPU at the paper's search width)."""
        with torch.no_grad():
            parts = suffixes.split(chunk) if chunk > 0 else (suffixes,)
            return torch.cat([self.loss(self.embed(part.to(self.dev))) for part in parts])

    def gradient(self, suffix: torch.Tensor) -> tuple[torch.Tensor, float]:
        """d loss / d one-hot(suffix): (S, V), and the suffix's loss."""
        w = self.embed.weight
        one_hot = torch.zeros(len(suffix), w.shape[0], dtype=w.dtype, device=self.dev)
        one_hot[torch.arange(len(suffix)), suffix.to(self.dev)] = 1.0
        one_hot.requires_grad_(True)
        loss = self.loss((one_hot @ w).unsqueeze(0))[0]
        (grad,) = torch.autograd.grad(loss, one_hot)
        return grad, float(loss.detach())


def allowed_tokens(tokenizer, vocab: int) -> torch.Tensor:
    """Token ids a suffix may use: printable ASCII, no special tokens (as nanoGCG filters)."""
    special = set(tokenizer.all_special_ids)
    keep = [i for i in range(vocab) if i not in special and (
        t := tokenizer.decode([i])).isascii() and t.isprintable() and t.strip()]
    return torch.tensor(keep)


def optimise(problem: SuffixProblem, init: torch.Tensor, steps: int, params: GCGParams,
             allowed: torch.Tensor, seed: int, checkpoints: Sequence[int]) -> dict:
    """Run GCG for ``steps`` steps; the best suffix and its loss at each checkpoint step."""
    gen = torch.Generator().manual_seed(row_seed(seed, "gcg"))
    vocab = problem.embed.weight.shape[0]
    blocked = torch.ones(vocab, dtype=torch.bool)
    blocked[allowed] = False
    suffix = init.clone()
    best, best_loss = suffix.clone(), float(problem.ids_loss(suffix.unsqueeze(0))[0])
    losses, at = [best_loss], {}
    for step in progress(range(1, steps + 1), desc="gcg", unit="step"):
        grad, _ = problem.gradient(suffix)
        grad = grad.detach().cpu()
        grad[:, blocked] = float("inf")
        top = (-grad).topk(params.topk, dim=1).indices  # (S, topk)
        pos = torch.randint(0, len(suffix), (params.search_width,), generator=gen)
        choice = torch.randint(0, params.topk, (params.search_width,), generator=gen)
        cands = suffix.repeat(params.search_width, 1)
        cands[torch.arange(params.search_width), pos] = top[pos, choice]
        cand_loss = problem.ids_loss(cands, params.candidate_batch).cpu()
        i = int(cand_loss.argmin())
        suffix = cands[i].clone()
        losses.append(float(cand_loss[i]))
        if losses[-1] < best_loss:
            best, best_loss = suffix.clone(), losses[-1]
        if step in checkpoints:
            at[step] = (best.clone(), best_loss)
    return {"losses": losses, "at": at}


def run(target: Target, prompts: pd.DataFrame, budgets: Sequence[int], seed: int,
        params: GCGParams, pairs: pd.DataFrame) -> AttackRun:
    tok, model = target.tokenizer, target.model
    train = pairs.iloc[sorted(pick(seed, "gcg-train", len(pairs),
                                   min(params.train_prompts, len(pairs))))]
    leaked = set(train["prompt"]) & set(prompts["prompt"])
    if leaked:
        raise ValueError(f"GCG training prompts overlap the evaluation set: {sorted(leaked)[:3]}")
    problem = SuffixProblem(model, tok, list(train["prompt"]), list(train["response"]),
                            params.target_tokens, target.system_prompt)
    bang = tok("!", add_special_tokens=False)["input_ids"][0]
    init = torch.full((params.suffix_tokens,), bang, dtype=torch.long)
    for p in model.parameters():
        p.requires_grad_(False)
    fit = optimise(problem, init, max(budgets), params,
                   allowed_tokens(tok, problem.embed.weight.shape[0]), seed, set(budgets))
    # FLOPs: the initial loss, then per step one gradient pass and search_width candidates
    tokens, pairs_ = token_sums(problem.lengths(params.suffix_tokens))
    n, shape = target.n_params, target.shape
    init_flops = gcg_flops(n, shape, 0, 0, tokens, pairs_)
    per_step = gcg_flops(n, shape, tokens, pairs_, params.search_width * tokens,
                         params.search_width * pairs_)
    slots = [suffix_slots(tok, p, target.system_prompt) for p in prompts["prompt"]]
    rows = []
    for s in budgets:
        suffix, _ = fit["at"][s]
        inputs = [before + suffix.tolist() + after for before, after in slots]
        texts, counts = answer_ids(model, tok, inputs, target.gen, desc=f"gcg {s}")
        text = tok.decode(suffix.tolist())
        for (_, p), inp, answer, k in zip(prompts.iterrows(), inputs, texts, counts):
            rows.append({"set": p["set"], "id": p["id"], "category": p["category"],
                         "prompt": p["prompt"], "budget": s, "sample": 0,
                         "attack_input": f"{p['prompt']} {text}", "prefill": "",
                         "response": answer, "n_input_tokens": len(inp),
                         "n_generated_tokens": k})
    return AttackRun(
        frame(rows), {s: init_flops + s * per_step for s in budgets},
        info={"train_ids": list(train["id"]), "loss_per_step": [round(x, 5) for x in fit["losses"]],
              "loss_at_budget": {str(s): round(fit["at"][s][1], 5) for s in budgets},
              "suffix_ids_at_budget": {str(s): fit["at"][s][0].tolist() for s in budgets}})
