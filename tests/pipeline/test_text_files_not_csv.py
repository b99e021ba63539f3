"""Text files people bring that are not a CSV (JSON, JSON Lines, a saved web page, XML),
and a CSV of one column given as training data: each is named, with the fix.

Found trying files as a user: a JSON export of the same rows was "empty" ("upload a CSV
with a header row and data rows"), and a one-column file of headlines asked to "pass one
of those with --label-col" when it has no column of labels at all."""

from __future__ import annotations

import pytest

from pipeline import data
from pipeline.core.errors import DatasetError
from pipeline.data import load_dataset, read_table


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b'[{"headline": "Stocks fall", "topic": "money"}]', "is JSON, not a CSV"),
        (b'[\n  {\n    "headline": "Stocks fall",\n    "topic": "money"\n  }\n]\n', "is JSON"),
        (b'{"rows": [{"headline": "Stocks fall"}]}', "is JSON, not a CSV"),
        (
            b'{"headline": "Stocks fall", "topic": "money"}\n{"headline": "x", "topic": "y"}\n',
            "is JSON",
        ),
        (b"\xef\xbb\xbf[\n", "is JSON"),
        (b"<!DOCTYPE html>\n<html><body><table></table></body></html>\n", "is a web page (HTML)"),
        (b"<html lang='en'>\n<head></head>\n", "is a web page (HTML)"),
        (b'<?xml version="1.0"?>\n<rows><row/></rows>\n', "is XML, not a CSV"),
    ],
)
def test_json_web_pages_and_xml_are_named_with_the_fix(content, said):
    for read in (
        lambda: read_table(content, name="export.csv"),
        lambda: data.detect_csv_format(content, "export.csv"),  # the scorer's rule
    ):
        with pytest.raises(DatasetError) as refused:
            read()
        message = str(refused.value)
        assert message.startswith(f"export.csv {said}") and "as CSV (UTF-8)" in message, message


@pytest.mark.parametrize(
    "header", [b"{id},headline,topic", b"[draft] headline,topic", b"<b>headline</b>,topic"]
)
def test_a_csv_whose_header_starts_like_markup_is_still_a_csv(header):
    table = read_table(header + b"\nStocks fall,money\nCafe opens,food\n", name="odd.csv")
    assert len(table.frame) == 2


def test_one_column_of_texts_is_read_but_cannot_be_trained_on():
    content = b"headline\nStocks fall\nCafe opens\n"
    assert list(read_table(content, name="texts.csv").frame.columns) == ["headline"]  # scoring
    with pytest.raises(DatasetError) as refused:
        load_dataset(content, name="texts.csv")
    message = str(refused.value)
    assert message.startswith("texts.csv has one column (headline)")
    assert "add a column of their labels" in message
