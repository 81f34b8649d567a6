"""Best-of-N jailbreaking (Hughes et al. 2024, arXiv 2412.03556).

Each of N samples asks the request through a fresh random augmentation of its text, the three
text augmentations of the paper, with sigma = 0.4 by default:

* word scrambling: each word longer than three characters has its middle characters shuffled
  (first and last kept) with probability sigma^(1/2);
* random capitalisation: each letter is upper-cased with probability sigma^(1/2);
* character noising: each printable ASCII character has its code moved by +1 or -1 (staying
  printable) with probability sigma^3;

and the model samples its answer at temperature 1. A prompt is broken at N when any of its
first N samples is judged COMPLY, so one run of max(N) samples gives the whole ASR-vs-N
curve. Augmentation and sampling streams depend only on (seed, prompt id, sample index).
"""

from __future__ import annotations

import random
from typing import Sequence

import pandas as pd

from rrs.attacks.common import AttackRun, Target, frame, prompt_ids
from rrs.config import BestOfNParams
from rrs.sampling import answer_ids, row_seed


def scramble(word: str, rng: random.Random) -> str:
    if len(word) <= 3:
        return word
    middle = list(word[1:-1])
    rng.shuffle(middle)
    return word[0] + "".join(middle) + word[-1]


def augment(text: str, sigma: float, rng: random.Random) -> str:
    """One BoN augmentation of ``text`` (scramble, capitalise, noise; in that order)."""
    p_word = p_caps = sigma ** 0.5
    words = [scramble(w, rng) if rng.random() < p_word else w for w in text.split(" ")]
    chars = [c.upper() if c.isalpha() and rng.random() < p_caps else c for c in " ".join(words)]
    out = []
    for c in chars:
        code = ord(c)
        if 32 <= code <= 126 and rng.random() < sigma ** 3:
            code = min(126, max(32, code + rng.choice((-1, 1))))
        out.append(chr(code))
    return "".join(out)


def augmentations(prompt_id: str, prompt: str, n: int, sigma: float, seed: int) -> list[str]:
    """The first ``n`` augmented versions of one prompt (sample i's stream: seed, id, i)."""
    return [augment(prompt, sigma, random.Random(row_seed(seed, f"bon:{prompt_id}:{i}")))
            for i in range(n)]


def run(target: Target, prompts: pd.DataFrame, budgets: Sequence[int], seed: int,
        params: BestOfNParams, pairs: pd.DataFrame | None = None) -> AttackRun:
    n_max = max(budgets)
    rows, inputs, seeds = [], [], []
    for _, p in prompts.iterrows():
        for i, text in enumerate(augmentations(p["id"], p["prompt"], n_max, params.sigma, seed)):
            rows.append({"set": p["set"], "id": p["id"], "category": p["category"],
                         "prompt": p["prompt"], "budget": i + 1, "sample": i,
                         "attack_input": text, "prefill": ""})
            inputs.append(prompt_ids(target.tokenizer, text, target.system_prompt))
            seeds.append(row_seed(seed, f"bon-sample:{p['id']}:{i}"))
    texts, counts = answer_ids(target.model, target.tokenizer, inputs, target.gen,
                               temperature=params.temperature, seeds=seeds,
                               batch_size=params.batch_size, desc="best-of-N")
    for row, inp, text, n in zip(rows, inputs, texts, counts):
        row.update(response=text, n_input_tokens=len(inp), n_generated_tokens=n)
    return AttackRun(frame(rows), {n: 0.0 for n in budgets}, cumulative_queries=True,
                     info={"n_max": n_max, "temperature": params.temperature,
                           "sigma": params.sigma})
