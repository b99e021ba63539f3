"""The disk cache of label reviews, and the CSV a review is saved as.

A review is cached per (data fingerprint, review settings) under
``<runs_dir>/.reviews/<key>/`` as ``review.csv`` and ``summary.json`` (a
:class:`~pipeline.review.summary.ReviewSummary`), written into a staging folder flushed and
swapped into place (:mod:`pipeline.core.atomic`); :func:`cached_review` reads it back,
parsed and checked, and checks it against the dataset.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.atomic import fsync_folder, swap_into_place, write_json_atomically
from pipeline.core.config import config_hash
from pipeline.core.errors import RunRecordError
from pipeline.review.result import COUNT_COLUMNS, PROBABILITY_PREFIX, REVIEW_COLUMNS, LabelReview
from pipeline.review.summary import ReviewSummary

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.data import Dataset
    from pipeline.review.settings import ReviewSettings

#: Bump when the review changes, so cached reviews of the old one are not reused
#: (2: folds grouped by duplicate text and story, :mod:`pipeline.review.folds`;
#: 3: quality and flags weigh the group mates' labels, :mod:`pipeline.review.agreement`).
REVIEW_VERSION = 3
REVIEWS_FOLDER = ".reviews"
REVIEW_CSV, SUMMARY_JSON = "review.csv", "summary.json"


def review_key(data_fingerprint: str, settings: ReviewSettings) -> str:
    """The cache key of a review: the data's fingerprint
    (:func:`pipeline.data.fingerprint`), the settings and the review's version."""
    return config_hash(
        {"data": data_fingerprint, "review": settings.to_dict(), "version": REVIEW_VERSION}
    )


def reviews_dir(runs_dir: str | Path | None = None) -> Path:
    """``<runs_dir>/.reviews`` (``runs_dir`` defaults as the run registry's does)."""
    from pipeline.runs.registry import default_runs_dir

    return Path(runs_dir if runs_dir is not None else default_runs_dir()) / REVIEWS_FOLDER


def cached_review(
    dataset: Dataset, settings: ReviewSettings, runs_dir: str | Path | None = None
) -> LabelReview | None:
    """The saved review of ``dataset`` with ``settings`` (``from_cache`` true), checked
    row by row against the dataset; ``None`` when there is none or it does not read back."""
    from pipeline.data import fingerprint

    key = review_key(fingerprint(dataset), settings)
    folder = reviews_dir(runs_dir) / key
    try:
        summary = ReviewSummary.parse(
            json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))
        )
        if summary.version != REVIEW_VERSION or summary.key != key:
            return None
        frame = _read_review_csv(folder / REVIEW_CSV, summary)
    except (OSError, ValueError, KeyError, TypeError, RunRecordError):
        return None  # missing, of another version, or damaged: reviewed again
    if not _matches(frame, summary, dataset):
        return None
    frame.insert(0, "text", dataset.frame["text"])
    return LabelReview(frame, dataclasses.replace(summary, from_cache=True))


def save_review(review: LabelReview, runs_dir: str | Path | None = None) -> Path:
    """Write ``review`` under its key in ``reviews_dir(runs_dir)``; returns its folder.

    The files go into a staging folder that is flushed and swapped into place, so a
    reader never finds a half-written review. The texts are not saved (the dataset holds
    them); nothing is pickled.
    """
    root = reviews_dir(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    key = review.summary.key
    staging = root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        review.frame.drop(columns="text").to_csv(staging / REVIEW_CSV, index=True)
        summary = dataclasses.replace(review.summary, from_cache=False).to_json()
        write_json_atomically(
            staging / SUMMARY_JSON, summary, indent=1, ensure_ascii=True, final_newline=False
        )
        fsync_folder(staging)
        swap_into_place(staging, root / key)  # an older review under the key ends in staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root / key


def _read_review_csv(path: Path, summary: ReviewSummary) -> pd.DataFrame:
    """``review.csv`` as :attr:`LabelReview.frame` without ``text``; ``ValueError`` when
    its columns are not the review's."""
    import pandas as pd

    text_columns = {"given_label": str, "suggested_label": str, "is_label_issue": str}
    frame = pd.read_csv(path, index_col=0, dtype=text_columns, keep_default_na=False)
    probability_columns = [PROBABILITY_PREFIX + code for code in summary.classes]
    if list(frame.columns) != [*REVIEW_COLUMNS[1:], *probability_columns]:
        raise ValueError(f"{path} does not hold a review's columns")
    flags = frame["is_label_issue"].map({"True": True, "False": False})
    if flags.isna().any():
        raise ValueError(f"{path} has an is_label_issue that is neither True nor False")
    frame["is_label_issue"] = flags.astype(bool)
    numbers = ["label_quality", *probability_columns]
    # an unreviewed row's scores are written empty (:meth:`ReviewSummary.unreviewed`)
    frame[numbers] = frame[numbers].replace("", float("nan")).astype(float)
    frame[list(COUNT_COLUMNS)] = frame[list(COUNT_COLUMNS)].astype("int64")
    return frame


def _matches(frame: pd.DataFrame, summary: ReviewSummary, dataset: Dataset) -> bool:
    """Whether a saved review belongs to ``dataset`` row for row (its folds drawn with
    the same stories) and is well formed."""
    import numpy as np

    from pipeline.review.folds import story_digest

    quality = frame["label_quality"].to_numpy()
    given = frame["given_label"].to_numpy(dtype=object)
    unreviewed = np.isin(given, list(summary.unreviewed))
    scored = quality[~unreviewed]
    return (
        summary.fold_groups.stories == story_digest(dataset.frame)
        and summary.rows == len(frame) == len(dataset.frame)
        and list(frame.index) == list(dataset.frame.index)
        and bool((given == dataset.frame["label"].to_numpy(dtype=object)).all())
        and bool(np.isfinite(scored).all() and ((scored >= 0) & (scored <= 1)).all())
        and bool(np.isnan(quality[unreviewed]).all())
    )
