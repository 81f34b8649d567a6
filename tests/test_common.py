"""stages.common.read_records: the folder reader of the judge and stability stages."""

import pytest

from rrs.io import InputError
from stages.common import read_records
from stages.judge import read_generations
from stages.stability import read_sweep

HEADER = "model,steps,set,id,prompt,response\n"


def test_read_records_joins_types_and_sorts(tmp_path):
    (tmp_path / "b.csv").write_text(HEADER + "m,10,harmful,p1,q,a\nm,0,harmful,p1,q,b\n")
    (tmp_path / "a.csv").write_text(HEADER + "l,5,benign,p2,q,c\n")
    frame = read_generations(tmp_path)
    assert list(frame["response"]) == ["c", "b", "a"] and frame["steps"].dtype.kind == "i"


def test_read_records_names_what_is_wrong(tmp_path):
    with pytest.raises(InputError, match="no stability files"):
        read_sweep(tmp_path)
    (tmp_path / "a.csv").write_text(HEADER + "m,0,harmful,p1,q,a\n")
    (tmp_path / "b.csv").write_text(HEADER + "m,0,harmful,p1,q,b\n")
    with pytest.raises(InputError, match=r"duplicate record \{'model': 'm'"):
        read_generations(tmp_path)
    (tmp_path / "b.csv").write_text("model,steps,set,id,prompt\nm,1,harmful,p1,q\n")
    with pytest.raises(InputError, match=r"b\.csv.*response"):
        read_records(tmp_path, ["model", "steps", "set", "id"], ["prompt", "response"],
                     {"steps": int}, "generation")


def test_write_csv_round_trips_a_bare_carriage_return(tmp_path):
    # a sampled answer can hold a lone "\r"; unquoted, every CSV reader splits the row there
    import pandas as pd

    from rrs.io import read_table, write_csv
    frame = pd.DataFrame({"id": ["a", "b"], "response": ["line\ranother", "plain"]})
    write_csv(tmp_path / "x.csv", frame)
    assert read_table(tmp_path / "x.csv", required=("id", "response")).equals(frame)
    write_csv(tmp_path / "y.csv", frame.iloc[1:])  # no "\r": the usual minimal quoting
    assert (tmp_path / "y.csv").read_text() == "id,response\nb,plain\n"
