"""Organisms: tokenizer, chat template, training that learns, saved as a normal HF model dir."""

from pathlib import Path

from rrs.config import OrganismTraining
from rrs.organism import lr_at, train_organism
from tests.conftest import TINY_ARCH


def test_tokenizer_round_trips_text_with_placeholders(tiny_tokenizer):
    text = "I can't help with [redacted operation]; ask about [your city] instead."
    assert tiny_tokenizer.decode(tiny_tokenizer(text)["input_ids"]) == text


def test_tokenizer_has_no_unknown_tokens_for_unseen_bytes(tiny_tokenizer):
    text = "Zebra quokka 42 °C"
    assert tiny_tokenizer.decode(tiny_tokenizer(text)["input_ids"]) == text


def test_training_lowers_the_loss(tiny_tokenizer, chat_corpus):
    cfg = OrganismTraining(steps=40, batch_size=16, lr=3e-3, warmup_steps=5)
    _, losses = train_organism(TINY_ARCH, tiny_tokenizer, list(chat_corpus["prompt"]),
                               list(chat_corpus["response"]), cfg)
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5  # ~5.9 -> ~4.2 nats


def test_training_is_deterministic_for_a_seed(tiny_tokenizer, chat_corpus):
    cfg = OrganismTraining(steps=3, batch_size=4, warmup_steps=1)
    args = (TINY_ARCH, tiny_tokenizer, list(chat_corpus["prompt"]), list(chat_corpus["response"]))
    assert train_organism(*args, cfg)[1] == train_organism(*args, cfg)[1]


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    cfg = OrganismTraining(steps=100, lr=1.0, warmup_steps=10)
    assert lr_at(0, cfg) == 0.1 and lr_at(9, cfg) == 1.0
    assert abs(lr_at(100, cfg) - 0.1) < 1e-9


def test_saved_organism_is_a_safetensors_model_directory(tiny_organism):
    files = {p.name for p in Path(tiny_organism.path).iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= files
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)


def test_a_saved_tokenizer_does_not_record_how_it_was_loaded(tiny_organism, tmp_path):
    # transformers writes is_local / local_files_only (HF_HUB_OFFLINE) into
    # tokenizer_config.json; a model folder saved offline and online must be the same bytes
    from transformers import AutoTokenizer

    from rrs.models import LOAD_TIME_KEYS, save_tokenizer
    saved = []
    for offline in (False, True):
        tok = AutoTokenizer.from_pretrained(tiny_organism.path, local_files_only=offline)
        tok.save_pretrained(tmp_path / f"plain-{offline}")
        save_tokenizer(tok, tmp_path / f"clean-{offline}")
        saved.append((tmp_path / f"clean-{offline}/tokenizer_config.json").read_bytes())
    plain = [(tmp_path / f"plain-{o}/tokenizer_config.json").read_bytes() for o in (False, True)]
    assert plain[0] != plain[1]  # what save_pretrained alone does
    assert saved[0] == saved[1]
    assert not any(key.encode() in saved[0] for key in LOAD_TIME_KEYS)
    assert AutoTokenizer.from_pretrained(tmp_path / "clean-False").chat_template is not None
