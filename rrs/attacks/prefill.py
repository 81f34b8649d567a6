"""Prefilling (Qi et al. 2025, "Safety alignment should be more than just a few tokens").

The assistant turn starts with the first k tokens of a compliance-style answer, written
through the model's own chat template (:func:`rrs.attacks.common.assistant_tokens`), and the
model continues from there by greedy decoding. The answer prefilled for a prompt is an attack
pair's redacted response ("Sure, here is how to [redacted operation]. Step 1: [redacted]"),
drawn per prompt from the pairs of the same harm category (seeded); the evaluation prompts are
never used as prefills.

The judge sees only what the model wrote after the prefill. The prefill is the attacker's text
and reads as compliance by construction; counting it would make every prefilled answer
COMPLY. The question is whether the model carries on complying or recovers and refuses
(the records keep the prefill beside the answer).
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from rrs.attacks.common import AttackRun, Target, assistant_tokens, frame, pick
from rrs.config import PrefillParams
from rrs.sampling import answer_ids


def prefills(prompts: pd.DataFrame, pairs: pd.DataFrame, seed: int) -> list[str]:
    """One attack-pair response per prompt, same category where the pairs have it."""
    out = []
    for pid, category in zip(prompts["id"], prompts["category"]):
        pool = pairs[pairs["category"] == category]
        pool = pool if len(pool) else pairs
        out.append(pool["response"].iloc[pick(seed, f"prefill:{pid}", len(pool))])
    return out


def run(target: Target, prompts: pd.DataFrame, budgets: Sequence[int], seed: int,
        params: PrefillParams, pairs: pd.DataFrame) -> AttackRun:
    tok = target.tokenizer
    split = [assistant_tokens(tok, p, r, target.system_prompt)
             for p, r in zip(prompts["prompt"], prefills(prompts, pairs, seed))]
    rows = []
    for k in budgets:
        inputs = [head + answer[:k] for head, answer in split]
        texts, counts = answer_ids(target.model, tok, inputs, target.gen, desc=f"prefill {k}")
        for (_, p), (head, answer), inp, text, n in zip(prompts.iterrows(), split, inputs,
                                                         texts, counts):
            rows.append({"set": p["set"], "id": p["id"], "category": p["category"],
                         "prompt": p["prompt"], "budget": k, "sample": 0,
                         "attack_input": p["prompt"],
                         "prefill": tok.decode(answer[:k], skip_special_tokens=True),
                         "response": text, "n_input_tokens": len(inp),
                         "n_generated_tokens": n})
    return AttackRun(frame(rows), {k: 0.0 for k in budgets},
                     info={"judge_sees": "the model's continuation after the prefill"})
