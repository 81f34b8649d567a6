"""The paper: its numbers come from metrics/, and the committed PDF shows exactly those numbers.

Reads the committed outputs (metrics/, paper/generated/numbers.tex, paper/paper.pdf) and
builds small documents with the real latexmk to check how undefined numbers fail and that
builds are byte-reproducible. TeX and poppler come from `make setup`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from rrs.report import format_params
from rrs.report.paper_numbers import DASH, fmt, numbers_tex, paper_numbers, pct
from stages.paper import build_pdf
from tests.conftest import REPO

METRICS, PAPER = REPO / "metrics", REPO / "paper"


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return " ".join(out.replace("\u2019", "'").split())  # LaTeX typesets ' as a curly quote


@pytest.fixture(scope="module")
def text() -> str:
    return pdf_text(PAPER / "paper.pdf")


def test_formatting_helpers():
    assert fmt(0.8149, 3) == "0.815" and fmt(None, 2) == DASH and fmt(float("nan"), 2) == DASH
    assert pct(0.125) == r"12.5\%" and pct(None) == DASH


def test_committed_numbers_file_is_what_the_committed_metrics_give():
    assert (PAPER / "generated/numbers.tex").read_text(encoding="utf-8") == numbers_tex(
        paper_numbers(METRICS))


def test_pdf_table1_rows_match_metrics(text):
    study = json.loads((METRICS / "study.json").read_text())
    table = pd.read_csv(METRICS / "table1.csv")
    assert f"RD ({study['rd_aggregate']})" in text
    for r in table.itertuples():
        rrr = f"{r.rrr:.2f} [{r.rrr_lo:.2f}, {r.rrr_hi:.2f}]"
        rd = "—" if pd.isna(r.rd) else f"{r.rd:.3f}"
        ce = f"{r.ce:.2f}"
        # a row of the PDF's Table 1 reads "<steps> <rrr> [lo, hi] <rd> <ce>"
        row = re.escape(f"{r.steps} {rrr} ") + r"(?:—|---|" + re.escape(rd) + ")" + re.escape(
            f" {ce}")
        assert re.search(row, text), (r.model, r.steps, row)
    for model, params in table.drop_duplicates("model")[["model", "params"]].values:
        assert f"{model} {format_params(params)}" in text


def test_pdf_text_quotes_the_generated_numbers(text):
    numbers = paper_numbers(METRICS)
    judges = json.loads((METRICS / "judges.json").read_text())
    default = judges["judges"][judges["default_judge"]]
    for metric in ("cue_f1", "macro_f1", "kappa"):
        assert f"{default[metric]:.3f}" in text
    largest = numbers["run.largest"]
    sentence = (f"the refusal rate falls from {numbers['largest.base.rrr']} to "
                f"{numbers['largest.max.rrr']} for the largest organism after "
                f"{numbers['run.max_budget']} attack steps")
    assert sentence in text, sentence
    stab = (f"The largest organism's mean SSI is {numbers['stab.largest.base.mean_ssi']} "
            f"before the attack (flip rate {numbers['stab.largest.base.flip']}".replace("\\", ""))
    assert stab in text, stab
    assert largest in text
    assert "??" not in text  # no unresolved reference


def test_undefined_number_stops_the_build_and_builds_are_reproducible(tmp_path):
    shutil.copy(PAPER / "rrs.sty", tmp_path / "rrs.sty")
    doc = r"""\documentclass{article}\usepackage{rrs}\rrsdef{a.b-1}{0.42}
\pdfinfoomitdate=1 \pdftrailerid{}
\begin{document}Value \val{a.b-1}. %s\end{document}
"""
    (tmp_path / "main.tex").write_text(doc % "")
    first = build_pdf(tmp_path).read_bytes()
    assert "Value 0.42." in pdf_text(tmp_path / "build/main.pdf")
    shutil.rmtree(tmp_path / "build")
    assert build_pdf(tmp_path).read_bytes() == first  # same inputs, same bytes
    (tmp_path / "main.tex").write_text(doc % r"\val{no.such.key}")
    import click

    with pytest.raises(click.ClickException, match="No generated number `no.such.key'"):
        build_pdf(tmp_path)


def test_paper_numbers_on_a_tiny_run(tmp_path):
    cols = ["model", "params", "steps", "n", "rrr", "rrr_lo", "rrr_hi", "rd", "rd_lo", "rd_hi",
            "rd_median", "rd_mean", "rd_valid_n", "ce", "ce_entropy", "compliance_error",
            "leakage", "over_refusal", "over_refusal_lo", "over_refusal_hi", "over_refusal_n",
            "unparsed_n"]
    rows = [["m-big", 2e6, 0, 10, 0.9, 0.6, 0.98, None, None, None, None, None, None, 0.3, 0.3,
             0.1, 0.0, 0.1, 0.0, 0.4, 10, 0],
            ["m-big", 2e6, 50, 10, 0.2, 0.05, 0.5, 0.41234, 0.3, 0.5, 0.41234, 0.5, 10, 0.5,
             0.5, 0.8, 0.5, 0.0, 0.0, 0.3, 10, 0],
            ["m-small", 1e5, 0, 10, 1.0, 0.7, 1.0, None, None, None, None, None, None, 0.1, 0.1,
             0.0, 0.0, 0.0, 0.0, 0.3, 10, 0],
            ["m-small", 1e5, 50, 10, 0.0, 0.0, 0.3, 0.9, 0.8, 0.95, 0.9, 0.85, 10, 0.2, 0.2,
             1.0, None, 0.2, 0.0, 0.5, 10, 0]]
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / "table1.csv", index=False)
    (tmp_path / "study.json").write_text(json.dumps({
        "rd_aggregate": "median", "ce_definition": "ce_entropy", "judge": "lexical",
        "judge_version": "lexical-v2"}))
    n = paper_numbers(tmp_path)
    assert n["t1.m-big.50.rd"] == "0.412" and n["t1.m-big.0.rd"] == DASH
    assert n["run.largest"] == "m-big" and n["run.smallest"] == "m-small"
    assert n["largest.max.rrr"] == "0.20" and n["smallest.base.rrr"] == "1.00"
    assert n["run.params_ratio"] == "20.0" and n["run.max_budget"] == "50"
    assert n["study.ce_definition"] == r"ce\_entropy"
    assert "judge.n_heldout" not in n  # no judges.json in this run: no judge numbers
