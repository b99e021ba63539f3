"""Batch scoring of a file or folder of any size with a saved run, in bounded memory: the
scoring loop (:func:`score_file`) and the scorer of one chunk (:class:`TableScorer`).

The job's other parts each have a module: :mod:`pipeline.scoring.source` (the input's
files, columns and text column), :mod:`pipeline.scoring.chunks` (reading it in chunks),
:mod:`pipeline.scoring.output` (writing the output) and :mod:`pipeline.scoring.summary`
(the notes and counts).

What a user meets (``python -m pipeline predict --run RUN --file IN --output OUT``):

* **Engines.** ``--engine local`` (the default) streams the input through this process in
  chunks of :data:`~pipeline.scoring.chunks.DEFAULT_CHUNK_ROWS` rows, so memory stays
  flat however large the file; on one machine it is the fastest way. ``--engine ray``
  runs the same job on Ray Data (:mod:`pipeline.scoring.ray_scoring`), locally or on a
  cluster (``--address``), and writes the very same file.
* **Inputs.** A ``.csv``, a ``.csv.gz``, a ``.parquet`` file, or a folder of them (all of
  one kind, read in path order; names starting with ``.`` or ``_`` are skipped). A CSV file
  is read as the app reads it (:mod:`pipeline.data.csv_format`, told from its first 64 KiB):
  ``,``, ``;``, tab or ``|`` separated with a header row, or the original header-less
  ``newsCorpora.csv``; UTF-8, UTF-16, cp1252 or latin-1. Every file of a folder has the
  same format and header; a quoted value may span lines.
* **Columns.** Every original column, in order, followed by the columns the app's batch
  scoring adds (:meth:`pipeline.scoring.predictor.Predictor.score_table`): ``predicted``,
  ``predicted_code``, ``confidence``, ``note`` and one ``probability: <class>`` column per
  class. CSV columns are kept as the text they hold (an empty cell stays an empty string,
  ``007`` stays ``007``); Parquet columns keep their types (a bytes column is decoded
  as UTF-8 text). The text column is ``--text-col``, or guessed by
  :func:`~pipeline.scoring.source.only_text_column`.
* **Output.** Parquet or CSV by the output's extension
  (:data:`~pipeline.scoring.output.OUTPUT_SUFFIXES`), written chunk by chunk to a
  temporary name beside it and renamed at the end: a job that fails or is interrupted
  leaves no half file under the output's name.
* **Bad rows never stop the job.** A row with an empty text, or a text with no words, is
  kept unscored with a note saying why; a text whose bytes are not valid UTF-8 is decoded
  with U+FFFD (``\ufffd``) in place of the bad bytes, scored, and noted
  (:data:`~pipeline.scoring.summary.NOTE_NOT_UTF8`).
  :class:`~pipeline.scoring.summary.ScoringSummary` counts each case. Streaming cannot
  see all of a file before it reads it the way the app's whole-file reader does, so the
  encoding comes from the first 64 KiB: in a file read as UTF-8, bytes further on that
  are not UTF-8 are replaced and noted, as above (in other columns replaced too, without
  a note); in a file read as cp1252, a byte cp1252 lacks stops the job with the fix. A
  line with the wrong number of fields is a broken file, not a bad row: the job stops
  with an error naming the file.
* **What the CLI prints.** Rows done and rows/s on stderr while it runs (local engine;
  Ray draws its own progress bars), then one summary line on stdout (rows scored, rows
  not scored and why, notes, seconds), or the
  :class:`~pipeline.scoring.summary.ScoringSummary` as JSON with ``--json`` (on Ray, the
  last line of stdout: Ray may print its own lines before it).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.scoring.chunks import DEFAULT_CHUNK_ROWS, read_chunks
from pipeline.scoring.output import write_scored
from pipeline.scoring.source import ScoringSource, open_source
from pipeline.scoring.summary import (
    NOTE_NOT_UTF8,
    NOTE_SEPARATOR,
    ProgressCallback,
    ScoringSummary,
)

if TYPE_CHECKING:
    from pipeline.scoring.predictor import Predictor


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


__all__ = ["TableScorer", "output_schema", "score_file"]
