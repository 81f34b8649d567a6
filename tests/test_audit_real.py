"""The real-output audit's design (rows, ids, splits, batches) and its labels (hash-checked)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from click.testing import CliRunner

from rrs.audit_real import (attach_labels, benign_split, design, read_answers, read_labels,
                            row_id, text_sha256)
from rrs.config import ParamsError, audit_real, load_params, scoped, split_role
from stages.audit_real_batches import labels_cli, sheet_cli
from tests.conftest import REPO


def prompts(prefix: str, n: int, category: str = "c") -> pd.DataFrame:
    return pd.DataFrame({"id": [f"{prefix}{i:03d}" for i in range(n)], "category": category,
                         "prompt": [f"{prefix} request {i}" for i in range(n)]})


@pytest.fixture()
def cfg():
    return audit_real(load_params(REPO / "params.yaml"))


@pytest.fixture()
def small(cfg):
    """A train and one live held-out split, every condition asked in both."""
    splits = {"train": dataclasses.replace(cfg.splits["train"], n_harmful=6, n_benign=2,
                                           conditions=(), models=()),
              "heldout": dataclasses.replace(cfg.splits["heldout"], n_harmful=4, n_benign=1,
                                             conditions=(), models=(), retired=False)}
    return dataclasses.replace(cfg, splits=splits)


@pytest.fixture()
def harmful():
    return {"strongreject": prompts("sr", 12), "harmbench-val": prompts("hv", 5),
            "harmbench-test": prompts("ht", 9)}


def test_the_committed_params_define_a_valid_audit(cfg):
    live = {n: s for n, s in cfg.splits.items() if split_role(n, s) == "heldout"}
    assert set(live) == {"heldout10"}
    assert all(cfg.splits[n].retired for n in ("heldout", "heldout2", "heldout3", "heldout4",
                                                   "heldout5", "heldout6", "heldout7",
                                                   "heldout8", "heldout9"))
    train = cfg.splits["train"]
    asked = {(m, c) for n, s in cfg.splits.items() if n not in live
             for m in s.models or cfg.models for c in s.conditions or cfg.conditions}
    for split in live.values():
        assert not set(train.prompts) & set(split.prompts)
        # a fresh held-out batch asks no model x condition that a train batch (a retired
        # held-out one included) was labelled on: greedy answers to the same request repeat
        assert not asked & {(m, c) for m in split.models or cfg.models
                            for c in split.conditions or cfg.conditions}
        # every model x condition of it has >= 30 harmful answers (the rrr_error bar)
        assert split.n_harmful >= 30
    assert set(cfg.splits["heldout"].conditions) == set(train.conditions)
    assert any(c.attacked for c in cfg.conditions.values())
    assert any(c.temperature > 0 for c in cfg.conditions.values())
    assert any(c.system_prompt for c in cfg.conditions.values())
    # the live batch asks the study's prompt attacks, each at one budget
    assert {cfg.conditions[c].prompt_attack for c in live["heldout10"].conditions} == {
        "prefill", "many_shot", "best_of_n"}


def test_a_retired_heldout_split_is_train_and_the_fresh_one_is_heldout(cfg, harmful):
    splits = {name: dataclasses.replace(split, n_harmful=3, n_benign=1)
              for name, split in cfg.splits.items()}
    small = dataclasses.replace(cfg, splits=splits)
    rows = design("smollm2-135m", "gguf", harmful, prompts("b", 10), small)
    by_batch = rows.groupby("batch")["split"].agg(set)
    assert by_batch["real-h1"] == {"train"} and by_batch["real-h2"] == {"train"}
    assert "real-h3" not in by_batch  # a split asks only its models
    assert by_batch["real-h9"] == {"train"} and by_batch["real-h10"] == {"heldout"}
    assert set(rows.loc[rows["batch"] == "real-h2", "condition"]) == set(
        cfg.splits["heldout2"].conditions)
    assert set(rows.loc[rows["batch"] == "real-h1", "condition"]) == set(
        cfg.splits["heldout"].conditions)
    safe = design("smollm2-135m-safe", "tuned", harmful, prompts("b", 10), small)
    roles = safe.groupby("batch")["split"].agg(set)
    assert roles.to_dict() == {"real-h3": {"train"}, "real-h4": {"train"},
                               "real-h5": {"train"}, "real-h6": {"train"},
                               "real-h7": {"train"}, "real-h8": {"train"},
                               "real-h9": {"train"}, "real-h10": {"heldout"}}
    for batch, split in (("real-h3", "heldout3"), ("real-h4", "heldout4"),
                         ("real-h5", "heldout5"), ("real-h6", "heldout6"),
                         ("real-h7", "heldout7"), ("real-h8", "heldout8"),
                         ("real-h9", "heldout9"), ("real-h10", "heldout10")):
        assert set(safe.loc[safe["batch"] == batch, "condition"]) == set(
            cfg.splits[split].conditions)
    # the retired split's rows are the ones it held while it was live: same ids and batches
    live = dataclasses.replace(cfg, splits={"train": splits["train"], "heldout": dataclasses.replace(
        splits["heldout"], retired=False)})
    before = design("smollm2-135m", "gguf", harmful, prompts("b", 10), live)
    h1 = rows[rows["batch"] == "real-h1"].reset_index(drop=True)
    then = before[before["batch"] == "real-h1"].reset_index(drop=True)
    assert h1.drop(columns="split").equals(then.drop(columns="split"))
    assert (then["split"] == "heldout").all()


def test_train_and_heldout_rows_never_share_a_prompt(small, harmful):
    rows = design("m", "gguf", harmful, prompts("b", 10), small)
    by_split = rows.groupby("split")["prompt"].agg(set)
    assert not by_split["train"] & by_split["heldout"]
    assert set(rows.loc[rows["split"] == "heldout", "source"]) <= {"harmbench-test", "benign"}
    counts = rows.groupby(["split", "condition", "set"]).size()
    assert (counts.xs("harmful", level="set").xs("train") == 6).all()
    assert (counts.xs("benign", level="set").xs("heldout") == 1).all()
    assert rows["id"].is_unique


def test_batches_spread_every_condition_evenly(small, harmful):
    rows = design("m", "gguf", harmful, prompts("b", 10), small)
    train = rows[rows["split"] == "train"]
    assert set(train["batch"]) == {"real-t1", "real-t2", "real-t3"}
    per = train.groupby(["condition", "batch"]).size().unstack()
    assert (per.max(axis=1) - per.min(axis=1) <= 1).all()
    assert set(rows.loc[rows["split"] == "heldout", "batch"]) == {"real-h1"}


def test_an_id_names_its_row_whatever_else_the_design_holds(small, harmful):
    rows = design("m", "gguf", harmful, prompts("b", 10), small)
    fewer = dict(small.conditions)
    fewer.pop("greedy")
    other = design("m", "gguf", harmful, prompts("b", 10),
                   dataclasses.replace(small, conditions=fewer))
    kept = rows[rows["condition"] != "greedy"].set_index("id")
    assert other["id"].isin(kept.index).all()
    assert (kept.loc[other["id"], "prompt"].to_numpy() == other["prompt"].to_numpy()).all()
    assert row_id("m", "greedy", "x", "p") != row_id("m", "greedy", "x", "q")


def test_benign_split_is_seeded_and_takes_the_share():
    ids = pd.Series([f"b{i}" for i in range(10)])
    split = benign_split(ids, 0.5, seed=0)
    assert (split == "heldout").sum() == 5
    assert split.equals(benign_split(ids, 0.5, seed=0))
    assert not split.equals(benign_split(ids, 0.5, seed=1))


def answers_frame(texts: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"id": list(texts), "response": list(texts.values()),
                         "response_sha256": [text_sha256(t) for t in texts.values()]})


def test_a_label_is_used_only_while_its_answer_regenerates_identically():
    answers = answers_frame({"rr-1": "I can't help.", "rr-2": "Sure: one", "rr-3": "x"})
    labels = pd.DataFrame({"id": ["rr-1", "rr-2", "rr-9"], "label": ["REFUSE", "COMPLY", "COMPLY"],
                           "note": "", "response_sha256": [text_sha256("I can't help."),
                                                            text_sha256("Sure: two"), "0" * 64]})
    used, report = attach_labels(answers, labels)
    assert list(used["id"]) == ["rr-1"] and list(used["label"]) == ["REFUSE"]
    assert report["stale"] == ["rr-2"] and report["missing"] == ["rr-9"]
    assert (report["n_labels"], report["n_used"], report["n_unlabelled"]) == (3, 1, 1)


def write_answers(folder, rows: list[dict]) -> None:
    base = {"split": "train", "batch": "real-t1", "model": "m", "model_source": "gguf",
            "condition": "greedy", "set": "harmful", "source": "s", "prompt_id": "p",
            "category": "c", "prompt": "a request"}
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["response_sha256"] = frame["response"].map(text_sha256)
    folder.mkdir()
    frame.to_csv(folder / "m.csv", index=False)


def test_sheet_out_labels_in_records_the_hash_of_the_answer_on_the_sheet(tmp_path):
    write_answers(tmp_path / "answers", [{"id": "rr-a", "response": "No, I won't."},
                                         {"id": "rr-b", "response": "Here: 1) ..."},
                                         {"id": "rr-c", "response": "x", "batch": "real-t2"}])
    sheet, out = tmp_path / "sheet.csv", tmp_path / "labels.csv"
    res = CliRunner().invoke(sheet_cli, ["--answers", str(tmp_path / "answers"), "--batch",
                                         "real-t1", "--out", str(sheet)])
    assert res.exit_code == 0, res.output
    on_sheet = pd.read_csv(sheet, keep_default_na=False)
    assert list(on_sheet.columns) == ["id", "prompt", "response", "label", "note"]
    assert sorted(on_sheet["id"]) == ["rr-a", "rr-b"]
    filled = tmp_path / "filled.csv"
    pd.DataFrame({"id": ["rr-b", "rr-a"], "label": ["comply", "REFUSE"],
                  "note": ["", ""]}).to_csv(filled, index=False)
    res = CliRunner().invoke(labels_cli, ["--sheet", str(sheet), "--labelled", str(filled),
                                          "--batch", "real-t1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    labels = read_labels(out)
    assert dict(zip(labels["id"], labels["label"])) == {"rr-a": "REFUSE", "rr-b": "COMPLY"}
    used, report = attach_labels(read_answers(tmp_path / "answers", None), labels)
    assert report["n_used"] == 2 and report["stale"] == []


def test_labels_that_skip_a_sheet_row_are_refused(tmp_path):
    write_answers(tmp_path / "answers", [{"id": "rr-a", "response": "a"},
                                         {"id": "rr-b", "response": "b"}])
    sheet = tmp_path / "sheet.csv"
    CliRunner().invoke(sheet_cli, ["--answers", str(tmp_path / "answers"), "--batch", "real-t1",
                                   "--out", str(sheet)])
    filled = tmp_path / "filled.csv"
    pd.DataFrame({"id": ["rr-a"], "label": ["COMPLY"]}).to_csv(filled, index=False)
    res = CliRunner().invoke(labels_cli, ["--sheet", str(sheet), "--labelled", str(filled),
                                          "--batch", "real-t1", "--out", str(tmp_path / "l.csv")])
    assert res.exit_code != 0 and "1 sheet rows unlabelled" in res.output


def test_a_prompt_set_in_both_splits_is_a_params_error():
    params = load_params(REPO / "params.yaml")
    bad = {**params["audit_real"], "splits": {
        "train": {"prompts": ["strongreject"], "n_harmful": 1, "n_benign": 1},
        "heldout": {"prompts": ["strongreject"], "n_harmful": 1, "n_benign": 1}}}
    with pytest.raises(ParamsError, match="both train and heldout"):
        audit_real({**params, "audit_real": bad})
    # a retired held-out split may (it is train now); but one live held-out split is needed
    bad["splits"]["heldout"]["retired"] = True
    with pytest.raises(ParamsError, match="no held-out split that is not retired"):
        audit_real({**params, "audit_real": bad})
    bad["splits"]["heldout3"] = {"prompts": ["harmbench-test"], "n_harmful": 1, "n_benign": 1,
                                 "conditions": ["nowhere"]}
    with pytest.raises(ParamsError, match=r"heldout3\.conditions: \['nowhere'\]"):
        audit_real({**params, "audit_real": bad})
    bad["splits"]["heldout3"]["conditions"] = []
    bad["splits"]["heldout3"]["models"] = ["nobody"]
    with pytest.raises(ParamsError, match=r"heldout3\.models: \['nobody'\]"):
        audit_real({**params, "audit_real": bad})
    # every audit model is asked by some split
    for split in bad["splits"].values():
        split["models"] = ["smollm2-135m"]
    with pytest.raises(ParamsError, match=r"\['smollm2-135m-safe'\] in no split's models"):
        audit_real({**params, "audit_real": bad})
    bad["splits"]["test"] = bad["splits"].pop("heldout3")
    with pytest.raises(ParamsError, match="train and heldout, heldout2"):
        audit_real({**params, "audit_real": bad})


@pytest.mark.parametrize("condition, message", [
    ({"prompt_attack": "jailbreak-x", "budget": 4}, "'jailbreak-x' is not a prompt attack"),
    ({"prompt_attack": "prefill"}, "needs a budget >= 1"),
    ({"prompt_attack": "prefill", "budget": 4, "temperature": 0.7}, "decodes as the attack"),
    ({"budget": 4}, "budget: only with prompt_attack"),
])
def test_a_prompt_attack_condition_is_checked(condition, message):
    params = load_params(REPO / "params.yaml")
    conditions = {**params["audit_real"]["conditions"], "bad": condition}
    with pytest.raises(ParamsError, match=rf"conditions\.bad.*{message}"):
        audit_real({**params, "audit_real": {**params["audit_real"], "conditions": conditions}})


def test_scope_lays_a_section_over_the_top_level():
    params = load_params(REPO / "params.yaml")
    view = scoped(params, "audit_real")
    assert view["attack"] == params["audit_real"]["attack"]
    assert view["fetched"] == params["fetched"] and view["judge"] == params["judge"]
    with pytest.raises(ParamsError):
        scoped(params, "nowhere")


def test_committed_audit_files_keep_ids_labels_and_hashes_never_real_text():
    import subprocess

    from rrs.audit_real import LABEL_COLUMNS, MANIFEST_COLUMNS

    for name in ("labels.csv", "second_annotator.csv"):
        header = (REPO / "data/audit/real" / name).read_text().split("\n", 1)[0]
        assert header.split(",") == list(LABEL_COLUMNS)
    for manifest in (REPO / "metrics/audit_real").glob("*.csv"):
        assert pd.read_csv(manifest, nrows=1).columns.tolist() == list(MANIFEST_COLUMNS)
    organisms = pd.read_csv(REPO / "data/audit/real/organisms.csv", keep_default_na=False)
    # quotable (rrs.safety): organisms' own answers to the redacted synthetic prompts
    assert (organisms["model_source"] == "organism").all()
    assert (organisms["source"] == "synthetic").all()
    ignored = subprocess.run(["git", "check-ignore", "-q", "audit_real/smollm2-135m.csv"],
                             cwd=REPO)
    assert ignored.returncode == 0, "the real answers must stay out of git (a DVC output)"
