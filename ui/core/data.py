"""Cached access to the active dataset, its statistics and its prepared splits.

The caches key on :attr:`DatasetSource.cache_key` (content digest + column
mapping) and on the DataConfig's fields, never on the file bytes or the
DataFrame themselves. The dataset and its prepared splits are
``st.cache_resource`` objects, one per server shared by every rerun and session
(``st.cache_data`` unpickled a fresh copy at every call: about 0.1 s for the
bundled dataset, 0.17 s for its splits, several times a page run). Callers treat
them as read-only: pandas' copy-on-write keeps a derived frame's changes off them.
Small results (statistics, a raw upload's table) stay ``st.cache_data`` copies.
Nothing here imports TensorFlow.

What they hold is bounded by their ``max_entries``, whatever the number of sessions:
at most 4 raw tables and 4 loaded datasets (an upload's are each a few times its file's
size in memory), 8 statistics and 8 prepared splits. An upload itself is read from its
file on disk (:mod:`pipeline.sessions.uploads`), never from bytes kept in session state.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from pipeline.core.config import DataConfig
from ui.core.state import DatasetSource, get_dataset_source

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.data import Dataset, DataSummary, RawTable
    from pipeline.data.prepare import PreparedData

# pipeline.data (and pandas with it, a third of a second) is imported by the functions
# that read data, not here: the Train page's first run on a cold server needs none.


def _config_key(config: DataConfig) -> str:
    return json.dumps(dataclasses.asdict(config), sort_keys=True)


#: Every uploader's type filter (the sidebar's, "Score a CSV", the run archive import):
#: none. Streamlit's refusal of a type shows only on hover and leaves the previous file's
#: message in place; every file reaches the code that reads it instead
#: (``pipeline.data.read_table`` reads a CSV, a .gz or a .zip of one CSV, and names anything
#: else, an image, a PDF, a workbook, with what to do; the archive import names a file that
#: is no run archive).
UPLOAD_TYPES = None


@st.cache_data(show_spinner="Reading the file…", max_entries=4)
def _read_table(digest: str, name: str, _source: DatasetSource) -> RawTable:
    from pipeline.data import read_table

    return read_table(_source.raw_source(), name=name, uploaded=_source.is_upload)


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=4)
def _load(cache_key: str, _source: DatasetSource) -> Dataset:
    from pipeline.data import load_dataset, load_default_dataset

    if _source.is_default:
        return load_default_dataset()  # from its disk snapshot (pipeline.data.snapshot)
    if _source.kind == "upload":
        # The sidebar has read the file already to guess its columns: reuse that table.
        source: str | Path | bytes | RawTable = read_raw(_source)
        name: str | None = _source.name
    else:
        # The bundled file keeps its file name as the dataset name, as in the CLI's runs.
        source = _source.raw_source()
        name = None if _source.kind == "bundled" else _source.name
    return load_dataset(source, text_col=_source.text_col, label_col=_source.label_col, name=name)


@st.cache_data(show_spinner="Computing statistics…", max_entries=8)
def _inspect(cache_key: str, top_n: int, _source: DatasetSource) -> DataSummary:
    from pipeline.data import default_dataset_stats, inspect_dataset

    if _source.is_default:
        return default_dataset_stats(top_n)  # from the snapshot: the dataset is not loaded
    return inspect_dataset(load_source(_source), top_n=top_n)


@st.cache_resource(show_spinner="Cleaning, balancing and splitting…", max_entries=8)
def _prepare(
    cache_key: str, config_key: str, _dataset: Dataset, _config: DataConfig
) -> PreparedData:
    # Imported here: pipeline.data.prepare loads scikit-learn (over a second), which the
    # first page (Data) does not need.
    from pipeline.data.prepare import prepare

    return prepare(_dataset, _config)


def read_raw(source: DatasetSource) -> RawTable:
    """The file's table with its original columns (for the column picker)."""
    return _read_table(source.digest, source.name, source)


def read_original(source: DatasetSource) -> pd.DataFrame:
    """The file's rows with their original columns, read again (not cached: for a
    download). An upload that is gone raises a ``DatasetError`` that says so."""
    from pipeline.data import read_table

    return read_table(source.raw_source(), name=source.name, uploaded=source.is_upload).frame


def guess_source_columns(source: DatasetSource) -> tuple[list[str], str | None, str | None]:
    """The file's columns and ``pipeline.data.guess_columns``' text and label guesses;
    :class:`~pipeline.core.errors.DatasetError` for a file of one column (nothing to pick)."""
    from pipeline.data import guess_columns, require_two_columns

    raw = read_raw(source)
    require_two_columns(raw)
    text_col, label_col = guess_columns(raw)
    return [str(c) for c in raw.frame.columns], text_col, label_col


def load_source(source: DatasetSource) -> Dataset:
    """Load (or fetch from the cache) the dataset ``source`` describes."""
    return _load(source.cache_key, source)


def active_dataset() -> Dataset:
    """The dataset chosen in the sidebar (the bundled UCI file by default)."""
    return load_source(get_dataset_source())


def dataset_stats(top_n: int = 10) -> DataSummary:
    """``pipeline.data.inspect_dataset`` of the active dataset, cached."""
    source = get_dataset_source()
    return _inspect(source.cache_key, top_n, source)


def prepared_data(config: DataConfig) -> PreparedData:
    """``pipeline.data.prepare.prepare`` of the active dataset under ``config``, cached."""
    source = get_dataset_source()
    return _prepare(source.cache_key, _config_key(config), load_source(source), config)
