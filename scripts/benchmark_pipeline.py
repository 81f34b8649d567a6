"""Time every stage of the pipeline, one after another, and print a table.

Runs each stage with ``dvc repro --single-item --force`` in the order ``dvc repro`` would,
so the figures are wall-clock seconds per stage on this machine (process start included).

    python scripts/benchmark_pipeline.py            # all stages
    python scripts/benchmark_pipeline.py --dry-run  # just list the order
    python scripts/benchmark_pipeline.py --share '^attack_|^judge_attacks$|^attack_(metrics|report)$'
                                                    # + those stages' sum and share of the total
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import click


def stage_order() -> list[str]:
    out = subprocess.run(["dvc", "repro", "--dry", "--force"], check=True, capture_output=True,
                         text=True).stdout
    return re.findall(r"Running stage '([^']+)'", out)


def share_line(rows: list[tuple[str, float]], pattern: str) -> str:
    """``"stages matching P: S s of T s (x%; y% more than the others' T - S s)"``."""
    total = sum(s for _, s in rows)
    part = sum(s for name, s in rows if re.search(pattern, name))
    rest = total - part
    return (f"stages matching {pattern!r}: {part:.1f} s of {total:.1f} s "
            f"({100 * part / total:.1f}% of the total; +{100 * part / rest:.1f}% on the other "
            f"stages' {rest:.1f} s)") if total and rest else "no time measured"


@click.command()
@click.option("--dry-run", is_flag=True, help="Only print the stage order.")
@click.option("--share", "shares", multiple=True,
              help="A regular expression of stage names: also print their summed time and "
                   "share of the total (repeatable).")
def main(dry_run: bool, shares: tuple[str, ...]) -> None:
    """Run and time each DVC stage."""
    order = stage_order()
    if dry_run:
        print("\n".join(order))
        return
    rows, total = [], 0.0
    for stage in order:
        start = time.perf_counter()
        proc = subprocess.run(["dvc", "repro", "--single-item", "--force", stage],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"stage {stage} failed")
        rows.append((stage, seconds))
        total += seconds
        print(f"{stage:<24} {seconds:8.1f} s", flush=True)
    print(f"{'total':<24} {total:8.1f} s")
    for pattern in shares:
        print(share_line(rows, pattern))


if __name__ == "__main__":
    main()
