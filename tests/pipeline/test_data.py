"""pipeline.data: every way a file is read, mapped, refused and inspected, on real files."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from pipeline import data
from pipeline.data import (
    DEFAULT_DATA_PATH,
    UCI_LABEL_NAMES,
    RawTable,
    fingerprint,
    guess_columns,
    inspect_dataset,
    load_dataset,
    load_default_dataset,
    read_table,
)
from pipeline.errors import DatasetError
from tests.conftest import (
    CUSTOM_CSV,
    EMPTY_CSV,
    GARBAGE_BIN,
    HEADER_ONLY_CSV,
    LATIN1_CSV,
    NEWS_CORPORA_SMALL,
    ONE_CLASS_CSV,
    UCI_SMALL_CSV,
)

UCI_HEADER = ["ID", "TITLE", "PUBLISHER", "CATEGORY", "STORY", "HOSTNAME", "TIMESTAMP"]
NOT_FOUND = "The article requested cannot be found! Please refresh your browser or go back  ..."


def uci_rows() -> list[dict[str, str]]:
    """The UCI fixture read with the csv module: an independent reference for the tests."""
    with UCI_SMALL_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


# --------------------------------------------------------------------------- read_table


def test_read_csv_from_path_keeps_columns_and_strings():
    raw = read_table(UCI_SMALL_CSV)
    rows = uci_rows()
    assert list(raw.frame.columns) == UCI_HEADER
    assert len(raw.frame) == len(rows)
    assert raw.frame["ID"].tolist() == [r["ID"] for r in rows]
    assert raw.frame["TITLE"].tolist() == [r["TITLE"] for r in rows]
    assert raw.name == "uci_small.csv"
    assert raw.encoding == "utf-8"
    assert raw.notes == []
    assert raw.layout == "csv"


def test_read_gzip_from_path_and_bytes_alike(tmp_path):
    packed = gzip.compress(UCI_SMALL_CSV.read_bytes())
    path = write(tmp_path, "uci.csv.gz", packed)
    plain = read_table(UCI_SMALL_CSV).frame
    assert read_table(path).frame.equals(plain)
    from_bytes = read_table(packed, name="upload.csv.gz")
    assert from_bytes.frame.equals(plain)
    assert from_bytes.name == "upload.csv.gz"


def test_gzip_is_detected_by_magic_bytes_not_extension(tmp_path):
    path = write(tmp_path, "misnamed.csv", gzip.compress(UCI_SMALL_CSV.read_bytes()))
    assert len(read_table(path).frame) == len(uci_rows())


def test_bytes_without_name_get_a_generic_name():
    assert read_table(UCI_SMALL_CSV.read_bytes()).name == "uploaded file"


def test_news_corpora_tsv_without_header():
    raw = read_table(NEWS_CORPORA_SMALL)
    assert raw.layout == "newsCorpora"
    assert list(raw.frame.columns) == list(data.NEWS_CORPORA_COLUMNS)
    assert len(raw.frame) == 200
    assert any("newsCorpora" in note for note in raw.notes)
    # Titles match the UCI rows of the same ID, literal double quotes included.
    by_id = {r["ID"]: r for r in uci_rows()}
    ids = raw.frame["ID"].tolist()
    assert raw.frame["TITLE"].tolist() == [by_id[i]["TITLE"] for i in ids]
    assert raw.frame["CATEGORY"].tolist() == [by_id[i]["CATEGORY"] for i in ids]
    assert raw.frame["URL"].tolist() == [f"http://example.com/{i}" for i in ids]
    assert raw.frame["TITLE"].str.contains('"').any()


def test_news_corpora_loads_as_uci_dataset():
    ds = load_dataset(NEWS_CORPORA_SMALL.read_bytes(), name="newsCorpora.csv")
    assert (ds.text_col, ds.label_col) == ("TITLE", "CATEGORY")
    assert ds.label_names == UCI_LABEL_NAMES
    assert {"story", "publisher"} <= set(ds.frame.columns)
    assert ds.frame["label"].value_counts().to_dict() == {"b": 50, "e": 50, "m": 50, "t": 50}


def test_latin1_file_falls_back_with_a_note():
    raw = read_table(LATIN1_CSV)
    expected = list(csv.DictReader(io.StringIO(LATIN1_CSV.read_bytes().decode("latin-1"))))
    assert raw.encoding == "cp1252"
    assert any("not valid UTF-8" in n and "cp1252" in n for n in raw.notes)
    assert raw.frame["title"].tolist() == [r["title"] for r in expected]
    assert len(raw.frame) == 50
    assert raw.frame["title"].str.contains("[àáâäçèéêëíîïñóôöúüÀÉÇÑ]").all()
    ds = load_dataset(LATIN1_CSV)
    assert ds.encoding == "cp1252"
    assert any("not valid UTF-8" in n for n in ds.notes)


def test_bytes_undefined_in_cp1252_fall_back_to_latin1():
    raw = read_table("text,label\ncaf\xe9 \x81 ok,a\nplain,b\n".encode("latin-1"))
    assert raw.encoding == "latin-1"
    assert raw.frame["text"][0] == "caf\xe9 \x81 ok"


def test_utf8_bom_and_utf16_are_read():
    body = "headline,topic\nCafé opens,food\nStocks fall,money\n"
    with_bom = read_table(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert list(with_bom.frame.columns) == ["headline", "topic"]
    assert with_bom.frame["headline"][0] == "Café opens"
    utf16 = read_table(body.encode("utf-16"))
    assert utf16.encoding == "utf-16"
    assert utf16.frame.equals(with_bom.frame)


def test_na_texts_survive_and_empty_cells_are_empty_strings():
    raw = read_table(b"text,label,extra\nNA,a,\nnull,b,x\nN/A,a,\n")
    assert raw.frame["text"].tolist() == ["NA", "null", "N/A"]
    assert raw.frame["extra"].tolist() == ["", "x", ""]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_delimiters_are_sniffed(sep):
    body = f"text{sep}label\nhello, world{sep}a\nbye{sep}b\n".encode()
    raw = read_table(body)
    assert list(raw.frame.columns) == ["text", "label"]
    assert raw.frame["text"][0] == "hello, world"


def test_quoted_fields_with_commas_and_newlines():
    raw = read_table(b'text,label\n"one, two",a\n"line\nbreak",b\n')
    assert raw.frame["text"].tolist() == ["one, two", "line\nbreak"]


def test_column_names_are_stripped():
    raw = read_table(b" text , label \nx,a\n")
    assert list(raw.frame.columns) == ["text", "label"]


# --------------------------------------------------------------------------- read errors


def test_missing_path_names_the_path(tmp_path):
    with pytest.raises(DatasetError, match=r"No file at .*nothing\.csv"):
        read_table(tmp_path / "nothing.csv")


@pytest.mark.parametrize("content", [b"", b"  \n\n \r\n"])
def test_empty_file(content):
    with pytest.raises(DatasetError, match="is empty"):
        read_table(content, name="e.csv")


def test_empty_fixture_file():
    with pytest.raises(DatasetError, match=r"empty\.csv is empty"):
        load_dataset(EMPTY_CSV)


def test_header_only_file_lists_the_header():
    with pytest.raises(DatasetError, match=r"has a header \(ID, TITLE.*\) but no data rows"):
        load_dataset(HEADER_ONLY_CSV)


def test_binary_garbage_is_not_a_text_csv():
    with pytest.raises(DatasetError, match=r"isn't a readable text CSV.*CSV \(UTF-8\)"):
        read_table(bytes(range(256)) * 8, name="noise.csv")
    with pytest.raises(DatasetError, match=r"garbage\.bin is a PNG image, not a CSV"):
        read_table(GARBAGE_BIN)  # the fixture starts like a PNG


def test_excel_or_zip_file_is_refused_with_the_fix():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DatasetError, match=r"Excel workbook.*export it as CSV"):
        read_table(buffer.getvalue(), name="book.xlsx")


def test_damaged_gzip(tmp_path):
    packed = gzip.compress(UCI_SMALL_CSV.read_bytes())
    path = write(tmp_path, "cut.csv.gz", packed[: len(packed) // 2])
    with pytest.raises(DatasetError, match="could not be decompressed"):
        read_table(path)


@pytest.mark.parametrize(
    "body", [b"text,label\na,b\nc,d,e,f\n", b"text,label\na,b,c\nd,e\n", b"text,label\na,b,c\n"]
)
def test_rows_longer_than_the_header_are_a_parse_error(body):
    with pytest.raises(DatasetError, match=r"ragged\.csv could not be read as a table.*fields"):
        read_table(body, name="ragged.csv")


def test_upload_over_the_size_limit(monkeypatch):
    monkeypatch.setattr(data, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(DatasetError, match=r"big\.csv is .* MB uncompressed, over the limit"):
        read_table(b"x" * 1001, name="big.csv")


def test_gzip_upload_over_the_limit_once_decompressed(monkeypatch):
    monkeypatch.setattr(data, "MAX_UPLOAD_BYTES", 10_000)
    packed = gzip.compress(b"text,label\n" + b"same text,a\n" * 5000)
    assert len(packed) < 10_000
    with pytest.raises(DatasetError, match="once decompressed, over the limit"):
        read_table(packed, name="bomb.csv.gz")


# --------------------------------------------------------------------------- columns


def test_guess_columns_uci_and_common_names():
    assert guess_columns(read_table(UCI_SMALL_CSV)) == ("TITLE", "CATEGORY")
    assert guess_columns(read_table(CUSTOM_CSV)) == ("headline", "topic")
    assert guess_columns(read_table(b"Sentence,Class\nx,a\n")) == ("Sentence", "Class")
    assert guess_columns(read_table(b"id,headline_text,news_label\n1,x,a\n")) == (
        "headline_text",
        "news_label",
    )


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


# --------------------------------------------------------------------------- inspect


def test_inspect_numbers_match_an_independent_count(small_dataset):
    rows = uci_rows()
    report = inspect_dataset(small_dataset, top_n=5)
    titles = Counter(r["TITLE"] for r in rows)
    repeated = {t: n for t, n in titles.items() if n > 1}
    labels_of = {}
    for r in rows:
        labels_of.setdefault(r["TITLE"], set()).add(r["CATEGORY"])

    assert report["rows"] == len(rows)
    assert report["columns"] == UCI_HEADER
    assert report["missing"] == {c: sum(not r[c].strip() for r in rows) for c in UCI_HEADER}
    assert report["missing"]["PUBLISHER"] == 2
    duplicates = report["duplicates"]
    assert duplicates["duplicated_rows"] == sum(repeated.values())
    assert duplicates["distinct_duplicated_texts"] == len(repeated)
    assert duplicates["extra_copies"] == sum(repeated.values()) - len(repeated)
    assert duplicates["top"][0]["text"] == NOT_FOUND
    assert duplicates["top"][0]["count"] == 20
    not_found_labels = Counter(r["CATEGORY"] for r in rows if r["TITLE"] == NOT_FOUND)
    assert duplicates["top"][0]["labels"] == dict(not_found_labels)
    assert len(duplicates["top"]) == 5
    assert report["labels_per_duplicated_text"] == sum(len(s) > 1 for s in labels_of.values())

    classes = Counter(r["CATEGORY"] for r in rows)
    assert {c["code"]: c["count"] for c in report["class_counts"]} == dict(classes)
    assert [c["count"] for c in report["class_counts"]] == sorted(classes.values(), reverse=True)
    assert sum(c["share"] for c in report["class_counts"]) == pytest.approx(1.0, abs=1e-5)
    assert {c["name"] for c in report["class_counts"]} == set(UCI_LABEL_NAMES.values())

    words = sorted(len(r["TITLE"].split()) for r in rows)
    lengths = report["text_length_words"]
    assert (lengths["min"], lengths["max"]) == (words[0], words[-1])
    assert lengths["p50"] == pytest.approx(words[len(words) // 2], abs=0.5)
    assert lengths["mean"] == pytest.approx(sum(words) / len(words), abs=1e-3)
    assert report["length_counts"] == dict(sorted(Counter(words).items()))

    publishers = Counter(r["PUBLISHER"] for r in rows if r["PUBLISHER"].strip())
    assert report["n_publishers"] == len(publishers)
    ranked = sorted(publishers.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert report["top_publishers"] == [{"publisher": p, "count": n} for p, n in ranked]
    assert report["n_stories"] == len({r["STORY"] for r in rows})
    json.dumps(report)  # JSON-ready


def test_inspect_without_publisher_or_story():
    report = inspect_dataset(load_dataset(CUSTOM_CSV))
    assert report["top_publishers"] == []
    assert report["n_publishers"] is None
    assert report["n_stories"] is None
    assert report["missing"] == {"headline": 0, "topic": 0}
    json.dumps(report)


def test_inspect_counts_empty_cells_as_missing():
    ds = load_dataset(b"text,label,note\nhello,a,\n  ,b,x\nhello,b, \n")
    report = inspect_dataset(ds)
    assert report["missing"] == {"text": 1, "label": 0, "note": 2}
    assert report["duplicates"]["top"] == [
        {"text": "hello", "count": 2, "labels": {"a": 1, "b": 1}}
    ]
    assert report["labels_per_duplicated_text"] == 1
    assert report["length_counts"] == {0: 1, 1: 2}


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_stable_and_content_based(tmp_path, small_dataset):
    first = fingerprint(small_dataset)
    assert len(first) == 16 and int(first, 16) >= 0
    assert fingerprint(load_dataset(UCI_SMALL_CSV.read_bytes(), name="other name")) == first
    packed = write(tmp_path, "same.csv.gz", gzip.compress(UCI_SMALL_CSV.read_bytes()))
    assert fingerprint(load_dataset(packed)) == first
    changed = small_dataset.frame.copy()
    changed.loc[0, "label"] = "m" if changed.loc[0, "label"] != "m" else "b"
    small_dataset.frame = changed
    assert fingerprint(small_dataset) != first


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
    assert report["rows"] == 422_937
    assert report["duplicates"]["top"][0] == {
        "text": NOT_FOUND,
        "count": 145,
        "labels": report["duplicates"]["top"][0]["labels"],
    }
    assert sum(report["duplicates"]["top"][0]["labels"].values()) == 145
    assert report["labels_per_duplicated_text"] == 788
    assert {c["code"]: c["count"] for c in report["class_counts"]} == {
        "e": 152_828,
        "b": 115_967,
        "t": 108_503,
        "m": 45_639,
    }
    assert report["n_stories"] == 7_231
    assert report["text_length_words"]["max"] == 20
    assert report["text_length_words"]["p50"] == 9


def test_missing_default_dataset_is_a_dataset_error(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEFAULT_DATA_PATH", tmp_path / "gone.csv.gz")
    with pytest.raises(DatasetError, match=r"bundled dataset is missing.*upload a CSV"):
        load_default_dataset()


def test_raw_table_holds_only_strings():
    raw = read_table(b"n,label,when\n1,a,2024-01-01\n2.5,b,\n")
    assert isinstance(raw, RawTable)
    assert raw.frame.map(lambda value: isinstance(value, str)).all().all()
    assert raw.frame["n"].tolist() == ["1", "2.5"]


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_or_gzipped_zip_of_one_csv_is_read_and_named(uci_small_path):
    """Found: data.zip was refused ("application/zip files are not allowed")."""
    from pipeline.data import read_table

    csv = uci_small_path.read_bytes()
    plain = read_table(csv, name="headlines.csv")
    for archive, name in (
        (_zip_of({"headlines.csv": csv}), "data.zip"),
        (_zip_of({"__MACOSX/._x": b"junk", "sub/headlines.csv": csv}), "mac.zip"),
        (gzip.compress(_zip_of({"headlines.csv": csv})), "data.zip.gz"),
    ):
        table = read_table(archive, name=name)
        assert table.name.startswith(f"{name} › ") and table.frame.equals(plain.frame)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (_zip_of({"a.csv": b"x,y\n1,2\n", "b.csv": b"x,y\n1,2\n"}), "holds 2 files (a.csv, b.csv)"),
        (_zip_of({"notes.docx": b"x"}), "holds 1 file (notes.docx)"),
        (_zip_of({"[Content_Types].xml": b"x", "xl/workbook.xml": b"x"}), "is an Excel workbook"),
        (b"PK\x05\x06" + b"\0" * 18, "is an empty ZIP archive"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "is a PNG image, not a CSV; upload the CSV"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 64, "is a JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "is a PDF document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "is an Excel 97-2003 workbook"),
        (b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 32, "is a WebP image"),
    ],
)
def test_images_documents_workbooks_and_odd_archives_are_named(content, said):
    """Found: a PNG renamed .csv got the generic "isn't a readable text CSV"."""
    from pipeline.data import read_table
    from pipeline.errors import DatasetError

    with pytest.raises(DatasetError, match=re.escape(said)) as caught:
        read_table(content, name="just_uploaded.csv")
    assert str(caught.value).startswith("just_uploaded.csv")  # the file just uploaded
