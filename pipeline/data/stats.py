"""Statistics of a dataset for the Data page and the CLI.

:func:`inspect_dataset` gives a :class:`~pipeline.data.summary.DataSummary` (rows, missing
cells, duplicated texts, classes, text lengths in words, publishers, stories);
:func:`word_counts` counts the words of each text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.scripts import CJK_CHARACTER
from pipeline.data.dataset import Dataset
from pipeline.data.summary import (
    ClassCount,
    DataSummary,
    DuplicatedText,
    Duplicates,
    PublisherCount,
    TextLengths,
)


def word_counts(texts: pd.Series) -> np.ndarray:
    """Words per text as the model counts them, as int64: whitespace-separated (what
    ``str.split()`` gives), each Chinese or Japanese character a word of its own
    (:mod:`pipeline.core.scripts`: those scripts write no space between words)."""
    if getattr(texts.dtype, "storage", None) == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        array = pa.array(texts)
        counts = _whitespace_words(array)
        has_cjk = pc.match_substring_regex(array, CJK_CHARACTER)
        if pc.any(has_cjk).as_py():  # recounted on those rows alone: a few in most files
            rows = np.flatnonzero(np.asarray(has_cjk.fill_null(False)))
            subset = array.take(pa.array(rows))
            spaced = pc.replace_substring_regex(subset, CJK_CHARACTER, " ")
            cjk = np.asarray(pc.count_substring_regex(subset, CJK_CHARACTER), dtype="int64")
            counts[rows] = _whitespace_words(spaced) + cjk
        return counts
    text = texts.astype(str)
    cjk_characters = text.str.count(CJK_CHARACTER)
    words = text.str.replace(CJK_CHARACTER, " ", regex=True).str.split().str.len()
    return (words.fillna(0) + cjk_characters).to_numpy(dtype="int64")


def _whitespace_words(array: Any) -> np.ndarray:
    """Whitespace-separated words of each string of a pyarrow ``array``, as a writable
    int64 array."""
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(array)
    counts = pc.list_value_length(pc.utf8_split_whitespace(trimmed))
    # Splitting "" gives [""]: a blank text has no words.
    counts = pc.fill_null(pc.if_else(pc.equal(trimmed, ""), 0, counts), 0)
    return np.asarray(counts).astype("int64")  # a copy: the caller writes into it


def inspect_dataset(ds: Dataset, top_n: int = 10) -> DataSummary:
    """Statistics of a dataset for the Data page and the CLI.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    top_n : int
        Rows in the "most duplicated texts" and "top publishers" lists.

    Returns
    -------
    DataSummary
        Its rows (kept and read), columns, empty cells per column, duplicated texts (the
        ``top_n`` most repeated with their labels), texts under several labels, classes
        (most rows first), words per text, publishers (the ``top_n`` biggest) and
        stories; :meth:`~pipeline.data.summary.DataSummary.to_json` for JSON.
    """
    frame = ds.frame
    duplicates, several_labels = _duplicate_stats(frame, top_n)
    lengths, length_counts = _length_stats(frame["text"])
    publishers, n_publishers = _publisher_stats(frame, top_n)
    return DataSummary(
        name=ds.name,
        rows=len(frame),
        rows_read=ds.rows_read or len(frame),
        columns=tuple(ds.raw_columns),
        text_col=ds.text_col,
        label_col=ds.label_col,
        missing=dict(ds.missing),
        duplicates=duplicates,
        labels_per_duplicated_text=several_labels,
        class_counts=_class_table(frame, ds),
        text_length_words=lengths,
        length_counts=length_counts,
        top_publishers=publishers,
        n_publishers=n_publishers,
        n_stories=_distinct_nonempty(frame, "story"),
    )


def _duplicate_stats(frame: pd.DataFrame, top_n: int) -> tuple[Duplicates, int]:
    """The duplicated texts, and how many of them appear under more than one label."""
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
            DuplicatedText(str(text), int(count), {str(k): int(v) for k, v in labels.items()})
        )
    duplicated_rows = int(repeated.sum())
    duplicates = Duplicates(
        duplicated_rows=duplicated_rows,
        distinct_duplicated_texts=len(repeated),
        extra_copies=duplicated_rows - len(repeated),
        top=tuple(top),
    )
    return duplicates, several_labels


def _class_table(frame: pd.DataFrame, ds: Dataset) -> tuple[ClassCount, ...]:
    counts = frame["label"].value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    total = int(counts.sum())
    return tuple(
        ClassCount(
            code=str(code),
            name=ds.display(str(code)),
            count=int(count),
            share=round(int(count) / total, 6),
        )
        for code, count in counts.items()
    )


def _length_stats(texts: pd.Series) -> tuple[TextLengths, dict[int, int]]:
    words = word_counts(texts)
    points = np.percentile(words, [50, 90, 99, 99.9])
    lengths = TextLengths(
        min=int(words.min()),
        p50=float(points[0]),
        p90=float(points[1]),
        p99=float(points[2]),
        p99_9=float(points[3]),
        max=int(words.max()),
        mean=round(float(words.mean()), 3),
    )
    values, rows = np.unique(words, return_counts=True)
    return lengths, {int(v): int(n) for v, n in zip(values, rows, strict=True)}


def _publisher_stats(
    frame: pd.DataFrame, top_n: int
) -> tuple[tuple[PublisherCount, ...], int | None]:
    if "publisher" not in frame:
        return (), None
    publishers = frame.loc[frame["publisher"] != "", "publisher"]
    counts = publishers.value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    top = tuple(PublisherCount(str(p), int(n)) for p, n in counts.head(top_n).items())
    return top, len(counts)


def _distinct_nonempty(frame: pd.DataFrame, column: str) -> int | None:
    if column not in frame:
        return None
    values = frame[column]
    return int(values[values != ""].nunique())
