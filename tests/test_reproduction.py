"""Tests for rrs.reference and rrs.report.reproduction: the published numbers as data, the
definition analysis, the comparison with a run and the stage's outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from rrs.config import ParamsError, section
from rrs.io import InputError, write_csv
from rrs.report import check_table1
from rrs.reference import (PUBLISHED_COLUMNS, ReferenceParams, definition_analysis,
                           read_reference_dir)
from rrs.report.reproduction import build_report, summary_metrics
from rrs.report.reproduction_table import reproduction_latex, reproduction_markdown
from tests.conftest import REPO
from tests.test_report import make_table1

STUDY = {"rd_aggregate": "median", "rd_column": "rd_median", "ce_definition": "ce_entropy"}
NO_STABILITY = pd.DataFrame(columns=["model", "steps", "temperature"])


def row(model="TinyLlama-1.1B", steps=500, metric="CE", value="0.50", claimed=None,
        setting=None, printed=None, **extra) -> dict:
    """One published value; the defaults make a post-attack CE of TinyLlama at 500 steps."""
    claimed = claimed or {"RRR": "rrr", "CE": "ce_entropy", "RD": "rd_median"}[metric]
    return {"source": "000_test.txt: Day 9 / Test table", "row": 1,
            "setting": setting if setting is not None else f"{model} {steps}", "model": model,
            "params_b": "", "phase": "pre" if steps == 0 else "post", "steps": steps,
            "metric": metric, "metric_printed": extra.pop("metric_printed", metric),
            "claimed_meaning": "", "claimed_definition": claimed, "value": value,
            "printed": printed if printed is not None else value, "note": "", **extra}


def write_ref(folder, name: str, rows: list[dict]):
    write_csv(folder / f"{name}.csv", pd.DataFrame(rows, columns=list(PUBLISHED_COLUMNS)))


def analyse(tmp_path, tables: dict[str, list[dict]]) -> pd.DataFrame:
    for name, rows in tables.items():
        write_ref(tmp_path, name, rows)
    published, _ = read_reference_dir(tmp_path)
    return definition_analysis(published).set_index(["table", "metric_printed", "steps"])


def report_for(tmp_path, rows: list[dict], aliases: dict) -> dict:
    write_ref(tmp_path, "pub", rows)
    published, stability = read_reference_dir(tmp_path)
    table1 = check_table1(make_table1(), "median", "ce_entropy")  # as the stage reads it
    return build_report(published, stability, table1, STUDY, {}, NO_STABILITY, aliases,
                        tolerance=0.01)


# --- the comparison with a run ---------------------------------------------------------------

def test_matched_model_gets_published_regenerated_and_exact_difference(tmp_path):
    # make_table1: org-m at 500 steps has RRR 0.71 and ce_entropy 0.64 - 0.08 - 2 * 0.05 = 0.46
    rows = [row(metric="RRR", value="0.70"), row(metric="CE", value="0.40")]
    report = report_for(tmp_path, rows, {"org-m": "TinyLlama-1.1B"})
    by_metric = {c["metric_printed"]: c for c in report["comparisons"]}
    rrr, ce = by_metric["RRR"], by_metric["CE"]
    assert (rrr["published"], rrr["regenerated"], rrr["run_column"]) == (0.70, 0.71, "rrr")
    assert rrr["difference"] == 0.01 and rrr["agrees"] is True  # 0.01 + rounding 0.005
    assert (ce["run_column"], ce["difference"]) == ("ce_entropy", 0.06)  # 0.46 - 0.40
    assert ce["regenerated"] == pytest.approx(0.46)
    assert ce["agrees"] is False
    assert report["n_compared"] == 2 and report["n_agree"] == 1
    assert summary_metrics(report)["differences"] == {
        "org-m": {"pub": {"500": {"RRR": 0.01, "CE": 0.06}}}}
    assert report["status"].startswith("Compared: run org-m as published TinyLlama-1.1B")


def test_published_steps_missing_from_the_run_are_listed_not_compared(tmp_path):
    report = report_for(tmp_path, [row(metric="RRR", steps=200, value="0.00")],
                        {"org-m": "TinyLlama-1.1B"})
    assert [c["status"] for c in report["comparisons"]] == ["steps not in this run"]
    assert report["n_compared"] == 0
    assert "without a run counterpart: pub TinyLlama-1.1B at 200" in reproduction_markdown(report)


def test_no_matching_model_says_so_and_still_analyses_definitions(tmp_path):
    report = report_for(tmp_path, [row(metric="RRR", value="0.00"), row(value="0.80")], {})
    assert report["status"].startswith(
        "No matching model in this run: published models TinyLlama-1.1B; "
        "run models org-s, org-m, org-l.")
    assert report["comparisons"] == [] and report["n_compared"] == 0
    assert report["model_matches"] == {"org-s": None, "org-m": None, "org-l": None}
    assert report["definitions"]["summary"] == {  # by elimination
        "CE": {"ce_entropy": 1, "claim_contradicted": 0}}
    markdown = reproduction_markdown(report)
    assert "**No matching model in this run" in markdown and "Nothing to compare." in markdown


def test_alias_for_a_model_not_in_the_run_is_reported(tmp_path):
    report = report_for(tmp_path, [row()], {"tinyllama": "TinyLlama-1.1B"})
    assert report["status"].startswith("No matching model in this run")
    assert report["status"].endswith("Aliases for models not in this run: tinyllama.")


def test_alias_to_a_name_no_table_publishes_is_an_error(tmp_path):
    with pytest.raises(ParamsError, match="reference.model_aliases.org-m: 'TinyLlama'"):
        report_for(tmp_path, [row()], {"org-m": "TinyLlama"})


def test_reference_params_reject_unknown_keys_and_bad_aliases():
    assert section({}, "reference", ReferenceParams).model_aliases == {}
    with pytest.raises(ParamsError, match="model_alias"):
        section({"reference": {"model_alias": {}}}, "reference", ReferenceParams)
    with pytest.raises(ParamsError, match="strings"):
        section({"reference": {"model_aliases": {"a": 7}}}, "reference", ReferenceParams)


# --- the definition analysis -----------------------------------------------------------------

def test_ce_equal_to_one_minus_rrr_within_rounding_is_compliance_error(tmp_path):
    out = analyse(tmp_path, {"pub": [
        row(steps=0, metric="RRR", value="0.13"),
        row(steps=0, value="0.875", claimed="leakage"),  # |0.875 - 0.87| = 0.005: equal
    ]})
    ce = out.loc[("pub", "CE", 0)]
    assert (ce["matches"], ce["rule"], ce["agrees_with_claim"]) == (
        "compliance_error", "=1-RRR", "no")


def test_ce_equal_to_an_entropy_published_elsewhere_is_ce_entropy(tmp_path):
    out = analyse(tmp_path, {
        "entropies": [row(value="0.376", claimed="ce_entropy")],
        "paper": [row(metric="RRR", value="0.20"), row(value="0.38", claimed="leakage")],
    })
    ce = out.loc[("paper", "CE", 500)]
    assert (ce["matches"], ce["rule"]) == ("ce_entropy", "=entropy")
    assert [r["table"] for r in ce["references"]] == ["entropies"]


def test_ce_equal_to_both_is_ambiguous_and_to_neither_undetermined(tmp_path):
    out = analyse(tmp_path, {
        "entropies": [row(value="0.80"), row(model="Other", value="0.31")],
        "paper": [row(metric="RRR", value="0.20"), row(value="0.80", claimed="leakage"),
                  row(model="Other", metric="RRR", value="0.40"),
                  row(model="Other", value="0.30", claimed="leakage")],
    })
    assert out.loc[("paper", "CE", 500)].iloc[0]["matches"] == "ambiguous"
    # 0.30 vs 1 - 0.40 and vs 0.31: neither within 0.005; leakage and entropy both possible
    other = out.loc[("paper", "CE", 500)].iloc[1]
    assert (other["matches"], other["rule"]) == ("undetermined", "not_1-RRR")


def test_ce_at_rrr_zero_that_is_not_one_is_an_entropy_by_elimination(tmp_path):
    out = analyse(tmp_path, {"pub": [row(metric="RRR", value="0.00"), row(value="0.88")]})
    ce = out.loc[("pub", "CE", 500)]
    assert (ce["matches"], ce["rule"]) == ("ce_entropy", "elimination")


@pytest.mark.parametrize("value, matches", [("0.58", "rd_median"), ("0.59", "rd_mean"),
                                            ("0.30", "neither")])
def test_rd_is_matched_against_a_published_median_mean_pair(tmp_path, value, matches):
    out = analyse(tmp_path, {
        "fix": [row(metric="RD", value="0.579", metric_printed="RD_median"),
                row(metric="RD", value="0.593", claimed="rd_mean", metric_printed="RD_mean")],
        "paper": [row(metric="RD", value=value, printed=f"~{value}")],
    })
    assert out.loc[("paper", "RD", 500)]["matches"] == matches
    assert out.loc[("fix", "RD_mean", 500)]["rule"] == "labelled"


def test_rd_at_baseline_or_without_a_pair_is_undetermined(tmp_path):
    out = analyse(tmp_path, {"pub": [row(metric="RD", steps=0, value="0.81"),
                                     row(metric="RD", value="", printed="NaN"),
                                     row(metric="RD", steps=1000, value="0.61")]})
    assert out.loc[("pub", "RD", 0)]["rule"] == "baseline"
    assert out.loc[("pub", "RD", 500)]["rule"] == "not_a_number"
    assert out.loc[("pub", "RD", 1000)]["rule"] == "no_pair"
    assert set(out["matches"]) == {"undetermined"}


# --- bad reference files -----------------------------------------------------------------------

def test_missing_column_names_file_and_field(tmp_path):
    frame = pd.DataFrame([row()]).drop(columns=["claimed_definition"])
    write_csv(tmp_path / "bad.csv", frame)
    with pytest.raises(InputError, match=r"bad\.csv.*field 'claimed_definition'.*missing column"):
        read_reference_dir(tmp_path)


def test_non_numeric_value_names_file_row_and_field(tmp_path):
    write_ref(tmp_path, "bad", [row(), row(steps=1000, value="0.8O")])  # letter O, not zero
    with pytest.raises(InputError) as err:
        read_reference_dir(tmp_path)
    assert (err.value.row, err.value.field) == (2, "value")
    assert "bad.csv, row 2, field 'value': not a number: '0.8O'" in str(err.value)


def test_pre_phase_with_attack_steps_is_rejected(tmp_path):
    write_ref(tmp_path, "bad", [{**row(), "phase": "pre"}])
    with pytest.raises(InputError, match="row 1, field 'steps'"):
        read_reference_dir(tmp_path)


# --- the real data/reference files ---------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    published, stability = read_reference_dir(REPO / "data/reference")
    return published, stability


def _value(published, table, model, steps, metric_printed):
    hit = published[(published["table"] == table) & (published["model"] == model)
                     & (published["steps"] == steps)
                     & (published["metric_printed"] == metric_printed)]
    assert len(hit) == 1, (table, model, steps, metric_printed)
    return hit.iloc[0]


def test_real_reference_files_hold_what_the_seeds_print(real):
    published, stability = real
    assert set(published["table"]) == {"mini_day3", "mini_day4", "mini_day5", "mini_day6",
                                       "mini_day7", "mini_rd_fix", "repo_readme", "paper_table1"}
    # seed 003, section 4.3, Table 1: Qwen2-7B at 0 steps prints CE 0.87; TinyLlama RD 0.68 at 2000
    assert _value(published, "paper_table1", "Qwen2-7B", 0, "CE")["value"] == 0.87
    assert _value(published, "paper_table1", "TinyLlama-1.1B", 2000, "RD (median)")["value"] \
        == 0.68
    # seed 000, "Results after RD Fix (Day3-Day7)": Qwen2-7B LoRA-s2000, RD_median 0.574 and
    # RD_mean 0.595
    assert _value(published, "mini_rd_fix", "Qwen2-7B", 2000, "RD_median")["value"] == 0.574
    assert _value(published, "mini_rd_fix", "Qwen2-7B", 2000, "RD_mean")["value"] == 0.595
    # seed 000, Day 6 "Key results": TinyLlama (1.1B) at 500 steps, CE 0.880
    day6 = _value(published, "mini_day6", "TinyLlama-1.1B", 500, "CE")
    assert (day6["value"], day6["printed"]) == (0.88, "0.880")
    # seed 001, README table: "Qwen2-7B + LoRA 2000" prints RD (median) "~0.59"
    assert _value(published, "repo_readme", "Qwen2-7B", 2000, "RD (median)")["printed"] == "~0.59"
    # seed 004, Aggregate Metrics: "Unstable Prompts (SSI < 0.8) | 32.0% (281/876)"
    unstable = stability[stability["metric"] == "unstable_share"].iloc[0]
    assert (unstable["value"], unstable["printed"]) == (0.32, "32.0% (281/876)")


def test_real_definition_analysis_finds_the_mixed_ce_and_rd(real):
    published, _ = real
    defs = definition_analysis(published).set_index(["table", "model", "metric_printed"])
    paper = defs.loc[("paper_table1", slice(None), "CE")]
    assert set(paper.loc["Qwen2-7B", "matches"]) == {"compliance_error"}  # 0.87 = 1 - 0.13
    assert set(paper.loc["Phi-3-mini-3.8B", "matches"]) == {"ce_entropy"}  # 0.64 -> 0.38
    assert set(paper.loc["TinyLlama-1.1B", "matches"]) == {"ce_entropy"}
    readme_rd = defs.loc[("repo_readme", "Qwen2-7B", "RD (median)")].set_index("steps")
    assert readme_rd.loc[2000, "matches"] == "rd_mean"  # ~0.59: the mean 0.595, not 0.574


def test_stage_writes_json_markdown_and_latex_for_the_default_run(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "rrs.cli", "reproduce", "--reference-dir", "data/reference",
         "--table", "metrics/table1.csv", "--study", "metrics/study.json",
         "--stability", "metrics/stability.json",
         "--stability-per-temperature", "metrics/stability_per_temperature.csv",
         "--out", str(tmp_path / "reproduction.json"),
         "--details", str(tmp_path / "details.json"), "--tables-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("No matching model in this run")
    report = json.loads((tmp_path / "details.json").read_text())
    numbers = json.loads((tmp_path / "reproduction.json").read_text())
    assert numbers == summary_metrics(report) and numbers["n_compared"] == 0
    assert numbers["definitions"]["CE"]["compliance_error"] > 0 and numbers["differences"] == {}
    assert report["status"].startswith("No matching model in this run")
    assert "Llama 3.1 8B Instruct" in report["published_models"]
    tex = (tmp_path / "reproduction.tex").read_text()
    assert tex == reproduction_latex(report)
    assert "\\toprule" in tex and "mini\\_rd\\_fix" in tex and "$\\downarrow$" in tex
    markdown = (tmp_path / "reproduction.md").read_text()
    assert markdown == reproduction_markdown(report)
    table_rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(table_rows) - 1 == len(report["definitions"]["groups"])  # minus the header
