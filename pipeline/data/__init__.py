"""Loading, mapping, validating and inspecting a dataset of short texts with labels.

One module per job, each usable on its own; everything public is re-exported here, so
``from pipeline.data import ...`` is all callers need. No TensorFlow here.

- :mod:`pipeline.data.reading`: a path or uploaded bytes -> :class:`RawTable` (size limits,
  gzip and ZIP, parsing).
- :mod:`pipeline.data.csv_format`: a file's first bytes -> its :class:`CsvFormat` (known
  binary formats refused, the encoding, the newsCorpora layout, the delimiter): the one
  rule :func:`read_table` and the batch scorer read CSV files by.
- :mod:`pipeline.data.columns`: guessing, resolving and validating the text and label
  columns; the normalised frame.
- :mod:`pipeline.data.dataset`: :class:`Dataset`, :func:`load_dataset` and
  :func:`fingerprint`.
- :mod:`pipeline.data.snapshot`: a disk snapshot of a dataset and its statistics (how the
  bundled file loads in a third of a second).
- :mod:`pipeline.data.bundled`: the bundled UCI file (:data:`DEFAULT_DATA_PATH`),
  :func:`load_default_dataset` and :func:`default_dataset_stats`, through its snapshot.
- :mod:`pipeline.data.stats`: :func:`inspect_dataset` and :func:`word_counts`.
- :mod:`pipeline.data.summary`: :class:`DataSummary`, the statistics :func:`inspect_dataset`
  gives, typed, with their JSON round trip.

Every problem a user can cause raises :class:`~pipeline.core.errors.DatasetError` with a message
that names the problem and the fix.
"""

from pipeline.data.bundled import DEFAULT_DATA_PATH, default_dataset_stats, load_default_dataset
from pipeline.data.columns import (
    BLANK_LABEL_WORDS,
    LABEL_COLUMN_NAMES,
    TEXT_COLUMN_NAMES,
    guess_columns,
    is_blank_label,
    label_values,
    require_two_columns,
)
from pipeline.data.csv_format import (
    NEWS_CORPORA_COLUMNS,
    CsvFormat,
    detect_csv_format,
)
from pipeline.data.dataset import (
    BLANK_CHARACTERS,
    UCI_LABEL_NAMES,
    Dataset,
    fingerprint,
    load_dataset,
)
from pipeline.data.reading import MAX_UPLOAD_BYTES, RawTable, read_table
from pipeline.data.stats import inspect_dataset, word_counts
from pipeline.data.summary import DataSummary

__all__ = [
    "BLANK_CHARACTERS",
    "BLANK_LABEL_WORDS",
    "DEFAULT_DATA_PATH",
    "LABEL_COLUMN_NAMES",
    "MAX_UPLOAD_BYTES",
    "NEWS_CORPORA_COLUMNS",
    "TEXT_COLUMN_NAMES",
    "UCI_LABEL_NAMES",
    "CsvFormat",
    "DataSummary",
    "Dataset",
    "RawTable",
    "default_dataset_stats",
    "detect_csv_format",
    "fingerprint",
    "guess_columns",
    "inspect_dataset",
    "is_blank_label",
    "label_values",
    "load_dataset",
    "load_default_dataset",
    "read_table",
    "require_two_columns",
    "word_counts",
]
