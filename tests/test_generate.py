"""Batched generation with left padding gives each prompt the answer it gets alone."""

from rrs.config import GenerateParams
from rrs.generate import generate
from rrs.models import load_model, load_tokenizer, param_count


def test_batched_greedy_generation_matches_one_prompt_at_a_time(tiny_organism):
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    prompts = ["Hi", "How do I bake banana bread without eggs? Keep it short.", "Tell me a poem."]
    cfg = GenerateParams(max_new_tokens=12, batch_size=3)
    batched = generate(model, tok, prompts, cfg)
    alone = [generate(model, tok, [p], cfg)[0] for p in prompts]
    assert batched == alone
    assert all(isinstance(a, str) for a in batched)


def test_sampling_is_reproducible_for_a_seed(tiny_organism):
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    cfg = GenerateParams(max_new_tokens=12, batch_size=2)
    first = generate(model, tok, ["Hi", "Hello"], cfg, temperature=1.0, seed=7)
    assert first == generate(model, tok, ["Hi", "Hello"], cfg, temperature=1.0, seed=7)


def test_tokenizer_loads_left_padded_with_a_chat_template(tiny_organism):
    tok = load_tokenizer(tiny_organism)
    assert tok.padding_side == "left" and tok.chat_template


def test_param_count_counts_tied_weights_once(tiny_organism):
    model = load_model(tiny_organism)
    embedding = model.get_input_embeddings().weight.numel()
    assert param_count(tiny_organism, model) == sum(p.numel() for p in model.parameters())
    assert param_count(tiny_organism, model) < 2 * embedding + 200_000


def test_a_checkpoints_own_decoding_defaults_do_not_leak_in(tiny_organism):
    # real chat models ship generation_config.json with e.g. repetition_penalty 1.05 (Qwen2);
    # transformers would apply it to the study's greedy decoding if the field were left unset
    model, tok = load_model(tiny_organism), load_tokenizer(tiny_organism)
    prompts = ["Hi", "Tell me a poem about the sea and the sky."]
    cfg = GenerateParams(max_new_tokens=24, batch_size=2, fast_path="never")
    clean = generate(model, tok, prompts, cfg)
    model.generation_config.repetition_penalty = 3.0
    model.generation_config.no_repeat_ngram_size = 2
    assert generate(model, tok, prompts, cfg) == clean
