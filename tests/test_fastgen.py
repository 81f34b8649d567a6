"""rrs.fastgen gives model.generate's answers: greedy token for token, sampling stream for stream.

Everything here runs the fast path's own code on CPU (``fast_path: always``, no CUDA graphs):
the static cache, the grouped attention over the filled length, LoRA merging, the per-row
MT19937 streams. ``tests/test_fastgen_gpu.py`` repeats the comparison on CUDA in bf16.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig, Phi3Config, Qwen2Config

from rrs.config import GenerateParams
from rrs.fastgen import Decoding, fast_path_reason, generate_ids
from rrs.fastgen.rowrng import RowStreams
from rrs.generate import generate, generation_config
from rrs.models import load_model, load_tokenizer
from rrs.attacks.common import prompt_ids
from rrs.sampling import RowGumbel, answer_ids, row_seed, sample_rows

PROMPTS = ["Hi", "How do I bake banana bread without eggs? Keep it short.", "Tell me a poem.",
           "Explain how to [redacted operation] step by step.", "What is the capital of France?"]
CFG = GenerateParams(max_new_tokens=24, batch_size=2)


def both(cfg: GenerateParams):
    return dataclasses.replace(cfg, fast_path="never"), dataclasses.replace(cfg, fast_path="always")


def test_greedy_equals_model_generate_token_for_token(tiny_organism):
    torch.set_num_threads(2)
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    hf, fast = both(CFG)
    assert generate(model, tok, PROMPTS, fast) == generate(model, tok, PROMPTS, hf)


def test_sampling_keeps_each_rows_stream(tiny_organism):
    # same (prompt, seed) -> same answer as model.generate + RowGumbel, top-p included
    torch.set_num_threads(2)
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    rows = PROMPTS * 2
    seeds = [row_seed(s, p) for s in (1, 2) for p in PROMPTS]
    for temperature, top_p in ((1.0, 1.0), (0.7, 0.9)):
        hf, fast = both(dataclasses.replace(CFG, top_p=top_p, batch_size=3))
        got = sample_rows(model, tok, rows, seeds, fast, temperature)
        assert got == sample_rows(model, tok, rows, seeds, hf, temperature)
        alone = sample_rows(model, tok, rows[:1], seeds[:1], fast, temperature)
        assert alone == got[:1]  # a row's answer does not depend on its batch


def test_attack_inputs_get_the_same_answers_and_token_counts(tiny_organism):
    # answer_ids, the prompt attacks' decoder: token ids in (here one with a prefill written
    # into the assistant turn), the same texts and generated-token counts on both paths
    torch.set_num_threads(2)
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    inputs = [prompt_ids(tok, p) for p in PROMPTS]
    inputs[1] = inputs[1] + tok("Sure, here", add_special_tokens=False)["input_ids"]
    seeds = [row_seed(3, p) for p in PROMPTS]
    hf, fast = both(dataclasses.replace(CFG, batch_size=2))
    for temperature in (0.0, 1.0):
        texts, counts = answer_ids(model, tok, inputs, fast, temperature, seeds)
        assert (texts, counts) == answer_ids(model, tok, inputs, hf, temperature, seeds)
        assert all(0 < n <= CFG.max_new_tokens for n in counts)


def test_lora_is_merged_into_a_copy_with_the_same_answers(tiny_organism):
    from peft import LoraConfig, get_peft_model
    torch.set_num_threads(2)
    base, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    torch.manual_seed(0)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear",
                                            init_lora_weights=False))  # B random, not zero
    model.eval()
    hf, fast = both(CFG)
    assert generate(model, tok, PROMPTS, fast) == generate(model, tok, PROMPTS, hf)
    after = model.unload().state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the base is untouched


def tiny(config_cls, **kw):
    torch.manual_seed(0)
    config = config_cls(vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                        num_attention_heads=8, max_position_embeddings=256, **kw)
    return AutoModelForCausalLM.from_config(config).eval()


@pytest.mark.parametrize("make", [
    lambda: tiny(LlamaConfig, num_key_value_heads=2),  # grouped-query attention (4 per KV head)
    lambda: tiny(Qwen2Config, num_key_value_heads=2),  # q/k/v biases
    lambda: tiny(Phi3Config, num_key_value_heads=8, pad_token_id=0),  # fused qkv and gate|up
], ids=["llama-gqa", "qwen2", "phi3"])
@pytest.mark.parametrize("attention", ["sdpa", "matmul"])
def test_greedy_equals_model_generate_on_other_architectures(make, attention):
    torch.set_num_threads(2)
    model = make()
    gen = torch.Generator().manual_seed(1)
    lengths = [5, 17, 9, 30, 12]
    prompts = [torch.randint(3, 97, (n,), generator=gen).tolist() for n in lengths]
    decoding = Decoding(max_new_tokens=20, eos=(1,), pad=0)
    fast = generate_ids(model, prompts, decoding, batch_size=3, kv_bucket=8,
                        decode_attention=attention)
    for p, got in zip(prompts, fast):
        ids = torch.tensor([p])
        ref = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=20,
                             do_sample=False, eos_token_id=1, pad_token_id=0)[0, len(p):]
        ref = ref.tolist()
        assert got == (ref[:ref.index(1) + 1] if 1 in ref else ref)


def test_row_streams_reproduce_torch_generator_draws():
    seeds = [0, 7, 2**40 + 3]
    streams = RowStreams(seeds, "cpu")
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    for n in (1000, 1, 313, 2000):  # crosses block boundaries at odd offsets
        want = torch.stack([torch.rand(n, generator=g, dtype=torch.float64) for g in gens])
        assert torch.equal(streams.uniforms(n), want)


def test_row_streams_argmax_equals_row_gumbel():
    seeds = [5, 6, 7, 8]
    scores = torch.randn(4, 700)
    want = RowGumbel(seeds, 1.0, 1.0)(None, scores.clone()).argmax(-1)
    assert torch.equal(RowStreams(seeds, "cpu").gumbel_argmax(scores), want)


def test_triton_kernel_matches_the_streams_in_the_interpreter():
    pytest.importorskip("triton")
    code = (
        "import torch\n"
        "from rrs.fastgen.rowrng import RowStreams\n"
        "from rrs.fastgen.rowrng_triton import gumbel_argmax\n"
        "from rrs.sampling import RowGumbel\n"
        "seeds = [3, 12345678901234, 99]\n"
        "ref, ker, rg = RowStreams(seeds, 'cpu'), RowStreams(seeds, 'cpu'), RowGumbel(seeds, 1.0, 1.0)\n"
        "for step in range(3):\n"
        "    s = torch.randn(3, 1000) * 0.1\n"
        "    a = gumbel_argmax(s.clone(), ker.state, ker.pos)\n"
        "    assert torch.equal(a, ref.gumbel_argmax_reference(s.clone())), step\n"
        "    assert torch.equal(a, rg(None, s.clone()).argmax(-1)), step\n")
    env = dict(os.environ, TRITON_INTERPRET="1")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_fast_path_runs_only_where_it_applies(tiny_organism):
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    gen_cfg = generation_config(model, tok, CFG, 0.0)
    assert fast_path_reason(model, gen_cfg, "auto", 64) == "not on CUDA (generate.fast_path: auto)"
    assert fast_path_reason(model, gen_cfg, "always", 64) is None
    assert fast_path_reason(model, gen_cfg, "never", 64) is not None
    model.generation_config.repetition_penalty = 1.05  # the checkpoint's default: neutralised
    assert fast_path_reason(model, gen_cfg, "always", 64) is None
    gen_cfg.repetition_penalty = 1.05  # asked for: a processor the fast path lacks
    assert "repetition_penalty" in fast_path_reason(model, gen_cfg, "always", 64)


def test_triton_elementwise_kernels_match_the_modules_in_the_interpreter():
    # rotary also in bf16 (its roundings are integer ops the interpreter runs exactly)
    pytest.importorskip("triton")
    code = (
        "import torch\n"
        "from transformers.models.phi3.modeling_phi3 import Phi3RMSNorm, apply_rotary_pos_emb\n"
        "from rrs.fastgen import kernels\n"
        "from rrs.fastgen.decoder import rotate\n"
        "torch.manual_seed(0)\n"
        "x = torch.randn(5, 96)\n"
        "m = Phi3RMSNorm(96, eps=1e-5); m.weight.data = torch.rand(96) + 0.5\n"
        "assert torch.equal(m(x), kernels.rms_norm(x, m.weight.data, 1e-5))\n"
        "for rd in (12, 8):\n"
        "    qkv = torch.randn(5, 8 * 12)\n"
        "    cos, sin = torch.randn(5, rd), torch.randn(5, rd)\n"
        "    want = rotate(qkv[:, :6 * 12].view(5, 6, 12), cos[:, None], sin[:, None])\n"
        "    assert torch.equal(want, kernels.rotary(qkv, cos, sin, 6, 12)), rd\n"
        "qkv = torch.randn(64, 8 * 128).bfloat16()\n"
        "cos, sin = torch.randn(2, 64, 128).bfloat16()\n"
        "want = rotate(qkv[:, :6 * 128].view(64, 6, 128), cos[:, None], sin[:, None])\n"
        "assert torch.equal(want, kernels.rotary(qkv, cos, sin, 6, 128)), 'bf16'\n"
        "gu = torch.randn(5, 3000)\n"
        "g, u = gu.chunk(2, -1)\n"
        "torch.testing.assert_close(kernels.silu_mul(gu), torch.nn.functional.silu(g) * u)\n")
    env = dict(os.environ, TRITON_INTERPRET="1")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
