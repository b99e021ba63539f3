"""What a scoring job reads: an input path resolved to its files, their kind, their
columns and the text column, checked before scoring starts.

A ``.csv``, a ``.csv.gz``, a ``.parquet`` file, or a folder of them (all of one kind,
read in path order; names starting with ``.`` or ``_`` are skipped). The text column is
``--text-col``, or guessed by :func:`only_text_column` with the app's rule
(:func:`pipeline.data.columns.guess_columns`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipeline.core.errors import DatasetError, PredictionError
from pipeline.data.columns import guess_columns
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
    Parquet file's own, or one string column per CSV column.
    """

    path: Path
    kind: str  # "csv" or "parquet"
    files: tuple[Path, ...]
    schema: pa.Schema
    text_col: str

    @property
    def columns(self) -> list[str]:
        """The input's column names, in order."""
        return list(self.schema.names)


def open_source(path: Path, text_col: str | None = None) -> ScoringSource:
    """Resolve ``path`` (a file or a folder) into a :class:`ScoringSource`.

    Checks what can be checked before scoring starts: the files exist and are of one
    supported kind, a folder's files share one header (CSV) or schema (Parquet), and the
    text column (``text_col``, or :func:`only_text_column`'s guess) is there. Raises
    :class:`DatasetError` or :class:`PredictionError` with the fix.
    """
    path = Path(path)
    files = _input_files(path)
    kinds = {INPUT_SUFFIXES[file_suffix(f)] for f in files}
    if len(kinds) > 1:
        raise DatasetError(f"{path.name} mixes CSV and Parquet files; put one kind in the folder.")
    kind = kinds.pop()
    read_schema = _csv_schema if kind == "csv" else _parquet_schema
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
    return ScoringSource(path, kind, tuple(files), schema, column)


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


def _csv_schema(path: Path) -> pa.Schema:
    """The CSV's columns as the scorer sees them: every one a string."""
    try:
        with pa_csv.open_csv(path, parse_options=pa_csv.ParseOptions(newlines_in_values=True)) as r:
            names = r.schema.names
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DatasetError(
            f"Cannot read {path.name} as CSV ({short_error(exc)}): give a comma-separated "
            "UTF-8 file with a header row."
        ) from exc
    return pa.schema([pa.field(name, pa.string()) for name in names])


def _parquet_schema(path: Path) -> pa.Schema:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"Cannot read {path.name} as Parquet ({short_error(exc)}).") from exc
    return pa.schema([f.remove_metadata() for f in schema])


def short_error(exc: BaseException, limit: int = 300) -> str:
    """``exc``'s message on one line, cut to ``limit`` characters (for one-line errors)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "INPUT_SUFFIXES",
    "ScoringSource",
    "file_suffix",
    "only_text_column",
    "open_source",
    "short_error",
]
