"""The batch scorer reads every CSV the app reads: other delimiters, other encodings, the
header-less newsCorpora file.

Each file is scored by the streaming scorer (``score_file``, the local engine of
``python -m pipeline predict --file IN --output OUT``) in chunks of 16 rows, and every
cell of its output must equal the app's scoring (``Predictor.score_table``) of the table
:func:`pipeline.data.read_table` reads from the same file, with the text column the app
would guess. Runs on the session's tiny trained run (``trained_run``).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.core.errors import DatasetError
from pipeline.data import read_table
from pipeline.runs.registry import RunRegistry
from pipeline.scoring.files import score_file
from pipeline.scoring.predictor import Predictor
from pipeline.scoring.source import only_text_column, open_source
from tests.conftest import LATIN1_CSV, NEWS_CORPORA_SMALL, UCI_SMALL_CSV

pytestmark = pytest.mark.training
CHUNK = 16  # the smallest file has 50 rows: every file crosses chunks


@pytest.fixture(scope="module")
def predictor(trained_run, runs_dir) -> Predictor:
    result, _ = trained_run
    return Predictor.from_run(RunRegistry(runs_dir), result.run_id)


def _uci_rows(rows: int = 300) -> pd.DataFrame:
    return read_table(UCI_SMALL_CSV).frame.head(rows)


def _semicolons(folder: Path) -> Path:
    """300 UCI rows separated by semicolons (titles holding one are quoted), UTF-8."""
    frame = _uci_rows()
    frame.loc[3, "TITLE"] = "Stocks; bonds and a line\nbreak"  # quoted, over two lines
    path = folder / "semicolons.csv"
    frame.to_csv(path, sep=";", index=False)
    return path


def _latin1(folder: Path) -> Path:
    """The committed latin-1 fixture (``title,category``), as it is."""
    path = folder / "latin1_headlines.csv"
    path.write_bytes(LATIN1_CSV.read_bytes())
    return path


def _news_corpora(folder: Path) -> Path:
    """The committed header-less, tab-separated newsCorpora fixture, as it is."""
    path = folder / "newsCorpora.csv"
    path.write_bytes(NEWS_CORPORA_SMALL.read_bytes())
    return path


def _tabs_cp1252_gz(folder: Path) -> Path:
    """The latin-1 fixture's rows tab-separated, in cp1252, gzip-compressed."""
    frame = read_table(LATIN1_CSV).frame
    path = folder / "tabs.csv.gz"
    path.write_bytes(gzip.compress(frame.to_csv(sep="\t", index=False).encode("cp1252")))
    return path


def _pipes_utf16(folder: Path) -> Path:
    """300 UCI rows separated by pipes, in UTF-16 with its byte order mark."""
    path = folder / "pipes.csv"
    path.write_bytes(_uci_rows().to_csv(sep="|", index=False).encode("utf-16"))
    return path


def _excel_sep_line(folder: Path) -> Path:
    """300 UCI rows as Excel writes a semicolon CSV that names its delimiter: a ``sep=;``
    line before the header, cp1252, CRLF line ends."""
    text = "sep=;\r\n" + _uci_rows().to_csv(sep=";", index=False, lineterminator="\r\n")
    path = folder / "excel.csv"
    path.write_bytes(text.encode("cp1252", errors="replace"))
    return path


@pytest.mark.parametrize(
    ("make", "text_col"),
    [
        (_semicolons, "TITLE"),
        (_excel_sep_line, "TITLE"),
        (_latin1, "title"),
        (_news_corpora, "TITLE"),
        (_tabs_cp1252_gz, "title"),
        (_pipes_utf16, "TITLE"),
    ],
    ids=["semicolons", "excel-sep-line", "latin-1", "newsCorpora", "tabs-cp1252-gz", "pipes-utf16"],
)
def test_the_scorer_reads_what_the_app_reads(
    predictor, tmp_path, make: Callable[[Path], Path], text_col: str
):
    path = make(tmp_path)
    raw = read_table(path)
    expected = predictor.score_table(raw.frame, only_text_column(raw.frame.columns))

    source = open_source(path)
    summary = score_file(predictor, source, tmp_path / "out.parquet", chunk_rows=CHUNK)

    assert source.text_col == text_col  # guessed as the app guesses it
    assert source.columns == list(raw.frame.columns)
    written = pq.read_table(tmp_path / "out.parquet").to_pandas()
    pd.testing.assert_frame_equal(written, expected)
    assert summary.rows == len(raw.frame) > CHUNK
    assert "not UTF-8 (replaced)" not in summary.noted  # decoded, not replaced


def test_a_folder_of_semicolon_files_scores_as_one_table(predictor, tmp_path):
    """Three cp1252 parts; the first one's text is plain ASCII, which reads the same in
    any encoding, so it takes the others' (cp1252) instead of being refused as UTF-8."""
    frame = _uci_rows()
    frame.loc[:99, "TITLE"] = frame.loc[:99, "TITLE"].str.replace(r"[^\x00-\x7f]", "-", regex=True)
    folder = tmp_path / "parts"
    folder.mkdir()
    for number, start in enumerate(range(0, len(frame), 100)):
        text = frame.iloc[start : start + 100].to_csv(sep=";", index=False)
        assert text.isascii() == (number == 0)
        (folder / f"part-{number}.csv").write_bytes(text.encode("cp1252"))
    whole = pd.concat([read_table(p).frame for p in sorted(folder.iterdir())], ignore_index=True)

    score_file(predictor, folder, tmp_path / "out.parquet", chunk_rows=CHUNK)

    written = pq.read_table(tmp_path / "out.parquet").to_pandas()
    pd.testing.assert_frame_equal(written, predictor.score_table(whole, "TITLE"))


def test_a_folder_mixing_delimiters_is_refused_with_the_fix(tmp_path):
    (tmp_path / "a.csv").write_text("title,category\nStocks fall,b\n")
    (tmp_path / "b.csv").write_text("title;category\nStocks rise;b\n")

    with pytest.raises(DatasetError) as caught:
        open_source(tmp_path)

    message = str(caught.value)
    assert message.startswith("b.csv is semicolon-separated")
    assert "a.csv is comma-separated" in message
    assert "same delimiter and encoding" in message


def test_a_folder_mixing_encodings_is_refused_with_the_fix(tmp_path):
    (tmp_path / "a.csv").write_bytes("title,category\nCafé opens,b\n".encode())
    (tmp_path / "b.csv").write_bytes("title,category\nCafé closes,b\n".encode("cp1252"))

    with pytest.raises(DatasetError, match=r"^a\.csv is UTF-8, but b\.csv is cp1252.*one encoding"):
        open_source(tmp_path)


@pytest.mark.parametrize("rows", [4_000, 100_000], ids=["88KB", "2.2MB"])
def test_a_byte_the_heads_encoding_lacks_stops_with_the_fix(predictor, tmp_path, rows):
    """The encoding is chosen from a file's first 64 KiB: a later byte that cp1252 does
    not define is a broken file, named with its fix, and no output is left. Arrow meets
    it in the block it reads the header from (88 KB), or, as its read-ahead goes, while
    the chunks are read (2.2 MB): the message is the same."""
    text = "title,category\n" + "Café opens in Paris,b\n" * rows
    path = tmp_path / "late.csv"
    path.write_bytes(text.encode("cp1252") + b"Bad \x81 byte,b\n")

    with pytest.raises(DatasetError, match=r"^late\.csv holds a byte \(0x81\) that is not cp1252"):
        score_file(predictor, path, tmp_path / "out.parquet", chunk_rows=8192)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.csv"]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("noise.csv", bytes(range(256)) * 8, "noise.csv isn't a readable text CSV"),
        ("image.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image.csv is a PNG image"),
        ("packed.csv", gzip.compress(b"title\nStocks fall\n"), "packed.csv is gzip-compressed"),
        ("cut.csv.gz", gzip.compress(b"title\nStocks fall\n" * 99)[:40], "cut.csv.gz"),
    ],
    ids=["noise", "png", "gzip-named-csv", "cut-gzip"],
)
def test_files_that_are_no_text_csv_are_refused_by_name(tmp_path, name, content, said):
    (tmp_path / name).write_bytes(content)

    with pytest.raises(DatasetError) as caught:
        open_source(tmp_path / name)

    assert str(caught.value).startswith(said)


def test_a_picture_given_to_the_scorer_is_not_asked_for_labels(tmp_path):
    """Found: a PNG given to "Score a CSV" was told to "upload the CSV of texts and
    labels instead", though scoring needs the texts alone."""
    (tmp_path / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)

    with pytest.raises(DatasetError) as caught:
        open_source(tmp_path / "photo.csv")

    assert str(caught.value) == "photo.csv is a PNG image, not a CSV; upload the CSV instead."
