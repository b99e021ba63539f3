"""Batch scoring of a file or folder of any size with a saved run, in bounded memory.

What a user meets (``python -m pipeline predict --run RUN --file IN --output OUT``):

* **Engines.** ``--engine local`` (the default) streams the input through this process in
  chunks of :data:`DEFAULT_CHUNK_ROWS` rows, so memory stays flat however large the file;
  on one machine it is the fastest way. ``--engine ray`` runs the same job on Ray Data
  (:mod:`pipeline.scoring.ray_scoring`), locally or on a cluster (``--address``), and writes the
  very same file.
* **Inputs.** A ``.csv``, a ``.csv.gz``, a ``.parquet`` file, or a folder of them (all of
  one kind, read in path order; names starting with ``.`` or ``_`` are skipped). CSV files
  are comma-separated with a header row (every file of a folder the same header); a quoted
  value may span lines.
* **Columns.** Every original column, in order, followed by the columns the app's batch
  scoring adds (:meth:`pipeline.scoring.predictor.Predictor.score_table`): ``predicted``,
  ``predicted_code``, ``confidence``, ``note`` and one ``probability: <class>`` column per
  class. CSV columns are kept as the text they hold (an empty cell stays an empty string,
  ``007`` stays ``007``); Parquet columns keep their types (a bytes column is decoded
  as UTF-8 text). The text column is ``--text-col``, or guessed by
  :func:`only_text_column`.
* **Output.** Parquet or CSV by the output's extension (:data:`OUTPUT_SUFFIXES`), written
  chunk by chunk to a temporary name beside it and renamed at the end: a job that fails or
  is interrupted leaves no half file under the output's name.
* **Bad rows never stop the job.** A row with an empty text, or a text with no words, is
  kept unscored with a note saying why; a text whose bytes are not valid UTF-8 is decoded
  with U+FFFD (``\ufffd``) in place of the bad bytes, scored, and noted
  (:data:`NOTE_NOT_UTF8`). :class:`ScoringSummary` counts each case. Streaming cannot
  guess a file's encoding from all of it the way the app's whole-file reader does, so it
  reads UTF-8 only: convert a Latin-1 file first (``iconv -f latin1 -t utf-8``), or every
  accented letter of it is replaced and noted. Bad bytes in other columns are replaced
  too, without a note. A line with the wrong number of fields is a broken file, not a bad
  row: the job stops with an error naming the file.
* **What the CLI prints.** Rows done and rows/s on stderr while it runs (local engine;
  Ray draws its own progress bars), then one summary line on stdout (rows scored, rows
  not scored and why, notes, seconds), or the :class:`ScoringSummary` as JSON with
  ``--json`` (on Ray, the last line of stdout: Ray may print its own lines before it).
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipeline.core.errors import DatasetError, PredictionError

if TYPE_CHECKING:
    from pipeline.scoring.predictor import Predictor

#: Rows per model call: large calls keep the model busy (about 121,000 rows/s measured).
DEFAULT_CHUNK_ROWS = 8192
#: Input file kinds by suffix.
INPUT_SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet"}
#: Output formats by suffix.
OUTPUT_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".csv.gz": "csv.gz"}
#: Column names taken as the text column, in order of preference, when none is given.
TEXT_COLUMN_CANDIDATES = ("TITLE", "title", "text", "headline")
#: The ``note`` of a row whose text held bytes that are not UTF-8.
NOTE_NOT_UTF8 = "text held bytes that are not UTF-8: replaced by \ufffd before scoring"
#: Joins two notes of one row.
NOTE_SEPARATOR = "; "
# Where the note sits among the added columns (``ScoredColumns.all``: predicted,
# predicted_code, confidence, note, probabilities...), counted from the first added one.
_NOTE_OFFSET = 3


def only_text_column(columns: Iterable[object]) -> str:
    """The column that holds the texts: a usual name, or the only column.

    Raises :class:`PredictionError` naming the columns when neither rule decides.
    """
    names = [str(c) for c in columns]
    for candidate in TEXT_COLUMN_CANDIDATES:
        if candidate in names:
            return candidate
    if len(names) == 1:
        return names[0]
    raise PredictionError(
        f"Which column holds the texts? Pass --text-col (one of {', '.join(names)})."
    )


def output_format(path: Path) -> str:
    """``"parquet"``, ``"csv"`` or ``"csv.gz"`` from ``path``'s extension, or a
    :class:`PredictionError` naming the allowed ones."""
    kind = OUTPUT_SUFFIXES.get(_suffix(path))
    if kind is None:
        raise PredictionError(
            f"Cannot write {path.name}: the output must end in "
            f"{', '.join(OUTPUT_SUFFIXES)} (Parquet or CSV)."
        )
    return kind


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
    kinds = {INPUT_SUFFIXES[_suffix(f)] for f in files}
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


def csv_read_options(columns: list[str]) -> dict[str, Any]:
    """The ``pyarrow.csv`` options both engines read CSV files with, as keyword arguments
    (``read_options``, ``parse_options``, ``convert_options``).

    Every column is read as raw bytes (no type guessing, no value turned into a null), so
    the text of a cell is kept as it is and bad UTF-8 can be replaced instead of failing.
    """
    return {
        "read_options": pa_csv.ReadOptions(use_threads=True),
        "parse_options": pa_csv.ParseOptions(newlines_in_values=True),
        "convert_options": pa_csv.ConvertOptions(
            column_types={name: pa.binary() for name in columns},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


class TableScorer:
    """One chunk of an input in, the same rows scored out (both engines use it).

    ``__call__`` takes an Arrow table of the input's columns (CSV columns as bytes,
    Parquet columns as they are), decodes the bytes (UTF-8, bad bytes replaced), scores
    it with :meth:`Predictor.score_table` and returns an Arrow table with
    :meth:`output_schema`, adding :data:`NOTE_NOT_UTF8` to the rows whose text needed
    replacing.
    """

    def __init__(self, predictor: Predictor, source_schema: pa.Schema, text_col: str) -> None:
        self.predictor = predictor
        self.text_col = text_col
        self.schema = output_schema(predictor, source_schema)
        self._note = predictor.scored_columns(source_schema.names).note

    def __call__(self, table: pa.Table) -> pa.Table:
        table, replaced = _decoded(table, self.text_col)
        scored = self.predictor.score_table(table.to_pandas(), self.text_col)
        if replaced.any():
            notes = scored[self._note].to_numpy(dtype=object)
            notes[replaced] = [_add_note(n, NOTE_NOT_UTF8) for n in notes[replaced]]
            scored[self._note] = notes
        return pa.Table.from_pandas(scored, schema=self.schema, preserve_index=False)


def output_schema(predictor: Predictor, source_schema: pa.Schema) -> pa.Schema:
    """The Arrow schema of the scored output: the input's columns (bytes read as text),
    then the columns :meth:`Predictor.score_table` adds, probabilities as float32."""
    names = predictor.scored_columns(source_schema.names)
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_binary(f.type) else f.remove_metadata()
        for f in source_schema
    ]
    fields += [
        pa.field(names.predicted, pa.string()),
        pa.field(names.predicted_code, pa.string()),
        pa.field(names.confidence, pa.float32()),
        pa.field(names.note, pa.string()),
        *(pa.field(column, pa.float32()) for column in names.probabilities.values()),
    ]
    return pa.schema(fields)


@dataclass(frozen=True)
class ScoringProgress:
    """Rows written so far and the seconds since the job started."""

    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ScoringSummary:
    """What a scoring job did.

    Attributes
    ----------
    rows : int
        Rows written (every input row).
    not_scored : dict
        Why rows were left unscored (``"empty text"``, ``"no words"``) -> how many.
    noted : dict
        Rows scored with a note (``"not UTF-8 (replaced)"``, ``"no known word"``) -> how
        many.
    seconds : float
        Wall time of the job, reading and writing included.
    output : str
        The file written.
    engine : str
        ``"local"`` or ``"ray"``.
    workers : int
        Processes that scored (1 locally, the actors on Ray).
    """

    rows: int = 0
    not_scored: dict[str, int] = field(default_factory=dict)
    noted: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    output: str = ""
    engine: str = "local"
    workers: int = 1

    @property
    def scored(self) -> int:
        """Rows that got a prediction."""
        return self.rows - sum(self.not_scored.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def count(self, table: pa.Table, source: ScoringSource) -> None:
        """Add the rows and notes of one scored chunk of ``source``."""
        from pipeline.scoring.predictor import NOTE_EMPTY, NOTE_NO_KNOWN_WORD, NOTE_NO_WORDS

        reasons = {
            NOTE_EMPTY: "empty text",
            NOTE_NO_WORDS: "no words",
            NOTE_NOT_UTF8: "not UTF-8 (replaced)",
            NOTE_NO_KNOWN_WORD: "no known word",
        }
        self.rows += table.num_rows
        notes = table.column(len(source.columns) + _NOTE_OFFSET)
        for value, n in zip(*_value_counts(notes), strict=True):
            for note in value.split(NOTE_SEPARATOR) if value else ():
                tally = self.not_scored if note in (NOTE_EMPTY, NOTE_NO_WORDS) else self.noted
                reason = reasons.get(note, note)
                tally[reason] = tally.get(reason, 0) + n

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, plus ``scored`` and ``rows_per_second``."""
        return {
            "rows": self.rows,
            "scored": self.scored,
            "not_scored": dict(self.not_scored),
            "noted": dict(self.noted),
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "output": self.output,
            "engine": self.engine,
            "workers": self.workers,
        }

    def describe(self) -> str:
        """One line for a person: rows scored, rows not scored and why, notes, speed."""
        line = (
            f"scored {self.scored:,} of {self.rows:,} rows in {self.seconds:.1f} s "
            f"({self.rows_per_second:,.0f} rows/s, {self.engine}) -> {self.output}"
        )
        if self.not_scored:
            reasons = ", ".join(f"{n:,} {note}" for note, n in self.not_scored.items())
            line += f"; not scored: {reasons}"
        if self.noted:
            line += "; noted: " + ", ".join(f"{n:,} {note}" for note, n in self.noted.items())
        return line


ProgressCallback = Callable[[ScoringProgress], None]


def score_file(
    predictor: Predictor,
    source: Path | ScoringSource,
    output: Path,
    *,
    text_col: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_progress: ProgressCallback | None = None,
) -> ScoringSummary:
    """Score ``source`` (a path, or an :func:`open_source` result) into ``output``, in
    this process, ``chunk_rows`` rows at a time; returns the :class:`ScoringSummary`.

    ``on_progress`` is called after every written chunk. Raises :class:`DatasetError` /
    :class:`PredictionError` for bad input or output names; on any failure (Ctrl-C
    included) ``output`` is left as it was.
    """
    started = time.perf_counter()
    if not isinstance(source, ScoringSource):
        source = open_source(source, text_col)
    scorer = TableScorer(predictor, source.schema, source.text_col)
    summary = ScoringSummary(output=str(output), engine="local")
    scored = map(scorer, read_chunks(source, chunk_rows))
    write_scored(scored, output, source, summary, started, scorer.schema, on_progress)
    summary.seconds = time.perf_counter() - started
    return summary


def write_scored(
    tables: Iterable[pa.Table],
    output: Path,
    source: ScoringSource,
    summary: ScoringSummary,
    started: float,
    schema: pa.Schema | None = None,
    on_progress: ProgressCallback | None = None,
) -> bool:
    """Write scored ``tables`` of ``source``, in order, into ``output`` (see
    :func:`open_output`) and count them into ``summary``; returns whether it wrote.

    With ``schema`` the file is opened at once, so an input without rows still gets its
    header; without it, the first table's schema is used and nothing is written when no
    table comes. ``on_progress`` gets the rows so far and the seconds since ``started``
    (a ``time.perf_counter()`` value).
    """
    fmt = output_format(output)
    with ExitStack() as stack:
        write = None if schema is None else stack.enter_context(open_output(output, fmt, schema))
        for table in tables:
            if write is None:
                write = stack.enter_context(open_output(output, fmt, table.schema))
            write(table)
            summary.count(table, source)
            if on_progress is not None:
                on_progress(ScoringProgress(summary.rows, time.perf_counter() - started))
    return write is not None


def read_chunks(source: ScoringSource, rows: int) -> Iterator[pa.Table]:
    """The input's rows in tables of ``rows`` rows (the last one shorter), file by file
    in order, never holding more than about one chunk and one read block."""
    if rows < 1:
        raise PredictionError(f"The chunk size must be at least 1 row, not {rows}.")
    return _rechunk(_batches(source), rows, _read_schema(source))


@contextmanager
def open_output(path: Path, fmt: str, schema: pa.Schema) -> Iterator[Callable[[pa.Table], None]]:
    """A writer of ``schema`` tables into ``path`` as ``fmt`` (see :func:`output_format`).

    Yields ``write(table)``; the file grows under a temporary name beside ``path`` and
    replaces ``path`` only when the ``with`` block ends without an error. An empty job
    still writes the header (CSV) or the schema (Parquet).
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with _format_writer(temporary, fmt, schema) as write:
            yield write
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def _format_writer(path: Path, fmt: str, schema: pa.Schema) -> Iterator[Callable[[pa.Table], None]]:
    if fmt == "parquet":
        with pq.ParquetWriter(path, schema) as writer:
            yield writer.write_table
        return
    open_text: Callable[..., IO[str]] = gzip.open if fmt == "csv.gz" else open  # type: ignore[assignment]
    with open_text(path, "wt", encoding="utf-8", newline="") as handle:
        written = False

        def write(table: pa.Table) -> None:
            nonlocal written
            table.to_pandas().to_csv(handle, header=not written, index=False)
            written = True

        yield write
        if not written:  # no rows: the header alone
            write(schema.empty_table())


def _suffix(path: Path) -> str:
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
                and _suffix(f) in INPUT_SUFFIXES
                and not any(part.startswith((".", "_")) for part in f.relative_to(path).parts)
            ),
            key=str,
        )
        if not files:
            raise DatasetError(f"The folder {path} holds no {allowed} file to score.")
        return files
    if not path.is_file():
        raise DatasetError(f"No file or folder {path}; check the path.")
    if _suffix(path) not in INPUT_SUFFIXES:
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


def _read_schema(source: ScoringSource) -> pa.Schema:
    """The schema of the tables read from ``source`` (CSV: bytes, decoded when scored)."""
    if source.kind == "csv":
        return pa.schema([pa.field(name, pa.binary()) for name in source.columns])
    return source.schema


def _batches(source: ScoringSource) -> Iterator[pa.RecordBatch]:
    for path in source.files:
        try:
            if source.kind == "csv":
                with pa_csv.open_csv(path, **csv_read_options(source.columns)) as reader:
                    yield from reader
            else:
                yield from pq.ParquetFile(path).iter_batches(batch_size=DEFAULT_CHUNK_ROWS)
        except (pa.ArrowInvalid, EOFError, gzip.BadGzipFile) as exc:
            raise DatasetError(
                f"Cannot read {path.name} ({short_error(exc)}); fix the file."
            ) from exc


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


def _decoded(table: pa.Table, text_col: str) -> tuple[pa.Table, np.ndarray]:
    """``table`` with its bytes columns decoded as UTF-8 (bad bytes -> U+FFFD), and a mask
    of the rows whose ``text_col`` needed it."""
    replaced = np.zeros(table.num_rows, dtype=bool)
    for index, f in enumerate(table.schema):
        if not pa.types.is_binary(f.type):
            continue
        column = table.column(index)
        try:
            text = pc.cast(column, pa.string())  # validates UTF-8: the fast, usual case
        except pa.ArrowInvalid:
            values = column.to_pylist()
            bad = np.array([not _is_utf8(v) for v in values], dtype=bool)
            text = pa.array([v.decode("utf-8", "replace") for v in values], pa.string())
            if f.name == text_col:
                replaced = bad
        table = table.set_column(index, pa.field(f.name, pa.string()), text)
    return table, replaced


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _add_note(note: str, extra: str) -> str:
    return f"{note}{NOTE_SEPARATOR}{extra}" if note else extra


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counts = pc.value_counts(column)
    return (
        [v or "" for v in counts.field("values").to_pylist()],
        counts.field("counts").to_pylist(),
    )


def short_error(exc: BaseException, limit: int = 300) -> str:
    """``exc``'s message on one line, cut to ``limit`` characters (for one-line errors)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "NOTE_NOT_UTF8",
    "OUTPUT_SUFFIXES",
    "ScoringProgress",
    "ScoringSource",
    "ScoringSummary",
    "TableScorer",
    "csv_read_options",
    "only_text_column",
    "open_output",
    "open_source",
    "output_format",
    "read_chunks",
    "score_file",
    "short_error",
    "write_scored",
]
