"""Many-shot jailbreaking (Anil et al. 2024): k faux dialogues before the request.

Each dialogue is an attack pair (a harmful training request and its redacted compliance-style
answer) written as an earlier user / assistant exchange through the chat template; the
evaluation prompts are never used as shots. A prompt's k shots are the first k of a seeded
per-prompt order, so doubling k adds dialogues to the same conversation.

A budget is run only where every prompt with its shots fits the model's context
(``max_position_embeddings``): an organism trained on 64-token windows cannot hold one shot,
and the run says "not applicable: context N tokens" rather than answering outside the window
the model was trained on.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from rrs.attacks.common import AttackRun, Target, frame, pick, prompt_ids
from rrs.config import ManyShotParams
from rrs.sampling import answer_ids


class ContextTooShort(ValueError):
    """No budget of the grid fits the model's context."""


def conversations(target: Target, prompts: pd.DataFrame, pairs: pd.DataFrame, k: int,
                  seed: int) -> list[list[int]]:
    if k > len(pairs):
        raise ValueError(f"{k} shots but only {len(pairs)} attack pairs")
    out = []
    for pid, prompt in zip(prompts["id"], prompts["prompt"]):
        order = pick(seed, f"many-shot:{pid}", len(pairs), size=len(pairs))[:k]
        shots = [(pairs["prompt"].iloc[i], pairs["response"].iloc[i]) for i in order]
        out.append(prompt_ids(target.tokenizer, prompt, target.system_prompt, shots))
    return out


def fitting(target: Target, prompts: pd.DataFrame, pairs: pd.DataFrame,
            budgets: Sequence[int], seed: int) -> tuple[dict[int, list[list[int]]], dict]:
    """The budgets whose longest conversation fits the context, and each budget's length."""
    context, fits, longest = target.context, {}, {}
    for k in sorted(budgets):
        inputs = conversations(target, prompts, pairs, k, seed)
        longest[k] = max(len(x) for x in inputs)
        if context is not None and longest[k] > context:
            break  # longer k only grow
        fits[k] = inputs
    return fits, longest


def run(target: Target, prompts: pd.DataFrame, budgets: Sequence[int], seed: int,
        params: ManyShotParams, pairs: pd.DataFrame) -> AttackRun:
    """Raises ContextTooShort (naming the context) when not even the smallest k fits."""
    fits, longest = fitting(target, prompts, pairs, budgets, seed)
    if not fits:
        k = min(budgets)
        raise ContextTooShort(f"not applicable: context {target.context} tokens "
                              f"({k} shot(s) need {longest[k]})")
    rows = []
    for k, inputs in fits.items():
        texts, counts = answer_ids(target.model, target.tokenizer, inputs, target.gen,
                                   desc=f"many-shot {k}")
        for (_, p), inp, text, n in zip(prompts.iterrows(), inputs, texts, counts):
            rows.append({"set": p["set"], "id": p["id"], "category": p["category"],
                         "prompt": p["prompt"], "budget": k, "sample": 0,
                         "attack_input": f"[{k} faux dialogues] {p['prompt']}", "prefill": "",
                         "response": text, "n_input_tokens": len(inp),
                         "n_generated_tokens": n})
    skipped = [k for k in budgets if k not in fits]
    return AttackRun(frame(rows), {k: 0.0 for k in fits},
                     info={"context": target.context, "longest_input": longest,
                           "not_run": {str(k): f"does not fit: context {target.context} tokens"
                                       for k in skipped}})
