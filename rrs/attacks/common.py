"""What every prompt attack shares: the attacked model, the result it returns, and token-level
chat-template helpers (attacks build their inputs as token ids, through the model's own template).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from rrs.attacks.flops import Shape
from rrs.chat import messages
from rrs.config import GenerateParams
from rrs.sampling import row_seed

RECORD_COLUMNS = ["set", "id", "category", "prompt", "budget", "sample", "attack_input",
                  "prefill", "response", "n_input_tokens", "n_generated_tokens"]


@dataclass(frozen=True)
class Target:
    """The attacked model and how it is queried (decoding from params ``generate``)."""
    model: Any
    tokenizer: Any
    n_params: int
    shape: Shape
    gen: GenerateParams
    system_prompt: str | None = None

    @property
    def context(self) -> int | None:
        """Positions the model was built for (``max_position_embeddings``), if it says."""
        return getattr(self.model.config, "max_position_embeddings", None)


@dataclass
class AttackRun:
    """One attack's output over its whole budget grid.

    Attributes:
        records: one row per answered query (``RECORD_COLUMNS``): ``budget`` is the grid value
            the answer belongs to (for best-of-N, the sample's position N), ``response`` is
            the text the judge sees.
        attack_flops: budget -> the attack's own compute to reach it, beyond answering the
            queries (GCG's optimisation; 0 where the queries are all there is).
        cumulative_queries: True when the queries of every budget up to b are spent to reach
            b (best-of-N: the first N samples); False when each budget queries afresh.
        info: what else the run reports (applicability, the GCG loss curve and suffix, ...).
    """
    records: pd.DataFrame
    attack_flops: dict[int, float]
    cumulative_queries: bool = False
    info: dict = field(default_factory=dict)


def ids(tokenizer, text: str) -> list[int]:
    """Token ids of template-rendered text (the template wrote any special tokens)."""
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def render(tokenizer, msgs: list[dict], generation_prompt: bool) -> list[int]:
    return ids(tokenizer, tokenizer.apply_chat_template(
        msgs, tokenize=False, add_generation_prompt=generation_prompt))


def prompt_ids(tokenizer, prompt: str, system_prompt: str | None = None,
               history: Sequence[tuple[str, str]] = ()) -> list[int]:
    """A request (after optional earlier user/assistant turns), assistant turn opened."""
    msgs = messages(prompt, system_prompt)
    turns = [m for u, a in history for m in ({"role": "user", "content": u},
                                             {"role": "assistant", "content": a})]
    at = 1 if system_prompt else 0
    return render(tokenizer, msgs[:at] + turns + msgs[at:], True)


def assistant_tokens(tokenizer, prompt: str, response: str,
                     system_prompt: str | None = None) -> tuple[list[int], list[int]]:
    """``(head, answer)``: the request with the assistant turn opened, and the tokens the
    template puts inside the assistant turn for ``response`` (its closing marker excluded).

    ``head + answer[:k]`` is the request with the first k answer tokens already written in the
    assistant's own turn: exactly what the model would have produced itself.

    Raises:
        ValueError: the template does not render the request as a prefix of the conversation.
    """
    head = prompt_ids(tokenizer, prompt, system_prompt)
    full = render(tokenizer, messages(prompt, system_prompt, response), False)
    empty = render(tokenizer, messages(prompt, system_prompt, ""), False)
    if full[:len(head)] != head or empty[:len(head)] != head:
        raise ValueError("the chat template does not render the request as a prefix of the "
                         "conversation; prefill needs that")
    closing = empty[len(head):]
    answer = full[len(head):]
    if closing and answer[-len(closing):] == closing:
        answer = answer[:-len(closing)]
    return head, answer


MARK = "\x00SUFFIX\x00"


def suffix_slots(tokenizer, prompt: str, system_prompt: str | None = None
                 ) -> tuple[list[int], list[int]]:
    """``(before, after)`` token ids around an adversarial suffix appended to the request
    (``prompt + " " + suffix`` in the user turn), the assistant turn opened after it."""
    text = tokenizer.apply_chat_template(messages(f"{prompt} {MARK}", system_prompt),
                                         tokenize=False, add_generation_prompt=True)
    before, after = text.split(MARK)
    return ids(tokenizer, before), ids(tokenizer, after)


def pick(seed: int, key: str, n: int, size: int | None = None, replace: bool = False):
    """Seeded choice of ``size`` indices in ``range(n)`` (one int when size is None) that
    depends only on (seed, key): a prompt's draw does not move when other prompts change."""
    rng = np.random.default_rng(row_seed(seed, key))
    return rng.choice(n, size=size, replace=replace) if size is not None else int(rng.integers(n))


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)
