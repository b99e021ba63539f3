"""Statistics of a dataset for the Inspect page and the CLI.

:func:`inspect_dataset` gives a JSON-ready report (rows, missing cells, duplicated texts,
classes, text lengths in words, publishers, stories); :func:`word_counts` counts the words
of each text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.data.dataset import Dataset


def word_counts(texts: pd.Series) -> np.ndarray:
    """Whitespace-separated words per text (what ``str.split()`` gives), as int64."""
    if getattr(texts.dtype, "storage", None) == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        trimmed = pc.utf8_trim_whitespace(pa.array(texts))
        counts = pc.list_value_length(pc.utf8_split_whitespace(trimmed))
        # Splitting "" gives [""]: a blank text has no words.
        counts = pc.if_else(pc.equal(trimmed, ""), 0, pc.fill_null(counts, 0))
        return np.asarray(counts, dtype="int64")
    return texts.astype(str).str.split().str.len().fillna(0).to_numpy(dtype="int64")


def inspect_dataset(ds: Dataset, top_n: int = 10) -> dict:
    """Statistics of a dataset for the Inspect page and the CLI, JSON-ready.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    top_n : int
        Rows in the "most duplicated texts" and "top publishers" lists.

    Returns
    -------
    dict
        ``name``, ``rows``, ``rows_read``, ``columns`` (raw names), ``text_col``,
        ``label_col``, ``missing`` {raw column: empty cells}, ``duplicates``
        {``duplicated_rows`` (rows whose text occurs more than once),
        ``distinct_duplicated_texts``, ``extra_copies``, ``top``: [{``text``, ``count``,
        ``labels``: {label: rows}}]}, ``labels_per_duplicated_text`` (texts found under more
        than one label), ``class_counts`` [{``code``, ``name``, ``count``, ``share``}],
        ``text_length_words`` {``min``, ``p50``, ``p90``, ``p99``, ``p99.9``, ``max``,
        ``mean``}, ``length_counts`` {words: rows}, ``top_publishers`` [{``publisher``,
        ``count``}], ``n_publishers`` and ``n_stories`` (``None`` without those columns).
    """
    frame = ds.frame
    report: dict = {
        "name": ds.name,
        "rows": len(frame),
        "rows_read": ds.rows_read or len(frame),
        "columns": list(ds.raw_columns),
        "text_col": ds.text_col,
        "label_col": ds.label_col,
        "missing": dict(ds.missing),
    }
    report.update(_duplicate_stats(frame, top_n))
    report["class_counts"] = _class_table(frame, ds)
    report.update(_length_stats(frame["text"]))
    report.update(_publisher_stats(frame, top_n))
    report["n_stories"] = _distinct_nonempty(frame, "story")
    return report


def _duplicate_stats(frame: pd.DataFrame, top_n: int) -> dict:
    counts = frame["text"].value_counts()
    repeated = counts[counts > 1]
    # Most copies first, ties by text, so the list is the same on every run.
    repeated = repeated.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    duplicated = frame[frame["text"].isin(repeated.index)]
    pairs = duplicated[["text", "label"]].drop_duplicates()
    several_labels = int(pairs.loc[pairs["text"].duplicated(), "text"].nunique())
    top_texts = repeated.head(top_n)
    per_label = (
        duplicated[duplicated["text"].isin(top_texts.index)]
        .groupby(["text", "label"], sort=True)
        .size()
    )
    top = []
    for text, count in top_texts.items():
        labels = per_label.loc[text].sort_values(ascending=False, kind="stable")
        top.append(
            {
                "text": str(text),
                "count": int(count),
                "labels": {str(k): int(v) for k, v in labels.items()},
            }
        )
    duplicated_rows = int(repeated.sum())
    return {
        "duplicates": {
            "duplicated_rows": duplicated_rows,
            "distinct_duplicated_texts": len(repeated),
            "extra_copies": duplicated_rows - len(repeated),
            "top": top,
        },
        "labels_per_duplicated_text": several_labels,
    }


def _class_table(frame: pd.DataFrame, ds: Dataset) -> list[dict]:
    counts = frame["label"].value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    total = int(counts.sum())
    return [
        {
            "code": str(code),
            "name": ds.display(str(code)),
            "count": int(count),
            "share": round(int(count) / total, 6),
        }
        for code, count in counts.items()
    ]


def report_from_json(report: dict) -> dict:
    """A report of :func:`inspect_dataset` after a JSON round trip, as it was: JSON keeps
    object keys as strings, and ``length_counts`` is keyed by word count (an int)."""
    restored = dict(report)
    restored["length_counts"] = {int(k): int(n) for k, n in report["length_counts"].items()}
    return restored


def _length_stats(texts: pd.Series) -> dict:
    words = word_counts(texts)
    points = np.percentile(words, [50, 90, 99, 99.9])
    lengths = {
        "min": int(words.min()),
        "p50": float(points[0]),
        "p90": float(points[1]),
        "p99": float(points[2]),
        "p99.9": float(points[3]),
        "max": int(words.max()),
        "mean": round(float(words.mean()), 3),
    }
    values, rows = np.unique(words, return_counts=True)
    return {
        "text_length_words": lengths,
        "length_counts": {int(v): int(n) for v, n in zip(values, rows, strict=True)},
    }


def _publisher_stats(frame: pd.DataFrame, top_n: int) -> dict:
    if "publisher" not in frame:
        return {"top_publishers": [], "n_publishers": None}
    publishers = frame.loc[frame["publisher"] != "", "publisher"]
    counts = publishers.value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    top = [{"publisher": str(p), "count": int(n)} for p, n in counts.head(top_n).items()]
    return {"top_publishers": top, "n_publishers": len(counts)}


def _distinct_nonempty(frame: pd.DataFrame, column: str) -> int | None:
    if column not in frame:
        return None
    values = frame[column]
    return int(values[values != ""].nunique())
