"""pipeline.data.dataset: the loaded dataset, the bundled UCI file and the fingerprint."""

from __future__ import annotations

import gzip
import re

import pytest
from data_support import UCI_HEADER, uci_rows, write

from pipeline.data import (
    UCI_LABEL_NAMES,
    dataset,
    fingerprint,
    load_dataset,
    load_default_dataset,
)
from pipeline.errors import DatasetError
from tests.conftest import NEWS_CORPORA_SMALL, UCI_SMALL_CSV

# --------------------------------------------------------------------------- dataset


def test_uci_fixture_dataset(small_dataset):
    rows = uci_rows()
    frame = small_dataset.frame
    assert list(frame.columns) == ["text", "label", "story", "publisher"]
    assert len(frame) == len(rows)
    assert frame["story"].tolist() == [r["STORY"] for r in rows]
    assert small_dataset.label_names == {c: UCI_LABEL_NAMES[c] for c in sorted("betm")}
    assert small_dataset.raw_columns == UCI_HEADER
    assert small_dataset.classes == ["b", "e", "m", "t"]
    assert [small_dataset.display(c) for c in "btem"] == [
        "business",
        "science/tech",
        "entertainment",
        "health",
    ]


def test_unknown_uci_codes_map_to_themselves():
    body = "TITLE,CATEGORY\nA,b\nB,x\n"
    ds = load_dataset(body.encode())
    assert ds.label_names == {"b": "business", "x": "x"}


def test_news_corpora_loads_as_uci_dataset():
    ds = load_dataset(NEWS_CORPORA_SMALL.read_bytes(), name="newsCorpora.csv")
    assert (ds.text_col, ds.label_col) == ("TITLE", "CATEGORY")
    assert ds.label_names == UCI_LABEL_NAMES
    assert {"story", "publisher"} <= set(ds.frame.columns)
    assert ds.frame["label"].value_counts().to_dict() == {"b": 50, "e": 50, "m": 50, "t": 50}


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_stable_and_content_based(tmp_path, small_dataset):
    first = fingerprint(small_dataset)
    assert re.fullmatch(r"[0-9a-f]{16}", first), first
    assert fingerprint(load_dataset(UCI_SMALL_CSV.read_bytes(), name="other name")) == first
    packed = write(tmp_path, "same.csv.gz", gzip.compress(UCI_SMALL_CSV.read_bytes()))
    assert fingerprint(load_dataset(packed)) == first
    changed = small_dataset.frame.copy()
    changed.loc[0, "label"] = "m" if changed.loc[0, "label"] != "m" else "b"
    small_dataset.frame = changed
    assert fingerprint(small_dataset) != first


def test_missing_default_dataset_is_a_dataset_error(monkeypatch, tmp_path):
    monkeypatch.setattr(dataset, "DEFAULT_DATA_PATH", tmp_path / "gone.csv.gz")
    with pytest.raises(DatasetError, match=r"bundled dataset is missing.*upload a CSV"):
        load_default_dataset()
