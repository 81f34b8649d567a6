"""Tests for rrs.claims (rule kinds, selection, parsing, sources) and the claims stage."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from rrs.claims import (FAILS, HOLDS, NOT_EVALUABLE, VERDICTS, ClaimError, evaluate,
                        load_claims, load_sources, parse_claims)
from rrs.io import InputError
from rrs.report.claims_table import write_claims_tables

REPO = Path(__file__).resolve().parents[1]
NAN = math.nan


def table1(rrr_base=(0.0, 0.72, 0.13), rd_by_steps=None) -> pd.DataFrame:
    """Three models x steps 0/500/1000/2000, shaped like the paper's Table 1."""
    rd_by_steps = rd_by_steps or {"org-s": (0.62, 0.61, 0.68), "org-m": (0.30, 0.30, 0.32),
                                  "org-l": (0.30, 0.31, 0.31)}
    rows = []
    for (model, params), base in zip({"org-s": 1.1e9, "org-m": 3.8e9, "org-l": 7e9}.items(),
                                     rrr_base):
        for j, steps in enumerate((0, 500, 1000, 2000)):
            rrr = base if steps == 0 else 0.0
            rows.append({"model": model, "params": params, "steps": float(steps), "rrr": rrr,
                         "rrr_lo": max(rrr - 0.05, 0.0), "rrr_hi": min(rrr + 0.05, 1.0),
                         "rd": NAN if steps == 0 else rd_by_steps[model][j - 1],
                         "ce": 0.5 if steps == 0 else 0.9})
    return pd.DataFrame(rows)


def claim(rule: dict, cid: str = "c"):
    return parse_claims({"claims": [{"id": cid, "text": "t", "cite": "s", "rule": rule}]})[0]


def check(rule: dict, frame: pd.DataFrame | None = None, data: str = "table1") -> dict:
    return evaluate(claim({"data": data, **rule}), {data: table1() if frame is None else frame})


# ----------------------------------------------------------------------------- all_below / above

def test_all_below_holds_when_every_value_is_under_the_threshold():
    r = check({"kind": "all_below", "where": {"steps": {">": 0}}, "value": "rrr",
               "threshold": 0.05})
    assert r["verdict"] == HOLDS and len(r["evidence"]["rows"]) == 9
    assert "max rrr = 0.000 <= 0.05" in r["summary"]


def test_all_below_fails_naming_the_rows_above():
    r = check({"kind": "all_below", "value": "rrr", "threshold": 0.05})
    assert r["verdict"] == FAILS
    assert "org-m/steps=0 0.720" in r["summary"] and "org-l/steps=0 0.130" in r["summary"]


def test_all_below_is_not_evaluable_on_undefined_values_or_no_rows():
    assert check({"kind": "all_below", "where": {"steps": 0}, "value": "rd",
                  "threshold": 1})["verdict"] == NOT_EVALUABLE
    assert check({"kind": "all_below", "where": {"steps": 123}, "value": "rd",
                  "threshold": 1})["verdict"] == NOT_EVALUABLE


def test_all_above_strict_excludes_equality():
    rule = {"kind": "all_above", "where": {"steps": {">": 0}}, "value": "ce", "threshold": 0.9}
    assert check(rule)["verdict"] == HOLDS
    assert check({**rule, "strict": True})["verdict"] == FAILS


# ----------------------------------------------------------------------------- monotone

RD_STEPS = {"kind": "monotone", "where": {"steps": {">": 0}}, "by": ["model"], "x": "steps",
            "value": "rd", "direction": "increasing"}


def test_monotone_fails_on_the_papers_own_rd_column():
    r = check({**RD_STEPS, "strict": True})
    assert r["verdict"] == FAILS
    org_s = r["evidence"]["groups"][0]
    assert org_s["group"] == "org-s" and org_s["verdict"] == FAILS  # 0.62 -> 0.61
    assert "org-s, steps 500/1000/2000: 0.620 > 0.610 < 0.680 [fails 500->1000]" in r["summary"]


def test_monotone_non_strict_allows_ties_strict_does_not():
    rd = {"org-s": (0.6, 0.6, 0.7), "org-m": (0.3, 0.3, 0.3), "org-l": (0.1, 0.2, 0.3)}
    assert check(RD_STEPS, table1(rd_by_steps=rd))["verdict"] == HOLDS
    r = check({**RD_STEPS, "strict": True}, table1(rd_by_steps=rd))
    assert [g["verdict"] for g in r["evidence"]["groups"]] == [FAILS, FAILS, HOLDS]


def test_monotone_tolerance_forgives_small_wrong_way_steps():
    rule = {**RD_STEPS, "where": {"steps": {">": 0}, "model": "org-s"}}
    assert check(rule)["verdict"] == FAILS
    assert check({**rule, "tolerance": 0.02})["verdict"] == HOLDS


def test_monotone_with_interval_counts_only_non_overlapping_moves():
    frame = pd.DataFrame({"model": "m", "params": 1.0, "steps": [500.0, 1000.0, 2000.0],
                          "rrr": [0.00, 0.03, 0.20], "rrr_lo": [0.0, 0.0, 0.12],
                          "rrr_hi": [0.04, 0.09, 0.28]})
    rule = {"kind": "monotone", "x": "steps", "value": "rrr", "direction": "decreasing",
            "interval": ["rrr_lo", "rrr_hi"]}
    r = check(rule, frame)
    assert r["verdict"] == FAILS  # 0.03 -> 0.20: intervals [0, 0.09] and [0.12, 0.28] disjoint
    assert [m["rise"] for m in r["evidence"]["groups"][0]["moves"]] == [False, True]
    assert check(rule, frame.iloc[:2])["verdict"] == HOLDS  # 0.00 -> 0.03 inside the noise


def test_monotone_needs_two_points_per_group():
    rule = {**RD_STEPS, "where": {"steps": 2000}}
    r = check(rule)
    assert r["verdict"] == NOT_EVALUABLE and "need 2" in r["summary"]


def test_a_failing_group_outranks_a_not_evaluable_one():
    frame = table1(rd_by_steps={"org-s": (0.62, 0.61, 0.68), "org-m": (0.30, 0.31, 0.32),
                                "org-l": (0.30, 0.31, 0.31)})
    frame.loc[(frame["model"] == "org-l") & (frame["steps"] > 500), "rd"] = NAN
    r = check({**RD_STEPS, "strict": True}, frame)
    assert [g["verdict"] for g in r["evidence"]["groups"]] == [FAILS, HOLDS, NOT_EVALUABLE]
    assert r["verdict"] == FAILS
    frame.loc[frame["model"] == "org-s", "rd"] = NAN
    assert check({**RD_STEPS, "strict": True, "where": {"steps": {">": 0}, "model": [
        "org-m", "org-l"]}}, frame)["verdict"] == NOT_EVALUABLE


def test_monotone_over_size_reads_groups_in_size_order():
    r = check({"kind": "monotone", "where": {"steps": 0}, "x": "params", "value": "rrr",
               "direction": "increasing"})
    assert r["verdict"] == FAILS and "params 1.1B/3.8B/7B: 0.000 < 0.720 > 0.130" in r["summary"]


# ----------------------------------------------------------------------------- not_monotone

BASELINE = {"kind": "not_monotone", "where": {"steps": 0}, "x": "params", "value": "rrr"}


def test_not_monotone_holds_on_rise_then_fall():
    assert check(BASELINE)["verdict"] == HOLDS  # the paper's 0.00, 0.72, 0.13


def test_not_monotone_fails_on_a_monotone_or_flat_sequence():
    assert check(BASELINE, table1(rrr_base=(0.1, 0.5, 0.9)))["verdict"] == FAILS
    assert check(BASELINE, table1(rrr_base=(1.0, 1.0, 1.0)))["verdict"] == FAILS


def test_not_monotone_with_interval_ignores_wiggles_inside_the_noise():
    rule = {**BASELINE, "interval": ["rrr_lo", "rrr_hi"]}
    assert check(rule, table1(rrr_base=(0.95, 0.99, 0.96)))["verdict"] == FAILS
    assert check(rule)["verdict"] == HOLDS


def test_not_monotone_needs_three_points():
    frame = table1()[lambda f: f["model"] != "org-l"]
    r = check(BASELINE, frame)
    assert r["verdict"] == NOT_EVALUABLE and "need 3" in r["summary"]


# ----------------------------------------------------------------------------- compare

BELOW = {"kind": "compare", "by": ["model"], "left": {"steps": {">": 0}}, "right": {"steps": 0},
         "value": "rrr", "op": "<"}


def test_compare_checks_every_left_row_against_the_right_row_of_its_group():
    r = check(BELOW)
    assert r["verdict"] == FAILS  # org-s: 0.00 is not below a baseline of 0.00
    groups = {g["group"]: g for g in r["evidence"]["groups"]}
    assert groups["org-s"]["verdict"] == FAILS and len(groups["org-s"]["pairs"]) == 3
    assert groups["org-m"]["verdict"] == HOLDS and groups["org-l"]["verdict"] == HOLDS
    assert check({**BELOW, "op": "<="})["verdict"] == HOLDS


def test_compare_with_separate_columns_and_equality_tolerance():
    rule = {"kind": "compare", "by": ["model", "steps"], "left": {}, "right": {},
            "left_value": "rrr_hi", "right_value": "rrr", "op": "=="}
    assert check(rule)["verdict"] == FAILS
    assert check({**rule, "tolerance": 0.051})["verdict"] == HOLDS


def test_compare_is_not_evaluable_when_a_side_selects_nothing():
    r = check({**BELOW, "right": {"steps": 3000}})
    assert r["verdict"] == NOT_EVALUABLE and "selects no rows" in r["summary"]


def test_compare_with_extremes_and_undefined_values():
    rule = {"kind": "compare", "by": ["model"], "left": {"steps": "max"}, "right": {"steps": 500},
            "value": "rd", "op": ">"}
    r = check(rule)  # 2000 vs 500 steps: org-s 0.68 > 0.62, org-m 0.32 > 0.30, org-l 0.31 > 0.30
    assert [g["verdict"] for g in r["evidence"]["groups"]] == [HOLDS] * 3
    assert [p["left"] for g in r["evidence"]["groups"] for p in g["pairs"]] == ["steps=2000"] * 3
    assert check({**rule, "op": "<"})["verdict"] == FAILS
    assert check({**rule, "right": {"steps": 0}})["verdict"] == NOT_EVALUABLE  # RD undefined


def test_where_extreme_is_taken_after_the_other_conditions():
    r = check({"kind": "all_above", "where": {"params": "max", "steps": {">": 0}}, "value": "ce",
               "threshold": 0.9})
    assert [row["row"] for row in r["evidence"]["rows"]] == [
        "org-l/steps=500", "org-l/steps=1000", "org-l/steps=2000"]


def test_missing_source_is_not_evaluable():
    rule = {"kind": "all_above", "data": "stability", "value": "mean_ssi", "threshold": 0.5}
    r = evaluate(claim(rule), {"table1": table1(), "stability": None})
    assert r["verdict"] == NOT_EVALUABLE and "stability" in r["summary"]


# ----------------------------------------------------------------------------- parsing

GOOD = {"id": "ok", "text": "t", "cite": "s",
        "rule": {"kind": "all_below", "data": "table1", "value": "rrr", "threshold": 0.1}}


@pytest.mark.parametrize("change, message", [
    ({"rule": {**GOOD["rule"], "kind": "mostly_below"}}, "unknown rule kind 'mostly_below'"),
    ({"rule": {**GOOD["rule"], "data": "tabel1"}}, "unknown data 'tabel1'"),
    ({"rule": {**GOOD["rule"], "value": "rrrr"}}, "value: 'rrrr' is not a column of table1"),
    ({"rule": {**GOOD["rule"], "value": "model"}}, "column 'model' is not numeric"),
    ({"rule": {**GOOD["rule"], "thresh": 1}}, "unknown key"),
    ({"rule": {k: v for k, v in GOOD["rule"].items() if k != "threshold"}}, "missing key"),
    ({"rule": {**GOOD["rule"], "where": {"steps": {"~": 0}}}}, "where: steps"),
    ({"rule": {**GOOD["rule"], "where": {"model": {">": "a"}}}}, "needs a numeric column"),
    ({"rule": {**GOOD["rule"], "by": ["modle"]}}, "by: 'modle'"),
    ({"rule": {"kind": "compare", "data": "table1", "left": {}, "right": {}, "op": "<",
               "value": "rrr", "tolerance": 0.1}}, "tolerance is allowed with op '==' only"),
    ({"rule": {"kind": "compare", "data": "table1", "left": {}, "right": {}, "op": "<",
               "value": "rrr", "left_value": "rd"}}, "either value or both"),
    ({"rule": {"kind": "monotone", "data": "table1", "x": "steps", "value": "rd",
               "direction": "upwards"}}, "direction must be"),
    ({"text": ""}, "'text' must be a non-empty string"),
    ({"colour": "red"}, "unknown key(s) ['colour']"),
])
def test_malformed_claim_raises_naming_file_and_claim(change, message):
    with pytest.raises(ClaimError) as err:
        parse_claims({"claims": [{**GOOD, **change}]}, "paper/claims.yaml")
    assert str(err.value).startswith("paper/claims.yaml: claim 'ok': ")
    assert message in str(err.value)


def test_entry_without_an_id_is_named_by_its_position():
    with pytest.raises(ClaimError, match="claim 'entry 2': claim is missing key"):
        parse_claims({"claims": [GOOD, {"text": "t", "cite": "s", "rule": GOOD["rule"]}]}, "f")


def test_duplicate_and_malformed_ids_raise():
    with pytest.raises(ClaimError, match="claim 'ok': duplicate id"):
        parse_claims({"claims": [GOOD, GOOD]}, "f")
    with pytest.raises(ClaimError, match="claim 'Bad Id': id must be"):
        parse_claims({"claims": [{**GOOD, "id": "Bad Id"}]}, "f")


def test_bad_claim_file_names_the_file(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text("claims: [unclosed\n")
    with pytest.raises(InputError, match=f"{path}: invalid YAML"):
        load_claims(path)
    path.write_text("claims: []\n")
    with pytest.raises(InputError, match="non-empty list 'claims'"):
        load_claims(path)


# ----------------------------------------------------------------------------- the repo's claims

def repo_sources(**absent) -> dict:
    m = REPO / "metrics"
    paths = {"stability": m / "stability.json", "per_temperature": m /
             "stability_per_temperature.csv", "judges": m / "judges.json",
             "attack_dir": m / "attack", "scaling": m / "scaling.json",
             "attacks": m / "attacks.csv", "compute_to_break": m / "compute_to_break.json"}
    return load_sources(m / "table1.csv", **{k: None if k in absent else v
                                             for k, v in paths.items()})


def test_repo_claim_file_parses_and_every_claim_evaluates_on_committed_metrics():
    claims = load_claims(REPO / "paper/claims.yaml")
    assert len(claims) >= 7
    sources = repo_sources()
    assert all(frame is not None and len(frame) for frame in sources.values())
    results = [evaluate(c, sources) for c in claims]
    assert all(r["verdict"] in VERDICTS and r["summary"] for r in results)
    json.dumps(results, allow_nan=False)  # strict JSON: no NaN in the evidence
    verdicts = {r["id"]: r["verdict"] for r in results}
    assert verdicts["lora-collapses-refusal"] == HOLDS  # attacked RRR is 0 in every row
    assert NOT_EVALUABLE not in verdicts.values()


def test_claims_on_absent_stability_outputs_are_not_evaluable():
    sources = repo_sources(stability=True, per_temperature=True)
    results = {c.id: evaluate(c, sources) for c in load_claims(REPO / "paper/claims.yaml")}
    stability = [r for r in results.values() if r["rule"]["data"].startswith("stability")]
    assert stability and all(r["verdict"] == NOT_EVALUABLE for r in stability)
    assert results["lora-collapses-refusal"]["verdict"] == HOLDS


def test_table_has_one_row_per_claim_and_escapes_latex(tmp_path):
    results = [evaluate(claim({"data": "table1", "kind": "all_below", "value": "rrr",
                               "threshold": 0.05}), {"table1": table1()})]
    results[0]["text"] = "RRR_low & 100%"
    md, tex = write_claims_tables(results, {"claims_file": "c.yaml", "rd_aggregate": "median",
                                            "ce_definition": "ce_entropy",
                                            "judge_version": "v"}, tmp_path)
    rows = [line for line in md.read_text().splitlines() if line.startswith("| ")]
    assert len(rows) == 2 and "FAILS" in rows[1] and "1 claims: 0 hold, 1 fail" in md.read_text()
    assert r"RRR\_low \& 100\%" in tex.read_text() and r"\textless{}=" in tex.read_text()


def test_stage_writes_verdicts_and_rejects_a_bad_claim_file(tmp_path):
    from stages.claims import cli

    m = REPO / "metrics"
    args = ["--table", str(m / "table1.csv"), "--study", str(m / "study.json"),
            "--stability", str(m / "stability.json"), "--judges", str(tmp_path / "absent.json"),
            "--out", str(tmp_path / "claims.json"), "--tables-dir", str(tmp_path)]
    result = CliRunner().invoke(cli, ["--claims", str(REPO / "paper/claims.yaml"), *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "claims.json").read_text())
    assert sum(data["counts"].values()) == len(data["claims"])
    assert data["claims"]["judge-kappa-above-0-7"]["verdict"] == NOT_EVALUABLE  # judges absent
    assert data["context"]["ce_definition"] == "ce_entropy"
    bad = tmp_path / "bad.yaml"
    bad.write_text("claims:\n  - {id: x1, text: t, cite: s,\n"
                   "     rule: {kind: sometimes, data: table1}}\n")
    result = CliRunner().invoke(cli, ["--claims", str(bad), *args])
    assert result.exit_code != 0
    assert f"{bad}: claim 'x1': unknown rule kind 'sometimes'" in str(result.exception)
