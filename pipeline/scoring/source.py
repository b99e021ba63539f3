"""What a scoring job reads: an input path resolved to its files, their kind, their
format, their columns and the text column, checked before scoring starts.

A ``.csv``, a ``.csv.gz``, a ``.parquet`` file, or a folder of them (all of one kind,
read in path order; names starting with ``.`` or ``_`` are skipped). A CSV file is read
as the app reads it: its :class:`~pipeline.data.csv_format.CsvFormat` (delimiter,
encoding, the header-less newsCorpora layout) is told from its first
:data:`~pipeline.data.csv_format.HEAD_BYTES` by the app's rule
(:func:`~pipeline.data.csv_format.detect_shared_csv_format`), and :func:`arrow_csv_options` turns
it into ``pyarrow.csv`` options for both engines. The files of a folder share one format
and one header. The text column is ``--text-col``, or guessed by :func:`only_text_column`
with the app's rule (:func:`pipeline.data.columns.guess_columns`).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipeline.core.errors import DatasetError, PredictionError
from pipeline.data.columns import guess_columns
from pipeline.data.csv_format import HEAD_BYTES, CsvFormat, FileHead, detect_shared_csv_format
from pipeline.data.reading import RawTable

#: Input file kinds by suffix.
INPUT_SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet"}


def only_text_column(columns: Iterable[object]) -> str:
    """The column that holds the texts: the one the app's rule guesses from the names
    (:func:`pipeline.data.columns.guess_columns`: ``TITLE``, ``title``, ``text``,
    ``headline``, ``sentence``, ``content`` in any letter case, whole names first, then
    parts of names), or the only column.

    Raises :class:`PredictionError` naming the columns when neither rule decides.
    """
    names = [str(c) for c in columns]
    guessed, _ = guess_columns(RawTable(pd.DataFrame(columns=names), name=""))
    if guessed is not None:
        return guessed
    if len(names) == 1:
        return names[0]
    raise PredictionError(
        f"Which column holds the texts? Pass --text-col (one of {', '.join(names)})."
    )


@dataclass(frozen=True)
class ScoringSource:
    """An input resolved to its files, their kind, their columns and the text column.

    ``schema`` is the Arrow schema of the columns as they are scored and written: the
    Parquet file's own, or one string column per CSV column. ``csv_format`` is how every
    CSV file of the input is written (``None`` for Parquet).
    """

    path: Path
    kind: str  # "csv" or "parquet"
    files: tuple[Path, ...]
    schema: pa.Schema
    text_col: str
    csv_format: CsvFormat | None = None

    @property
    def columns(self) -> list[str]:
        """The input's column names, in order."""
        return list(self.schema.names)


def open_source(path: Path, text_col: str | None = None) -> ScoringSource:
    """Resolve ``path`` (a file or a folder) into a :class:`ScoringSource`.

    Checks what can be checked before scoring starts: the files exist and are of one
    supported kind, a folder's CSV files share one format (:func:`shared_csv_format`) and
    one header, its Parquet files one schema, and the text column (``text_col``, or
    :func:`only_text_column`'s guess) is there. Raises :class:`DatasetError` or
    :class:`PredictionError` with the fix.
    """
    path = Path(path)
    files = _input_files(path)
    kinds = {INPUT_SUFFIXES[file_suffix(f)] for f in files}
    if len(kinds) > 1:
        raise DatasetError(f"{path.name} mixes CSV and Parquet files; put one kind in the folder.")
    kind = kinds.pop()
    csv_format = shared_csv_format(path, files) if kind == "csv" else None

    def read_schema(file: Path) -> pa.Schema:
        return _parquet_schema(file) if csv_format is None else _csv_schema(file, csv_format)

    schema = read_schema(files[0])
    for other in files[1:]:
        if not read_schema(other).equals(schema):
            raise DatasetError(
                f"{other.name} has other columns than {files[0].name}; every file of "
                f"{path.name} needs the same columns ({', '.join(schema.names)})."
            )
    if len(set(schema.names)) != len(schema.names):
        raise DatasetError(f"{files[0].name} repeats a column name; give each column its own.")
    column = text_col or only_text_column(schema.names)
    if column not in schema.names:
        raise PredictionError(
            f"Column {column!r} is not in {path.name}; columns: {', '.join(schema.names)}. "
            "Pass --text-col."
        )
    return ScoringSource(path, kind, tuple(files), schema, column, csv_format)


def shared_csv_format(path: Path, files: list[Path]) -> CsvFormat:
    """The one :class:`CsvFormat` the CSV ``files`` of input ``path`` are all written in.

    Told by :func:`~pipeline.data.csv_format.detect_shared_csv_format` from each file's
    first :data:`HEAD_BYTES` (decompressed for a ``.csv.gz``): the app's rule, with the
    files of a folder read as one table. Raises :class:`DatasetError` naming the file and
    the fix when a file is not a readable CSV, or when files differ in delimiter,
    encoding or layout (Ray reads every file of an input with one set of options).
    """
    return detect_shared_csv_format((_file_head(file) for file in files), path.name)


def arrow_csv_options(csv_format: CsvFormat) -> tuple[pa_csv.ReadOptions, pa_csv.ParseOptions]:
    """``pyarrow.csv`` read and parse options that read a file written in ``csv_format``.

    The encoding is transcoded to UTF-8 as the file streams (none for UTF-8); a layout
    without header gets its column names (every line is data); the lines before the header
    (Excel's ``sep=;``) are skipped; without quoting, a double quote is text. A quoted
    value may span lines.
    """
    names = list(csv_format.column_names) if csv_format.column_names is not None else None
    read_options = pa_csv.ReadOptions(
        use_threads=True,
        encoding=csv_format.encoding,
        column_names=names,
        skip_rows=csv_format.skip_rows,
    )
    parse_options = pa_csv.ParseOptions(
        delimiter=csv_format.delimiter,
        quote_char='"' if csv_format.quoted else False,
        newlines_in_values=csv_format.quoted,
    )
    return read_options, parse_options


def file_suffix(path: Path) -> str:
    """``path``'s extension in lower case, ``.csv.gz`` counted as one (``".csv"``,
    ``".csv.gz"``, ``".parquet"``, ...; ``""`` when it has none)."""
    name = path.name.lower()
    if name.endswith(".csv.gz"):
        return ".csv.gz"
    return Path(name).suffix


def _input_files(path: Path) -> list[Path]:
    allowed = ", ".join(INPUT_SUFFIXES)
    if path.is_dir():
        files = sorted(
            (
                f
                for f in path.rglob("*")
                if f.is_file()
                and file_suffix(f) in INPUT_SUFFIXES
                and not any(part.startswith((".", "_")) for part in f.relative_to(path).parts)
            ),
            key=str,
        )
        if not files:
            raise DatasetError(f"The folder {path} holds no {allowed} file to score.")
        return files
    if not path.is_file():
        raise DatasetError(f"No file or folder {path}; check the path.")
    if file_suffix(path) not in INPUT_SUFFIXES:
        raise DatasetError(f"Cannot score {path.name}: give a {allowed} file or a folder of them.")
    return [path]


def _file_head(path: Path) -> FileHead:
    """The first :data:`HEAD_BYTES` of the CSV at ``path``, decompressed."""
    compressed = file_suffix(path) == ".csv.gz"
    try:
        with _open_decompressed(path) as stream:
            head = stream.read(HEAD_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        fix = "compress it again or give the plain CSV" if compressed else "check the file"
        raise DatasetError(f"{path.name} could not be read ({short_error(exc)}); {fix}.") from exc
    if not compressed and head.startswith(b"\x1f\x8b"):
        raise DatasetError(
            f"{path.name} is gzip-compressed: name it {path.name}.gz, or decompress it."
        )
    return FileHead(path.name, head[:HEAD_BYTES], complete=len(head) <= HEAD_BYTES)


def _open_decompressed(path: Path) -> BinaryIO:
    """The CSV file at ``path`` as a binary stream, decompressed for a ``.csv.gz``."""
    return gzip.open(path, "rb") if file_suffix(path) == ".csv.gz" else path.open("rb")


def _csv_schema(path: Path, csv_format: CsvFormat) -> pa.Schema:
    """The CSV's columns as the scorer sees them: every one a string."""
    read_options, parse_options = arrow_csv_options(csv_format)
    try:
        with pa_csv.open_csv(path, read_options=read_options, parse_options=parse_options) as r:
            names = r.schema.names
    except UnicodeDecodeError as exc:
        raise not_decodable(path.name, csv_format.encoding, exc) from exc
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise DatasetError(
            f"Cannot read {path.name} as CSV ({short_error(exc)}): give a CSV file with a "
            "header row (or the original newsCorpora.csv)."
        ) from exc
    return pa.schema([pa.field(name, pa.string()) for name in names])


def not_decodable(name: str, encoding: str, exc: UnicodeDecodeError) -> DatasetError:
    """The error for a byte of file ``name`` that ``encoding``, chosen from the file's
    first bytes, does not define: the byte, the encoding and the fix."""
    byte = exc.object[exc.start : exc.start + 1].hex() if exc.object else "?"
    return DatasetError(
        f"{name} holds a byte (0x{byte}) that is not {encoding}, the encoding its first "
        f"{HEAD_BYTES // 1024} KiB are in; convert the file to UTF-8 "
        f"(iconv -f {encoding} -t utf-8) and score it again."
    )


def _parquet_schema(path: Path) -> pa.Schema:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"Cannot read {path.name} as Parquet ({short_error(exc)}).") from exc
    return pa.schema([f.remove_metadata() for f in schema])


def rows_up_to(source: ScoringSource, limit: int) -> int:
    """How many rows ``source`` may hold, counted no further than ``limit``.

    Parquet files answer from their metadata (exact). CSV files (decompressed for a
    ``.csv.gz``) count their line ends, plus one per file: an upper bound, as a header or a
    quoted cell holding a line end counts as a row, and never too small. Reading stops once
    ``limit`` is reached, so a big input costs about ``limit`` lines, not the whole file.
    Returns at most ``limit``.
    """
    counted = 0
    for file in source.files:
        if source.kind == "parquet":
            counted += pq.read_metadata(file).num_rows
        else:
            counted += 1 + _line_ends(file, limit - counted)
        if counted >= limit:
            return limit
    return counted


#: Bytes read at a time while counting a CSV file's line ends.
_COUNT_BLOCK_BYTES = 4 * 1024 * 1024


def _line_ends(path: Path, limit: int) -> int:
    """The line ends in ``path`` (decompressed), or a count past ``limit`` once seen (also
    when the file cannot be read to its end: the scoring's own read then names the problem)."""
    found = 0
    try:
        with _open_decompressed(path) as stream:
            while found <= limit and (block := stream.read(_COUNT_BLOCK_BYTES)):
                found += block.count(b"\n")
    except (OSError, EOFError, zlib.error):
        return limit + 1
    return found


def short_error(exc: BaseException, limit: int = 300) -> str:
    """``exc``'s message on one line, cut to ``limit`` characters (for one-line errors)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "INPUT_SUFFIXES",
    "ScoringSource",
    "arrow_csv_options",
    "file_suffix",
    "not_decodable",
    "only_text_column",
    "open_source",
    "rows_up_to",
    "shared_csv_format",
    "short_error",
]
