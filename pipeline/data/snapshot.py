"""A disk snapshot of a loaded dataset and its statistics, for files read again and again.

The bundled UCI file (30 MB of gzip, 422,937 rows) takes about a second to gunzip, decode
and parse and another second to inspect, in every new process: the CLI's every command,
the app's first page on a cold server. Its snapshot (Parquet for the frames, JSON for the
rest) loads in about a third of a second and its statistics in milliseconds.

Layout, in a cache folder next to the file (``data/.cache/<file name>/``)::

    meta.json              the source's identity and every Dataset field but the frames
    frame.parquet          Dataset.frame
    other_columns.parquet  Dataset.other_columns
    stats-<top_n>.json     inspect_dataset(dataset, top_n) (DataSummary.to_json), with
                           the same identity

The identity is the file's name, size and modification time, the snapshot's schema
version and the pandas version: any change rebuilds the snapshot. Every file is written
atomically (:mod:`pipeline.core.atomic`), ``meta.json`` last, so a reader never sees half a
snapshot; a snapshot that cannot be read is rebuilt, and a cache folder that cannot be
written is skipped (the data is then read from the file each time, as before).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.atomic import atomic_path, write_json_atomically
from pipeline.data.dataset import Dataset, load_dataset
from pipeline.data.stats import inspect_dataset
from pipeline.data.summary import DataSummary

#: Bumped whenever the snapshot's files or the Dataset's fields change meaning.
SNAPSHOT_SCHEMA = 1
META_FILE = "meta.json"
_FRAMES = ("frame", "other_columns")


def cache_dir_for(path: Path) -> Path:
    """The snapshot folder of data file ``path``: ``<its folder>/.cache/<its name>``."""
    return path.parent / ".cache" / path.name


def load_with_snapshot(path: Path, cache_dir: Path | None = None) -> Dataset:
    """``load_dataset(path)`` (columns guessed), from its snapshot when it is current.

    Parameters
    ----------
    path : Path
        A data file whose columns :func:`~pipeline.data.guess_columns` maps (the bundled
        UCI file).
    cache_dir : Path, optional
        The snapshot folder (default :func:`cache_dir_for`).

    Returns
    -------
    Dataset
        Equal to ``load_dataset(path)``: the same frames, dtypes, index, names and notes.
    """
    folder = cache_dir or cache_dir_for(path)
    identity = _identity(path)
    dataset = _read_snapshot(folder, identity)
    if dataset is None:
        dataset = load_dataset(path)
        _write_snapshot(folder, identity, dataset)
    return dataset


def stats_with_snapshot(
    path: Path, top_n: int, cache_dir: Path | None = None, dataset: Dataset | None = None
) -> DataSummary:
    """``inspect_dataset`` of ``path``'s dataset, from the snapshot when it is current.

    ``dataset`` (``path`` loaded) saves loading it again when the statistics must be
    computed; without it the dataset is loaded only then. Returns the summary exactly as
    :func:`~pipeline.data.inspect_dataset` gives it; a stored one that does not read back
    (:meth:`~pipeline.data.summary.DataSummary.from_json`) is computed again.
    """
    folder = cache_dir or cache_dir_for(path)
    identity = _identity(path)
    stats_file = folder / f"stats-{int(top_n)}.json"
    try:
        stored = json.loads(stats_file.read_text(encoding="utf-8"))
        if stored.get("identity") == identity:
            return DataSummary.from_json(stored["report"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    report = inspect_dataset(dataset or load_with_snapshot(path, folder), top_n=top_n)
    _write_json(stats_file, {"identity": identity, "report": report.to_json()})
    return report


def _identity(path: Path) -> dict[str, Any]:
    status = path.stat()
    return {
        "schema": SNAPSHOT_SCHEMA,
        "file": path.name,
        "size": status.st_size,
        "mtime_ns": status.st_mtime_ns,
        "pandas": pd.__version__,
    }


def _read_snapshot(folder: Path, identity: dict[str, Any]) -> Dataset | None:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta.get("identity") != identity:
            return None
        frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in _FRAMES}
        frame, others = frames["frame"], frames["other_columns"]
        for column, source in meta["shared_columns"].items():
            frame[column] = others[source]  # one buffer for both, as load_dataset leaves them
        frames["frame"] = frame[meta["frame_columns"]]
        return Dataset(**meta["fields"], **frames)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, half-written by an older version, or damaged: rebuilt


def _write_snapshot(folder: Path, identity: dict[str, Any], dataset: Dataset) -> None:
    fields = {
        "raw_columns": dataset.raw_columns,
        "text_col": dataset.text_col,
        "label_col": dataset.label_col,
        "label_names": dataset.label_names,
        "name": dataset.name,
        "encoding": dataset.encoding,
        "notes": dataset.notes,
        "missing": dataset.missing,
        "rows_read": dataset.rows_read,
    }
    frame, others = dataset.frame, dataset.other_columns
    # A normalised column equal to a file column (publisher and PUBLISHER, when stripping
    # changed nothing) is stored once and shared again on reading, as in load_dataset.
    shared: dict[str, str] = {}
    for column in frame.columns.drop(["text", "label"], errors="ignore"):
        source = next((s for s in others.columns if frame[column].equals(others[s])), None)
        if source is not None:
            shared[str(column)] = str(source)
    frames = {"frame": frame.drop(columns=list(shared)), "other_columns": others}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / META_FILE).unlink(missing_ok=True)
        for name, table in frames.items():
            with atomic_path(folder / f"{name}.parquet") as temporary:
                table.to_parquet(temporary)
    except (OSError, ValueError, ImportError):
        return  # a read-only folder, a full disk: the data is read from its file instead
    meta = {
        "identity": identity,
        "fields": fields,
        "frame_columns": [str(c) for c in frame.columns],
        "shared_columns": shared,
    }
    _write_json(folder / META_FILE, meta)


def _write_json(target: Path, content: dict[str, Any]) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(target, content, indent=None, final_newline=False)
    except OSError:
        pass
