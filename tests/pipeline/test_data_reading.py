"""pipeline.data.reading: every way a file is read or refused, on real files."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile

import pytest
from data_support import UCI_HEADER, uci_rows, write

from pipeline import data
from pipeline.core.errors import DatasetError
from pipeline.data import RawTable, load_dataset, read_table, reading
from tests.conftest import (
    EMPTY_CSV,
    GARBAGE_BIN,
    HEADER_ONLY_CSV,
    LATIN1_CSV,
    NEWS_CORPORA_SMALL,
    UCI_SMALL_CSV,
)

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


@pytest.mark.parametrize(
    ("body", "columns"),
    [
        (b"id\ttitle, short\tlabel\n1\tStocks fall, again\tb\n", ["id", "title, short", "label"]),
        (b"text;label;price, EUR\nhello;a;1,50\n", ["text", "label", "price, EUR"]),
    ],
)
def test_the_delimiter_is_the_one_the_header_holds_most(body, columns):
    """A comma inside a column name does not make a tab- or semicolon-separated file a CSV
    (csv.Sniffer prefers a comma whenever the header holds one)."""
    raw = read_table(body)
    assert list(raw.frame.columns) == columns
    assert len(raw.frame) == 1


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
    monkeypatch.setattr(reading, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(DatasetError, match=r"big\.csv is .* MB uncompressed, over the limit"):
        read_table(b"x" * 1001, name="big.csv")


def test_gzip_upload_over_the_limit_once_decompressed(monkeypatch):
    monkeypatch.setattr(reading, "MAX_UPLOAD_BYTES", 10_000)
    packed = gzip.compress(b"text,label\n" + b"same text,a\n" * 5000)
    assert len(packed) < 10_000
    with pytest.raises(DatasetError, match="once decompressed, over the limit"):
        read_table(packed, name="bomb.csv.gz")


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
    from pipeline.core.errors import DatasetError
    from pipeline.data import read_table

    with pytest.raises(DatasetError, match=re.escape(said)) as caught:
        read_table(content, name="just_uploaded.csv")
    assert str(caught.value).startswith("just_uploaded.csv")  # the file just uploaded


# --------------------------------------------------------------------------- detect_csv_format

_BODY = "headline,topic\nCafé opens,food\nStocks fall,money\n"


@pytest.mark.parametrize(
    ("content", "delimiter", "encoding", "layout"),
    [
        (UCI_SMALL_CSV.read_bytes(), ",", "utf-8", "csv"),
        (LATIN1_CSV.read_bytes(), ",", "cp1252", "csv"),
        (NEWS_CORPORA_SMALL.read_bytes(), "\t", "utf-8", "newsCorpora"),
        (_BODY.replace(",", ";").encode("utf-8"), ";", "utf-8", "csv"),
        (_BODY.replace(",", "|").encode("cp1252"), "|", "cp1252", "csv"),
        (_BODY.replace(",", "\t").encode("utf-16"), "\t", "utf-16", "csv"),
        (b"\xef\xbb\xbf" + _BODY.encode("utf-8"), ",", "utf-8", "csv"),
        ("text,label\ncaf\xe9 \x81 ok,a\n".encode("latin-1"), ",", "latin-1", "csv"),
    ],
)
def test_detect_csv_format_is_the_rule_read_table_reads_by(content, delimiter, encoding, layout):
    """One rule for the app and the scorer: the format detected from a file's bytes is the
    one read_table reads it with."""
    found = data.detect_csv_format(content, "in.csv")
    raw = read_table(content, name="in.csv")
    assert (found.delimiter, found.encoding, found.layout) == (delimiter, encoding, layout)
    assert (raw.encoding, raw.layout) == (found.encoding, found.layout)
    assert list(found.notes) == raw.notes
    if layout == "newsCorpora":
        assert found.column_names == data.NEWS_CORPORA_COLUMNS and not found.quoted
        assert "tab-separated" in found.describe() and "without a header" in found.describe()
    else:
        assert found.column_names is None and found.quoted
        assert found.describe().startswith(
            {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]
        )


def test_a_head_cut_inside_a_character_is_still_utf8():
    """The scorer detects from a file's first bytes, which may end inside a character."""
    content = ("título,tema\n" + "canción nueva,música\n" * 100).encode("utf-8")
    head = content[: content.index("ó".encode()) + 1]  # cut between the two bytes of "ó"
    assert data.detect_csv_format(head, "in.csv", complete=False).encoding == "utf-8"
    assert data.detect_csv_format(head, "in.csv").encoding == "cp1252"  # a whole file: not UTF-8


def test_detect_csv_format_refuses_binary_files_by_name():
    with pytest.raises(DatasetError, match=r"noise\.csv isn't a readable text CSV"):
        data.detect_csv_format(bytes(range(256)) * 8, "noise.csv")
    with pytest.raises(DatasetError, match=r"garbage\.bin is a PNG image, not a CSV"):
        data.detect_csv_format(GARBAGE_BIN.read_bytes(), "garbage.bin")


def test_a_utf8_file_with_a_stray_byte_stays_utf8():
    """A UTF-8 file with one stray latin-1 byte keeps its UTF-8 characters (read as cp1252
    every one of them would turn into two); the stray byte is U+FFFD, with a note."""
    content = "title,label\nCafé — opens,a\nStocks “fall”,b\nCaf\xe9 closes,a\n".encode()
    content = content.replace("Caf\xe9 closes".encode(), b"Caf\xe9 closes")
    raw = read_table(content, name="mixed.csv")
    assert raw.encoding == "utf-8"
    assert raw.frame["title"].tolist() == ["Café — opens", "Stocks “fall”", "Caf\ufffd closes"]
    assert any("1 stray byte" in note for note in raw.notes)
    assert data.detect_csv_format(content, "mixed.csv").encoding == "utf-8"


def test_the_files_of_a_folder_are_weighed_as_one_table():
    from pipeline.data.csv_format import FileHead, detect_shared_csv_format

    utf8 = FileHead("a.csv", "title,label\nCafé — opens,a\nStocks “fall”,b\n".encode())
    stray = FileHead("b.csv", b"title,label\nCaf\xe9 closes,a\n")  # one stray byte
    ascii_only = FileHead("c.csv", b"title,label\nStocks fall,a\n")
    cp1252 = FileHead("d.csv", "title,label\nCafé closes,a\nNaïve,b\n".encode("cp1252"))
    # A stray byte in one file of a UTF-8 folder does not make the folder cp1252 (alone,
    # that file is), and a file of plain ASCII takes the others' encoding.
    assert data.detect_csv_format(stray.data, "b.csv").encoding == "cp1252"
    assert detect_shared_csv_format([utf8, stray, ascii_only], "folder").encoding == "utf-8"
    assert detect_shared_csv_format([ascii_only, cp1252], "folder").encoding == "cp1252"
    # Read as cp1252, a UTF-8 file's characters would silently turn into others: refused.
    # (Read as UTF-8, a cp1252 file's letters become U+FFFD, each row noted by the scorer.)
    one_utf8 = FileHead("g.csv", "title,label\nCafé opens,a\n".encode())
    with pytest.raises(DatasetError, match=r"^g\.csv is UTF-8, but d\.csv is cp1252.*iconv"):
        detect_shared_csv_format([one_utf8, cp1252], "folder")
    assert detect_shared_csv_format([utf8, cp1252], "folder").encoding == "utf-8"
    utf16 = FileHead("e.csv", "title\tlabel\nCafé\ta\n".encode("utf-16"))
    with pytest.raises(DatasetError, match=r"^e\.csv is UTF-16, but a\.csv is not"):
        detect_shared_csv_format([utf8, utf16], "folder")
    tabs = FileHead("f.csv", b"title\tlabel\nStocks fall\ta\n")
    with pytest.raises(DatasetError, match=r"^f\.csv is tab-separated UTF-8 with a header row, "):
        detect_shared_csv_format([ascii_only, tabs], "folder")
