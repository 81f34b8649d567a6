"""The paper's model architectures, from each model's published ``config.json``.

Used where the weights themselves cannot be had (no Hub on the GPU machine, none on CI): a
model built from one of these configs with random weights has the real model's shapes, so
its memory and speed are the real model's, its answers are noise. The keys are the aliases
of the paper profile (``conf/study/paper.yaml``).
"""

from __future__ import annotations

from typing import Callable

from transformers import LlamaConfig, Phi3Config, PretrainedConfig, Qwen2Config

ARCHS: dict[str, Callable[[], PretrainedConfig]] = {
    # TinyLlama/TinyLlama-1.1B-Chat-v1.0
    "tinyllama": lambda: LlamaConfig(
        hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
        num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048,
        rms_norm_eps=1e-5, tie_word_embeddings=False),
    # microsoft/Phi-3-mini-4k-instruct
    "phi3-mini": lambda: Phi3Config(
        hidden_size=3072, intermediate_size=8192, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=32, vocab_size=32064, max_position_embeddings=4096,
        rms_norm_eps=1e-5, tie_word_embeddings=False),
    # Qwen/Qwen2-7B-Instruct
    "qwen2-7b": lambda: Qwen2Config(
        hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
        num_key_value_heads=4, vocab_size=152064, max_position_embeddings=32768,
        rms_norm_eps=1e-6, rope_theta=1_000_000.0, tie_word_embeddings=False),
    # meta-llama/Llama-3.1-8B-Instruct
    "llama31-8b": lambda: LlamaConfig(
        hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072,
        rms_norm_eps=1e-5, rope_theta=500_000.0, tie_word_embeddings=False,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
}
