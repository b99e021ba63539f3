"""The bundled dataset: the UCI News Aggregator file shipped in ``data/``, and loading it
and its statistics through the disk snapshot (:mod:`pipeline.data.snapshot`).

:data:`DEFAULT_DATA_PATH` is where the file lives; :func:`load_default_dataset` loads it
(``TITLE`` text, ``CATEGORY`` label ``b``/``t``/``e``/``m``) and
:func:`default_dataset_stats` gives its :func:`~pipeline.data.stats.inspect_dataset`
summary, each from the snapshot when it is current.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.errors import DatasetError
from pipeline.data.dataset import Dataset
from pipeline.data.snapshot import load_with_snapshot, stats_with_snapshot
from pipeline.data.summary import DataSummary

DEFAULT_DATA_PATH: Path = (
    Path(__file__).resolve().parents[2] / "data" / "uci-news-aggregator.csv.gz"
)


def load_default_dataset() -> Dataset:
    """Load the bundled UCI News Aggregator dataset (``DEFAULT_DATA_PATH``).

    Read through its disk snapshot (:mod:`pipeline.data.snapshot`): the same dataset, a
    third of the time, once a process has loaded it before.

    Returns
    -------
    Dataset
        422,937 rows with ``text``, ``label`` (b/t/e/m), ``story`` and ``publisher``.

    Raises
    ------
    DatasetError
        When the bundled file is missing.
    """
    if not DEFAULT_DATA_PATH.is_file():
        raise DatasetError(
            f"The bundled dataset is missing ({DEFAULT_DATA_PATH}); restore it with "
            "`git checkout -- data/` or upload a CSV instead."
        )
    return load_with_snapshot(DEFAULT_DATA_PATH)


def default_dataset_stats(top_n: int = 10, dataset: Dataset | None = None) -> DataSummary:
    """``inspect_dataset(load_default_dataset(), top_n)``, from the snapshot when current
    (milliseconds instead of loading and inspecting 422,937 rows); ``dataset`` is the
    bundled dataset when the caller has it loaded already."""
    return stats_with_snapshot(DEFAULT_DATA_PATH, top_n, dataset=dataset)
