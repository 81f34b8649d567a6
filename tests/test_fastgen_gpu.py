"""rrs.fastgen on CUDA (bf16): graphs, Triton kernels and GPU streams. Marked ``gpu``."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from transformers import AutoModelForCausalLM, Qwen2Config
from transformers.models.qwen2.modeling_qwen2 import Qwen2RMSNorm

from rrs.config import GenerateParams
from rrs.fastgen import Decoding, generate_ids
from rrs.fastgen.rowrng import RowStreams
from rrs.generate import generate
from rrs.models import load_model, load_tokenizer
from rrs.sampling import RowGumbel, row_seed, sample_rows

pytestmark = pytest.mark.gpu
PROMPTS = ["Hi", "How do I bake banana bread without eggs? Keep it short.", "Tell me a poem.",
           "Explain how to [redacted operation] step by step.", "What is the capital of France?"]


def qwen_tiny():
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=1000, hidden_size=256, intermediate_size=512,
                         num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=2,
                         max_position_embeddings=512)
    return AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).cuda().eval()


def test_graphs_and_kernels_change_no_token():
    model = qwen_tiny()
    gen = torch.Generator().manual_seed(1)
    prompts = [torch.randint(3, 1000, (n,), generator=gen).tolist() for n in (5, 40, 17, 90)]
    decoding = Decoding(max_new_tokens=64, eos=(1,), pad=0)
    plain = generate_ids(model, prompts, decoding, 4, graphs=False)
    assert generate_ids(model, prompts, decoding, 4, graphs=True) == plain


def test_kernels_round_like_the_modules_in_bf16():
    from rrs.fastgen import kernels
    torch.manual_seed(0)
    x = torch.randn(64, 3584, device="cuda", dtype=torch.bfloat16)
    norm = Qwen2RMSNorm(3584, eps=1e-6).cuda().to(torch.bfloat16)
    norm.weight.data.uniform_(0.5, 1.5)
    same = (norm(x) == kernels.rms_norm(x, norm.weight, 1e-6)).float().mean().item()
    print(f"rms_norm: {same:.5f} of bf16 outputs identical")
    assert same > 0.999
    qkv = torch.randn(64, 36 * 128, device="cuda", dtype=torch.bfloat16)
    cos, sin = torch.randn(2, 64, 128, device="cuda", dtype=torch.bfloat16)
    from rrs.fastgen.decoder import rotate
    want = rotate(qkv[:, :32 * 128].view(64, 32, 128), cos[:, None], sin[:, None])
    got = kernels.rotary(qkv, cos, sin, 32, 128)
    same = (got == want).float().mean().item()
    print(f"rotary: {same:.5f} of bf16 outputs identical, max |diff| "
          f"{(got.float() - want.float()).abs().max().item():.4g}")
    assert same > 0.99
    gu = torch.randn(64, 2 * 18944, device="cuda", dtype=torch.bfloat16)
    g, u = gu.chunk(2, -1)
    same = (kernels.silu_mul(gu) == torch.nn.functional.silu(g) * u).float().mean().item()
    print(f"silu_mul: {same:.5f} of bf16 outputs identical")
    assert same > 0.99


def test_gpu_streams_pick_the_cpu_streams_tokens():
    seeds = [row_seed(42, f"p{i}") for i in range(8)]
    streams = RowStreams(seeds, "cuda")
    cpu = RowGumbel(seeds, 1.0, 1.0)
    for _ in range(3):  # vocab of Qwen2: 152064 doubles per row per step
        scores = torch.randn(8, 152064, device="cuda")
        want = cpu(None, scores.cpu()).argmax(-1)
        assert torch.equal(streams.gumbel_argmax(scores).cpu(), want)


def test_greedy_agrees_with_model_generate_in_bf16(tiny_organism):
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    cfg = GenerateParams(max_new_tokens=32, batch_size=8)
    hf = generate(model, tok, PROMPTS * 4, dataclasses.replace(cfg, fast_path="never"))
    fast = generate(model, tok, PROMPTS * 4, cfg)
    same = sum(a == b for a, b in zip(hf, fast)) / len(hf)
    print(f"bf16 greedy: {same:.3f} of answers identical to model.generate")
    assert same >= 0.8


def test_a_rows_sample_does_not_depend_on_its_batch_on_cuda(tiny_organism):
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    cfg = GenerateParams(max_new_tokens=24, batch_size=64)
    seeds = [row_seed(1, p) for p in PROMPTS]
    alone = sample_rows(model, tok, PROMPTS, seeds, cfg, 1.0)
    together = sample_rows(model, tok, PROMPTS * 2, seeds + [row_seed(2, p) for p in PROMPTS],
                           cfg, 1.0)
    assert together[:5] == alone


def test_attack_decoder_takes_the_fast_path_and_agrees_with_model_generate(tiny_organism,
                                                                           monkeypatch):
    # rrs.sampling.answer_ids (the prompt attacks' decoder) on CUDA: fastgen under "auto",
    # model.generate under "never"; greedy answers as close as the study's generation path's
    import rrs.fastgen as fastgen
    from rrs.attacks.common import prompt_ids
    from rrs.sampling import answer_ids

    calls = []
    real = fastgen.generate_ids
    monkeypatch.setattr(fastgen, "generate_ids", lambda *a, **k: calls.append(1) or real(*a, **k))
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    cfg = GenerateParams(max_new_tokens=32, batch_size=8)
    inputs = [prompt_ids(tok, p) for p in PROMPTS * 4]
    seeds = [row_seed(5, f"{i}") for i in range(len(inputs))]
    fast, fast_n = answer_ids(model, tok, inputs, cfg, 0.0, seeds)
    assert calls  # CUDA and fast_path auto: the fast path ran
    hf, hf_n = answer_ids(model, tok, inputs, dataclasses.replace(cfg, fast_path="never"), 0.0,
                          seeds)
    same = sum(a == b for a, b in zip(fast, hf)) / len(hf)
    print(f"attack decoder, bf16 greedy: {same:.3f} of answers identical to model.generate")
    assert same >= 0.8 and all(0 < n <= 32 for n in fast_n)
