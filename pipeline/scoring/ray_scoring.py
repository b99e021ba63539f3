"""Batch scoring on Ray Data: the job of :mod:`pipeline.scoring.files`, spread over Ray workers.

``python -m pipeline predict --engine ray --file IN --output OUT [--address ...]`` reads
the input with ``ray.data.read_csv`` / ``read_parquet`` (the same files, in the same
order and with the same ``pyarrow`` options as the local engine: the delimiter, encoding
and layout detected from the files' first bytes), scores it with
``map_batches`` and a callable class that loads the run's model once per actor, and
writes the same single file as ``--engine local``: same columns, same values, same row
order (``preserve_order``). The scored batches stream back to this process in order and
go through the local engine's writer, so the output's format, its temporary name and the
counts of bad rows are declared once, in :mod:`pipeline.scoring.output` and
:mod:`pipeline.scoring.summary`.

The model travels through Ray's object store (the ``.keras`` file's bytes, ``ray.put``
once), and each actor loads it from a temporary file with ``safe_mode=True``: the runs
folder need not be on shared storage, so any cluster works. What a worker needs is the
``pipeline`` package, which :func:`pipeline.core.cluster.ray_session` ships to it.

Without ``--address`` a local Ray starts in this process, sized to this machine; with it
the job joins that cluster. One actor per CPU of the cluster scores batches of
:data:`~pipeline.scoring.chunks.DEFAULT_CHUNK_ROWS` rows, never more actors than the input
has batches (:func:`scoring_actors`). On one 2-core machine the local engine
is faster (every actor pays TensorFlow's start-up and the rows cross processes): Ray
earns its place on a cluster. Ray Data's own progress bars show on stderr; Ctrl-C stops
the job, shuts Ray down and leaves no file under the output's name.
"""

from __future__ import annotations

import math
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from pipeline.core.cluster import ray_session
from pipeline.core.errors import DatasetError, HeadlineLabError
from pipeline.scoring.chunks import DEFAULT_CHUNK_ROWS, csv_read_options
from pipeline.scoring.files import TableScorer
from pipeline.scoring.output import open_output, output_format, write_scored
from pipeline.scoring.source import (
    ScoringSource,
    not_decodable,
    open_source,
    rows_up_to,
    short_error,
)
from pipeline.scoring.summary import ProgressCallback, ScoringSummary

if TYPE_CHECKING:
    from types import ModuleType

    from pipeline.runs.registry import RunRegistry


def score_on_ray(
    registry: RunRegistry,
    run_id: str,
    source: Path | ScoringSource,
    output: Path,
    *,
    text_col: str | None = None,
    address: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    num_cpus: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> ScoringSummary:
    """Score ``source`` into ``output`` with ``run_id``'s model on Ray Data.

    ``address`` joins a cluster (``auto``, ``host:port``, ``ray://host:10001``); ``None``
    starts a local Ray with ``num_cpus`` (default: this machine's cores). The input and
    the output name are checked before Ray starts. Returns the
    :class:`~pipeline.scoring.summary.ScoringSummary` (``workers``: the actors). Raises
    :class:`~pipeline.core.cluster.ClusterError` when Ray is missing or unreachable, and
    :class:`DatasetError` when a file cannot be read.
    """
    started = time.perf_counter()
    if not isinstance(source, ScoringSource):
        source = open_source(source, text_col)
    fmt = output_format(output)
    saved = registry.get(run_id)
    model_bytes = saved.model_path.read_bytes()
    labels = saved.labels
    with ray_session(address, num_cpus=num_cpus) as ray:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        cluster_cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        workers = scoring_actors(source, chunk_rows, cluster_cpus)
        actor_args = {
            "model": [ray.put(model_bytes)],  # in a list: Ray hands the actor the reference
            "run_id": run_id,
            "classes": list(labels.classes),
            "names": dict(labels.names),
            "schema": source.schema,
            "text_col": source.text_col,
        }
        scored = _read(ray, source, workers).map_batches(
            ScoringActor,
            fn_constructor_kwargs=actor_args,
            batch_size=chunk_rows,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        summary = ScoringSummary(output=str(output), engine="ray", workers=workers)
        # Closed on the way out (Ctrl-C included), before Ray shuts down: closing the
        # iterator stops Ray Data's executor, whose threads would otherwise still use the
        # Ray worker after ray.shutdown() and make it end the process (status 1).
        try:
            with closing(_scored_tables(scored, source)) as tables:
                written = write_scored(tables, output, source, summary, started, None, on_progress)
        finally:
            wait_for_data_threads(DATA_THREADS_EXIT_TIMEOUT_S)
        if not written:  # no rows: the empty file the local engine writes
            _write_empty(registry, run_id, source, output, fmt)
    summary.seconds = time.perf_counter() - started
    return summary


def scoring_actors(source: ScoringSource, chunk_rows: int, cluster_cpus: int) -> int:
    """How many actors score ``source``: one per CPU of the cluster (``cluster_cpus``), but
    no more than the input has chunks of ``chunk_rows`` rows, and at least one.

    Each actor is a process that imports TensorFlow and loads the model (about 700 MB): a
    300-row file on a 64-CPU cluster needs one, not 64. The rows are
    :func:`~pipeline.scoring.source.rows_up_to`'s bound, read no further than the
    ``cluster_cpus`` chunks that would keep every CPU busy.
    """
    rows = rows_up_to(source, cluster_cpus * chunk_rows)
    return max(1, min(cluster_cpus, math.ceil(rows / chunk_rows)))


#: Seconds to wait, before Ray shuts down, for Ray Data's threads to end.
DATA_THREADS_EXIT_TIMEOUT_S = 60.0
#: The name Ray Data gives the threads that turn an iterator's blocks into batches.
RAY_DATA_ITERATOR_THREAD = "iter_threaded"


def wait_for_data_threads(timeout_s: float) -> None:
    """Wait up to ``timeout_s`` seconds in all for Ray Data's threads of a closed
    dataset iterator to end: its executor's scheduling loop (a ``StreamingExecutor``
    thread) and the workers that fetch its blocks as batches.

    Closing the iterator tells both to stop, but waits only 2 s for the executor and not
    at all for the workers, whose block fetch under way finishes first. A thread that
    uses the Ray worker after ``ray.shutdown()`` ends the process with status 1 (found:
    Ctrl-C during ``predict --engine ray`` in CI, on a busy machine). Both kinds end
    within bounded time once told to stop.
    """
    from ray.data._internal.execution.streaming_executor import StreamingExecutor

    deadline = time.monotonic() + timeout_s
    for thread in threading.enumerate():
        if thread.is_alive() and (
            isinstance(thread, StreamingExecutor) or thread.name == RAY_DATA_ITERATOR_THREAD
        ):
            thread.join(max(0.0, deadline - time.monotonic()))


class ScoringActor:
    """A Ray Data actor: the run's model loaded once, then one scored table per batch.

    ``model`` is ``[ObjectRef]`` of the ``.keras`` file's bytes (in a list, so Ray passes
    the reference rather than the bytes inside every actor's arguments).
    """

    def __init__(
        self,
        model: list[Any],
        run_id: str,
        classes: list[str],
        names: dict[str, str],
        schema: pa.Schema,
        text_col: str,
    ) -> None:
        import ray

        from pipeline.runs.model_file import load_model_file
        from pipeline.scoring.predictor import Predictor

        with tempfile.TemporaryDirectory(prefix="headline-lab-") as folder:
            path = Path(folder) / "model.keras"
            path.write_bytes(ray.get(model[0]))
            keras_model = load_model_file(path)  # safe_mode=True
        self._score = TableScorer(Predictor(keras_model, run_id, classes, names), schema, text_col)

    def __call__(self, batch: pa.Table) -> pa.Table:
        return self._score(batch)


def _read(ray: ModuleType, source: ScoringSource, workers: int) -> Any:
    """The input as a Ray Dataset: the source's own file list (so the order and the files
    are the local engine's), no Hive partition columns, CSV read as the local engine does."""
    files = [str(path) for path in source.files]
    # Reading takes no CPU slot: the actors hold them all, and a read task waiting for a
    # slot would never start (measured: the job hangs).
    common = {
        "partitioning": None,
        "file_extensions": None,
        "concurrency": min(workers, len(files)),
        "num_cpus": 0,
    }
    if source.csv_format is not None:
        options = csv_read_options(source.columns, source.csv_format)
        return ray.data.read_csv(files, **common, **options)
    return ray.data.read_parquet(files, **common)


def _scored_tables(dataset: Any, source: ScoringSource) -> Iterator[pa.Table]:
    """The scored batches as they arrive, in input order; a file Ray could not read
    becomes a :class:`DatasetError` (Ray wraps it in its own task errors)."""
    try:
        yield from dataset.iter_batches(batch_size=None, batch_format="pyarrow")
    except HeadlineLabError:
        raise
    except Exception as exc:
        cause = _user_cause(exc)
        if cause is None:
            raise
        if isinstance(cause, HeadlineLabError):
            raise type(cause)(str(cause)) from exc
        raise DatasetError(_read_problem(cause, source)) from exc


def _read_problem(cause: BaseException, source: ScoringSource) -> str:
    """The one-line message for a file Ray could not read. Arrow's own words are lost
    when Ray carries the error across processes; the file's name is kept."""
    if isinstance(cause, UnicodeDecodeError):  # which file is lost: the input's name
        encoding = source.csv_format.encoding if source.csv_format else "utf-8"
        return str(not_decodable(source.path.name, encoding, cause))
    if isinstance(cause, pa.ArrowInvalid):
        return f"Cannot read {source.path.name} ({short_error(cause)}); fix the file."
    found = re.search(r"Failed to read CSV file: (.+?)\. Please", str(cause))
    name = Path(found.group(1)).name if found else source.path.name
    return (
        f"Cannot read {name} as CSV: a line has the wrong number of fields or broken "
        "quoting. Fix the file (--engine local names the line)."
    )


def _user_cause(exc: BaseException) -> BaseException | None:
    """The error behind Ray's task errors that a user can fix: ours, a file Arrow could
    not parse, or a byte its encoding lacks; ``None`` for anything else (a bug, or a lost
    worker)."""
    from ray.exceptions import RayError

    fallback = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RayError):  # Ray's wrappers also subclass what they wrap
            current = getattr(current, "cause", None) or current.__cause__
            continue
        if isinstance(current, HeadlineLabError | pa.ArrowInvalid | UnicodeDecodeError):
            return current
        if fallback is None and "Failed to read CSV file" in str(current):
            fallback = current
        current = current.__cause__ or current.__context__
    return fallback


def _write_empty(
    registry: RunRegistry, run_id: str, source: ScoringSource, output: Path, fmt: str
) -> None:
    """An input without rows: its header (or schema) and the added columns, no rows."""
    from pipeline.scoring.predictor import Predictor

    scorer = TableScorer(Predictor.from_run(registry, run_id), source.schema, source.text_col)
    with open_output(output, fmt, scorer.schema):
        pass
