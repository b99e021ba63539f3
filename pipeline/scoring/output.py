"""Writing a scoring job's output: Parquet or CSV by the output's extension
(:data:`OUTPUT_SUFFIXES`), chunk by chunk, to a temporary name beside it that is renamed
at the end (:func:`pipeline.core.atomic.atomic_path`): a job that fails or is interrupted
leaves no half file under the output's name. Both engines write through :func:`write_scored`.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.atomic import atomic_path
from pipeline.core.errors import PredictionError
from pipeline.scoring.source import ScoringSource, file_suffix
from pipeline.scoring.summary import ProgressCallback, ScoringProgress, ScoringSummary

#: Output formats by suffix.
OUTPUT_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".csv.gz": "csv.gz"}


def output_format(path: Path) -> str:
    """``"parquet"``, ``"csv"`` or ``"csv.gz"`` from ``path``'s extension, or a
    :class:`PredictionError` naming the allowed ones."""
    kind = OUTPUT_SUFFIXES.get(file_suffix(path))
    if kind is None:
        raise PredictionError(
            f"Cannot write {path.name}: the output must end in "
            f"{', '.join(OUTPUT_SUFFIXES)} (Parquet or CSV)."
        )
    return kind


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


@contextmanager
def open_output(path: Path, fmt: str, schema: pa.Schema) -> Iterator[Callable[[pa.Table], None]]:
    """A writer of ``schema`` tables into ``path`` as ``fmt`` (see :func:`output_format`).

    Yields ``write(table)``; the file grows under a temporary name beside ``path``
    (``.<name>.<random>.partial``), is flushed to disk and replaces ``path`` only when the
    ``with`` block ends without an error. An empty job still writes the header (CSV) or
    the schema (Parquet).
    """
    with atomic_path(path) as temporary, _format_writer(temporary, fmt, schema) as write:
        yield write


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


__all__ = ["OUTPUT_SUFFIXES", "open_output", "output_format", "write_scored"]
