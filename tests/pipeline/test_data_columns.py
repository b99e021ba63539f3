"""pipeline.data.columns: guessing, choosing and validating the text and label columns."""

from __future__ import annotations

import csv

import pytest

from pipeline.core.errors import DatasetError
from pipeline.data import guess_columns, load_dataset, read_table
from tests.conftest import CUSTOM_CSV, ONE_CLASS_CSV, UCI_SMALL_CSV

# --------------------------------------------------------------------------- columns


def test_guess_columns_uci_and_common_names():
    assert guess_columns(read_table(UCI_SMALL_CSV)) == ("TITLE", "CATEGORY")
    assert guess_columns(read_table(CUSTOM_CSV)) == ("headline", "topic")
    assert guess_columns(read_table(b"Sentence,Class\nx,a\n")) == ("Sentence", "Class")
    assert guess_columns(read_table(b"id,headline_text,news_label\n1,x,a\n")) == (
        "headline_text",
        "news_label",
    )


def test_a_tagging_tools_tags_column_is_the_label():
    """Found with a tagging tool's export (``headline,tags``): the app asked for the label
    column of a file that names it in the usual way; a real category name still wins."""
    assert guess_columns(read_table(b"headline,tags\nx,a\n")) == ("headline", "tags")
    assert guess_columns(read_table(b"text,tags,topic\nx,a,b\n")) == ("text", "topic")


def test_guess_columns_gives_none_when_nothing_fits():
    assert guess_columns(read_table(b"a,b\nx,y\n")) == (None, None)


def test_custom_columns_guessed():
    ds = load_dataset(CUSTOM_CSV)
    with CUSTOM_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert (ds.text_col, ds.label_col) == ("headline", "topic")
    assert ds.frame["text"].tolist() == [r["headline"] for r in rows]
    assert ds.label_names == {"money": "money", "showbiz": "showbiz", "tech": "tech"}
    assert list(ds.frame.columns) == ["text", "label"]
    assert ds.display("tech") == "tech"


def test_columns_given_explicitly_and_in_any_case():
    ds = load_dataset(UCI_SMALL_CSV, text_col="title", label_col="Category")
    assert (ds.text_col, ds.label_col) == ("TITLE", "CATEGORY")
    assert ds.display("m") == "health"
    other = load_dataset(UCI_SMALL_CSV, text_col="TITLE", label_col="PUBLISHER")
    assert other.label_names["Reuters"] == "Reuters"
    assert "publisher" not in other.frame.columns  # it became the label


def test_raw_table_can_be_passed_to_load_dataset():
    raw = read_table(CUSTOM_CSV)
    assert load_dataset(raw).frame.equals(load_dataset(CUSTOM_CSV).frame)


def test_unknown_column_lists_existing_columns():
    with pytest.raises(DatasetError) as info:
        load_dataset(CUSTOM_CSV, text_col="body", label_col="topic")
    message = str(info.value)
    assert "'body'" in message and "headline, topic" in message


def test_unguessable_columns_ask_for_a_choice():
    with pytest.raises(DatasetError, match=r"which column .* holds the text.*columns are a, b"):
        load_dataset(b"a,b\nx,y\nz,w\n", name="odd.csv")


def test_text_and_label_in_the_same_column():
    with pytest.raises(DatasetError, match="both mapped to column 'headline'"):
        load_dataset(CUSTOM_CSV, text_col="headline", label_col="headline")


def test_single_class_needs_two():
    with pytest.raises(DatasetError, match=r"single class \('b'\).*at least 2 classes"):
        load_dataset(ONE_CLASS_CSV)


def test_no_usable_text():
    with pytest.raises(DatasetError, match=r"'text' .* has no text in any row"):
        load_dataset(b"text,label\n,a\n   ,b\n", name="blank.csv")


def test_rows_without_label_are_dropped_with_a_note():
    ds = load_dataset(b"text,label\none,a\ntwo,\nthree, \nfour,b\n")
    assert ds.frame["text"].tolist() == ["one", "four"]
    assert ds.rows_read == 4
    assert any("2 row(s) with an empty 'label' were dropped" in n for n in ds.notes)


def test_no_label_in_any_row():
    with pytest.raises(DatasetError, match="empty in every row"):
        load_dataset(b"text,label\none,\ntwo,\n")


def test_labels_are_stripped_strings():
    ds = load_dataset(b"text,label\none, 1\ntwo,2 \n")
    assert ds.frame["label"].tolist() == ["1", "2"]
