"""The FLOP counter on hand-computed cases."""

import pytest

from rrs.attacks.flops import (Shape, forward_flops, gcg_flops, lora_flops, query_flops,
                               token_sums)

SHAPE = Shape(layers=2, width=8)


def test_token_sums_count_tokens_and_causal_pairs():
    assert token_sums([3, 1]) == (4, 6 + 1)  # 3 tokens attend to 1 + 2 + 3 = 6 positions
    with pytest.raises(ValueError):
        token_sums([-1])


def test_forward_is_2n_per_token_plus_the_attention_term():
    # N = 100, one 3-token sequence: 2 * 100 * 3 + 2 * 2 layers * 8 width * (1 + 2 + 3)
    assert forward_flops(100, SHAPE, 3, 6) == 600 + 192


def test_lora_step_is_forward_plus_backward_and_checkpointing_adds_a_forward():
    assert lora_flops(100, SHAPE, 3, 6) == 2 * 792
    assert lora_flops(100, SHAPE, 3, 6, gradient_checkpointing=True) == 3 * 792


def test_gcg_step_is_a_gradient_pass_plus_candidate_forwards():
    # gradient over one 3-token sequence, 4 candidates over the same sequence
    assert gcg_flops(100, SHAPE, 3, 6, 12, 24) == 2 * 792 + 4 * 792


def test_query_counts_input_and_generated_tokens_as_one_sequence():
    # 2 input + 1 generated = the 3-token sequence above, twice
    assert query_flops(100, SHAPE, [2, 2], [1, 1]) == 2 * 792
