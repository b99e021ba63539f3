"""pipeline.data.dataset and pipeline.data.bundled: the loaded dataset, the bundled UCI file and
the fingerprint."""

from __future__ import annotations

import gzip
import re

import pytest
from data_support import UCI_HEADER, uci_rows, write

from pipeline.core.errors import DatasetError
from pipeline.data import (
    DEFAULT_DATA_PATH,
    UCI_LABEL_NAMES,
    bundled,
    fingerprint,
    load_dataset,
    load_default_dataset,
)
from tests.conftest import CUSTOM_CSV, NEWS_CORPORA_SMALL, UCI_SMALL_CSV

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


def test_other_columns_keep_the_file_s_other_columns_row_for_row(small_dataset):
    rows = uci_rows()
    others = small_dataset.other_columns
    assert list(others.columns) == ["ID", "PUBLISHER", "STORY", "HOSTNAME", "TIMESTAMP"]
    for column in others.columns:
        assert others[column].tolist() == [r[column] for r in rows], column
    assert others.index.equals(small_dataset.frame.index)


def test_other_columns_lose_the_unlabelled_rows_with_the_frame():
    body = "Headline,Topic,when\none,a,1\ntwo,,2\nthree,b,3\nfour, ,4\n"
    ds = load_dataset(body.encode(), text_col="headline", label_col="topic")
    assert ds.frame["text"].tolist() == ["one", "three"]
    assert ds.other_columns.to_dict("list") == {"when": ["1", "3"]}
    assert ds.other_columns.index.equals(ds.frame.index)


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


#: Fingerprints of the committed and bundled data as they were before ``other_columns``:
#: saved runs, the training cache and the baseline cache are keyed by them.
PINNED_FINGERPRINTS = {
    UCI_SMALL_CSV: "4efabd3b58856908",
    NEWS_CORPORA_SMALL: "9b5b0523963fd5b6",
    CUSTOM_CSV: "454c61feba00eb7c",
}


def test_fingerprints_never_change():
    for path, expected in PINNED_FINGERPRINTS.items():
        assert fingerprint(load_dataset(path)) == expected, path.name
    if DEFAULT_DATA_PATH.is_file():
        assert fingerprint(load_default_dataset()) == "8a7d730623af0d51"


def test_missing_default_dataset_is_a_dataset_error(monkeypatch, tmp_path):
    monkeypatch.setattr(bundled, "DEFAULT_DATA_PATH", tmp_path / "gone.csv.gz")
    with pytest.raises(DatasetError, match=r"bundled dataset is missing.*upload a CSV"):
        load_default_dataset()
