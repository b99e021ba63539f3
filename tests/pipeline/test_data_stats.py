"""pipeline.data.stats: the statistics of a dataset, against independent counts."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from data_support import UCI_HEADER, uci_rows

from pipeline.data import (
    DEFAULT_DATA_PATH,
    UCI_LABEL_NAMES,
    DataSummary,
    inspect_dataset,
    load_dataset,
    load_default_dataset,
)
from tests.conftest import CUSTOM_CSV

NOT_FOUND = "The article requested cannot be found! Please refresh your browser or go back  ..."


# --------------------------------------------------------------------------- inspect


def test_inspect_numbers_match_an_independent_count(small_dataset):
    rows = uci_rows()
    report = inspect_dataset(small_dataset, top_n=5)
    titles = Counter(r["TITLE"] for r in rows)
    repeated = {t: n for t, n in titles.items() if n > 1}
    labels_of = {}
    for r in rows:
        labels_of.setdefault(r["TITLE"], set()).add(r["CATEGORY"])

    assert report.rows == len(rows)
    assert list(report.columns) == UCI_HEADER
    assert report.missing == {c: sum(not r[c].strip() for r in rows) for c in UCI_HEADER}
    assert report.missing["PUBLISHER"] == 2
    duplicates = report.duplicates
    assert duplicates.duplicated_rows == sum(repeated.values())
    assert duplicates.distinct_duplicated_texts == len(repeated)
    assert duplicates.extra_copies == sum(repeated.values()) - len(repeated)
    assert duplicates.top[0].text == NOT_FOUND
    assert duplicates.top[0].count == 20
    not_found_labels = Counter(r["CATEGORY"] for r in rows if r["TITLE"] == NOT_FOUND)
    assert duplicates.top[0].labels == dict(not_found_labels)
    assert len(duplicates.top) == 5
    assert report.labels_per_duplicated_text == sum(len(s) > 1 for s in labels_of.values())

    classes = Counter(r["CATEGORY"] for r in rows)
    assert {c.code: c.count for c in report.class_counts} == dict(classes)
    assert [c.count for c in report.class_counts] == sorted(classes.values(), reverse=True)
    assert sum(c.share for c in report.class_counts) == pytest.approx(1.0, abs=1e-5)
    assert {c.name for c in report.class_counts} == set(UCI_LABEL_NAMES.values())

    words = sorted(len(r["TITLE"].split()) for r in rows)
    lengths = report.text_length_words
    assert (lengths.min, lengths.max) == (words[0], words[-1])
    assert lengths.p50 == pytest.approx(words[len(words) // 2], abs=0.5)
    assert lengths.mean == pytest.approx(sum(words) / len(words), abs=1e-3)
    assert report.length_counts == dict(sorted(Counter(words).items()))

    publishers = Counter(r["PUBLISHER"] for r in rows if r["PUBLISHER"].strip())
    assert report.n_publishers == len(publishers)
    ranked = sorted(publishers.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert [(p.publisher, p.count) for p in report.top_publishers] == ranked
    assert report.n_stories == len({r["STORY"] for r in rows})
    document = json.loads(json.dumps(report.to_json()))  # JSON-ready
    assert DataSummary.from_json(document) == report  # and read back as it was


def test_inspect_without_publisher_or_story():
    report = inspect_dataset(load_dataset(CUSTOM_CSV))
    assert report.top_publishers == ()
    assert report.n_publishers is None
    assert report.n_stories is None
    assert report.missing == {"headline": 0, "topic": 0}
    assert DataSummary.from_json(json.loads(json.dumps(report.to_json()))) == report


def test_inspect_counts_empty_cells_as_missing():
    ds = load_dataset(b"text,label,note\nhello,a,\n  ,b,x\nhello,b, \n")
    report = inspect_dataset(ds)
    assert report.missing == {"text": 1, "label": 0, "note": 2}
    assert report.to_json()["duplicates"]["top"] == [
        {"text": "hello", "count": 2, "labels": {"a": 1, "b": 1}}
    ]
    assert report.labels_per_duplicated_text == 1
    assert report.length_counts == {0: 1, 1: 2}


# --------------------------------------------------------------------------- full data


@pytest.fixture(scope="module")
def full_dataset():
    if not DEFAULT_DATA_PATH.is_file():
        pytest.skip("the bundled dataset is not there")
    started = time.perf_counter()
    ds = load_default_dataset()
    return ds, time.perf_counter() - started


def test_full_bundled_dataset(full_dataset):
    ds, load_seconds = full_dataset
    started = time.perf_counter()
    report = inspect_dataset(ds)
    inspect_seconds = time.perf_counter() - started
    if load_seconds + inspect_seconds > 5:
        pytest.skip(f"too slow on this machine ({load_seconds + inspect_seconds:.1f} s)")
    assert report.rows == 422_937
    most = report.duplicates.top[0]
    assert (most.text, most.count) == (NOT_FOUND, 145)
    assert sum(most.labels.values()) == 145
    assert report.labels_per_duplicated_text == 788
    assert {c.code: c.count for c in report.class_counts} == {
        "e": 152_828,
        "b": 115_967,
        "t": 108_503,
        "m": 45_639,
    }
    assert report.n_stories == 7_231
    assert report.text_length_words.max == 20
    assert report.text_length_words.p50 == 9
