"""Stage ``paper``: the numbers file and the PDF of the paper, from metrics/, tables and figures.

In:  ``metrics/`` (table1, study, judges, stability, ...), ``paper/tables/*.tex``,
     ``figures/``, the LaTeX source ``paper/main.tex`` and ``paper/rrs.sty``.
Out: ``paper/generated/numbers.tex`` (every number the text quotes), longtable versions of the
     long generated tables (``paper/generated/<name>_long.tex``) and ``paper/paper.pdf``.
Run: ``rrs paper --metrics metrics --paper-dir paper``

latexmk runs with ``SOURCE_DATE_EPOCH=0`` and ``FORCE_SOURCE_DATE=1`` (and the source sets
no date and an empty trailer id), so the same inputs give the same PDF bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import click

from rrs.io import atomic_path, write_text
from rrs.report.paper_numbers import write_numbers

LATEXMK = ("latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error")
TEX_HINT = ("latexmk and pdflatex are needed (Debian/Ubuntu: apt-get install latexmk "
            "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended; "
            "`make setup` does this)")


def build_pdf(paper_dir: Path, main: str = "main.tex") -> Path:
    """Run latexmk on ``paper_dir/main`` into ``paper_dir/build``; return the built PDF.

    Raises:
        click.ClickException: TeX is missing, or LaTeX failed (with the log's last lines).
    """
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        raise click.ClickException(TEX_HINT)
    build = paper_dir / "build"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
    proc = subprocess.run([*LATEXMK, f"-outdir={build.name}", main], cwd=paper_dir, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise click.ClickException(f"LaTeX failed on {paper_dir / main}:\n{tail}")
    return build / Path(main).with_suffix(".pdf").name


# Tables too long for one page: the paper sets them as longtables, which may break across
# pages. name -> caption (the label is tab:<name>).
LONG_TABLES = {
    "claims": "The paper's claims evaluated on this run (rules in \\texttt{paper/claims.yaml}).",
}


def longtable(tabular: str, caption: str, label: str) -> str:
    """A generated ``tabular`` as a ``longtable`` with a caption and a repeated header."""
    begin = tabular.index("\\begin{tabular}")
    spec_end = tabular.index("\n", begin)
    head_end = tabular.index("\\midrule", spec_end)
    spec = tabular[begin + len("\\begin{tabular}"):spec_end]
    head = tabular[spec_end + 1:head_end] + "\\midrule\n"
    body = tabular[head_end + len("\\midrule\n"):].replace("\\end{tabular}", "\\end{longtable}")
    return (f"\\begin{{longtable}}{spec}\n\\caption{{{caption}}}\\label{{{label}}}\\\\\n"
            f"{head}\\endfirsthead\n{head}\\endhead\n{body}")


@click.command("paper")
@click.option("--metrics", "metrics_dir", type=click.Path(exists=True, file_okay=False,
              path_type=Path), default=Path("metrics"), show_default=True)
@click.option("--paper-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("paper"), show_default=True)
def cli(metrics_dir: Path, paper_dir: Path) -> None:
    """Write paper/generated/numbers.tex from metrics/, then build paper/paper.pdf."""
    numbers = write_numbers(metrics_dir, paper_dir / "generated" / "numbers.tex")
    for name, caption in LONG_TABLES.items():
        tabular = (paper_dir / "tables" / f"{name}.tex").read_text(encoding="utf-8")
        write_text(paper_dir / "generated" / f"{name}_long.tex",
                   longtable(tabular, caption, f"tab:{name}"))
    built = build_pdf(paper_dir)
    with atomic_path(paper_dir / "paper.pdf") as tmp:
        shutil.copyfile(built, tmp)
    click.echo(f"{len(numbers)} numbers -> {paper_dir / 'generated' / 'numbers.tex'}; "
               f"PDF -> {paper_dir / 'paper.pdf'}", err=True)
