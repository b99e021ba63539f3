"""A CSV that starts with Excel's ``sep=;`` line is read with that delimiter, its header
on the next line, by the app, the CLI and the batch scorer alike.

Found loading a semicolon-separated export that began ``sep=;`` (the line Excel writes
and reads to pick the delimiter): its columns were "sep=" and "Unnamed: 1", and the
label column could not be found.
"""

from __future__ import annotations

import pytest

from pipeline.data import load_dataset
from pipeline.data.csv_format import CsvFormat, detect_csv_format


def excel_file(first_line: str, rows: int = 10) -> bytes:
    lines = [first_line, "headline;topic"]
    lines += [f'"Stocks fall; bonds rise {i}";business' for i in range(rows)]
    lines += [f"Film {i} opens;entertainment" for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


@pytest.mark.parametrize("first_line", ["sep=;", "SEP=;", '"sep=;"', "sep=;;"])
def test_the_sep_line_names_the_delimiter_and_is_skipped(first_line):
    found = detect_csv_format(excel_file(first_line), "export.csv")
    assert (found.delimiter, found.skip_rows) == (";", 1)
    assert found.describe() == "semicolon-separated UTF-8 with a header row after a sep=; line"


def test_the_sep_line_wins_over_the_header_s_own_delimiters():
    head = b"sep=|\nheadline, with a comma|topic\nStocks fall|business\n"
    found = detect_csv_format(head, "export.csv")
    assert (found.delimiter, found.skip_rows) == ("|", 1)
    assert detect_csv_format(b"headline;topic\nx;y\n", "plain.csv") == CsvFormat(";")


def test_a_file_with_the_sep_line_loads_its_columns_and_every_row():
    dataset = load_dataset(excel_file("sep=;"), name="export.csv")
    assert (dataset.text_col, dataset.label_col) == ("headline", "topic")
    assert len(dataset.frame) == 20
    assert dataset.frame["text"].iloc[0] == "Stocks fall; bonds rise 0"
    assert sorted(dataset.classes) == ["business", "entertainment"]
