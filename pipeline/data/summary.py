"""A dataset's statistics, typed: :class:`DataSummary`, what
:func:`~pipeline.data.stats.inspect_dataset` gives.

The Data page, the CLI's ``inspect`` and the data snapshot's cache
(:mod:`pipeline.data.snapshot`) read its attributes; :meth:`DataSummary.to_json` gives the
JSON document the CLI prints (``inspect --json``) and the snapshot stores, and
:meth:`DataSummary.from_json` reads one back, checking every field (a ``ValueError``
naming the field otherwise: the snapshot then computes the statistics again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DuplicatedText:
    """A text found on several rows: how many, and under which labels (``{code: rows}``,
    most rows first)."""

    text: str
    count: int
    labels: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """``{"text", "count", "labels"}``."""
        return {"text": self.text, "count": self.count, "labels": dict(self.labels)}

    @classmethod
    def from_json(cls, raw: Any) -> DuplicatedText:
        """Read :meth:`to_json`'s object back; ``ValueError`` for a wrong one."""
        reader = _Reader(raw, "a duplicated text")
        return cls(reader.text("text"), reader.count("count"), reader.counts("labels"))


@dataclass(frozen=True)
class Duplicates:
    """Rows whose text occurs more than once (``duplicated_rows``), their distinct texts,
    the copies beyond the first of each (``extra_copies``) and the most repeated texts."""

    duplicated_rows: int
    distinct_duplicated_texts: int
    extra_copies: int
    top: tuple[DuplicatedText, ...]

    def to_json(self) -> dict[str, Any]:
        """The object under ``duplicates``."""
        return {
            "duplicated_rows": self.duplicated_rows,
            "distinct_duplicated_texts": self.distinct_duplicated_texts,
            "extra_copies": self.extra_copies,
            "top": [row.to_json() for row in self.top],
        }

    @classmethod
    def from_json(cls, raw: Any) -> Duplicates:
        """Read :meth:`to_json`'s object back; ``ValueError`` for a wrong one."""
        reader = _Reader(raw, "duplicates")
        return cls(
            reader.count("duplicated_rows"),
            reader.count("distinct_duplicated_texts"),
            reader.count("extra_copies"),
            tuple(DuplicatedText.from_json(row) for row in reader.items("top")),
        )


@dataclass(frozen=True)
class ClassCount:
    """One class: its code, display name, rows and share of all rows."""

    code: str
    name: str
    count: int
    share: float

    def to_json(self) -> dict[str, Any]:
        """``{"code", "name", "count", "share"}``."""
        return {"code": self.code, "name": self.name, "count": self.count, "share": self.share}

    @classmethod
    def from_json(cls, raw: Any) -> ClassCount:
        """Read :meth:`to_json`'s object back; ``ValueError`` for a wrong one."""
        reader = _Reader(raw, "a class count")
        return cls(
            reader.text("code"), reader.text("name"), reader.count("count"), reader.number("share")
        )


#: The keys of :class:`TextLengths` in its JSON, by attribute.
_LENGTH_KEYS = {
    "min": "min",
    "p50": "p50",
    "p90": "p90",
    "p99": "p99",
    "p99_9": "p99.9",
    "max": "max",
    "mean": "mean",
}


@dataclass(frozen=True)
class TextLengths:
    """Words per text: the shortest, the percentiles, the longest and the mean
    (``p99_9`` is ``"p99.9"`` in JSON)."""

    min: int
    p50: float
    p90: float
    p99: float
    p99_9: float
    max: int
    mean: float

    def to_json(self) -> dict[str, Any]:
        """``{"min", "p50", "p90", "p99", "p99.9", "max", "mean"}``."""
        return {key: getattr(self, name) for name, key in _LENGTH_KEYS.items()}

    @classmethod
    def from_json(cls, raw: Any) -> TextLengths:
        """Read :meth:`to_json`'s object back; ``ValueError`` for a wrong one."""
        reader = _Reader(raw, "text_length_words")
        return cls(
            min=reader.count("min"),
            p50=reader.number("p50"),
            p90=reader.number("p90"),
            p99=reader.number("p99"),
            p99_9=reader.number("p99.9"),
            max=reader.count("max"),
            mean=reader.number("mean"),
        )


@dataclass(frozen=True)
class PublisherCount:
    """A publisher and its rows."""

    publisher: str
    count: int

    def to_json(self) -> dict[str, Any]:
        """``{"publisher", "count"}``."""
        return {"publisher": self.publisher, "count": self.count}

    @classmethod
    def from_json(cls, raw: Any) -> PublisherCount:
        """Read :meth:`to_json`'s object back; ``ValueError`` for a wrong one."""
        reader = _Reader(raw, "a publisher count")
        return cls(reader.text("publisher"), reader.count("count"))


@dataclass(frozen=True)
class DataSummary:
    """The statistics of a dataset (see :func:`pipeline.data.stats.inspect_dataset`).

    Attributes
    ----------
    name, text_col, label_col : str
        The dataset's name and the file's text and label columns.
    rows, rows_read : int
        Rows kept (with a label) and rows in the file.
    columns : tuple of str
        The file's columns, as named there.
    missing : dict of str to int
        Empty cells per file column.
    duplicates : Duplicates
        Duplicated texts, with the most repeated.
    labels_per_duplicated_text : int
        Duplicated texts found under more than one label.
    class_counts : tuple of ClassCount
        Every class, most rows first.
    text_length_words : TextLengths
        Words per text.
    length_counts : dict of int to int
        ``{words: texts}``, by word count.
    top_publishers : tuple of PublisherCount
        The publishers with most rows (none without a publisher column).
    n_publishers, n_stories : int, optional
        Distinct publishers and stories; ``None`` without those columns.
    """

    name: str
    rows: int
    rows_read: int
    columns: tuple[str, ...]
    text_col: str
    label_col: str
    missing: dict[str, int]
    duplicates: Duplicates
    labels_per_duplicated_text: int
    class_counts: tuple[ClassCount, ...]
    text_length_words: TextLengths
    length_counts: dict[int, int]
    top_publishers: tuple[PublisherCount, ...]
    n_publishers: int | None
    n_stories: int | None

    def to_json(self) -> dict[str, Any]:
        """The statistics as a JSON-ready object (``length_counts`` keyed by int: JSON
        writes those keys as strings, :meth:`from_json` reads them back as ints)."""
        return {
            "name": self.name,
            "rows": self.rows,
            "rows_read": self.rows_read,
            "columns": list(self.columns),
            "text_col": self.text_col,
            "label_col": self.label_col,
            "missing": dict(self.missing),
            "duplicates": self.duplicates.to_json(),
            "labels_per_duplicated_text": self.labels_per_duplicated_text,
            "class_counts": [row.to_json() for row in self.class_counts],
            "text_length_words": self.text_length_words.to_json(),
            "length_counts": dict(self.length_counts),
            "top_publishers": [row.to_json() for row in self.top_publishers],
            "n_publishers": self.n_publishers,
            "n_stories": self.n_stories,
        }

    @classmethod
    def from_json(cls, raw: Any) -> DataSummary:
        """Read :meth:`to_json`'s object back (after a JSON round trip or not);
        ``ValueError`` naming the field of a wrong one."""
        reader = _Reader(raw, "the data summary")
        columns = reader.items("columns")
        if not all(isinstance(column, str) for column in columns):
            raise ValueError("the data summary: 'columns' must list column names")
        lengths = reader.counts("length_counts", keys_are_counts=True)
        return cls(
            name=reader.text("name"),
            rows=reader.count("rows"),
            rows_read=reader.count("rows_read"),
            columns=tuple(columns),
            text_col=reader.text("text_col"),
            label_col=reader.text("label_col"),
            missing=reader.counts("missing"),
            duplicates=Duplicates.from_json(raw.get("duplicates")),
            labels_per_duplicated_text=reader.count("labels_per_duplicated_text"),
            class_counts=tuple(ClassCount.from_json(row) for row in reader.items("class_counts")),
            text_length_words=TextLengths.from_json(raw.get("text_length_words")),
            length_counts={int(words): rows for words, rows in lengths.items()},
            top_publishers=tuple(
                PublisherCount.from_json(row) for row in reader.items("top_publishers")
            ),
            n_publishers=reader.opt_count("n_publishers"),
            n_stories=reader.opt_count("n_stories"),
        )


class _Reader:
    """Typed reads of one JSON object of a data summary; ``ValueError`` naming the field."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise ValueError(f"{where} must be an object")
        self.raw, self.where = raw, where

    def _value(self, key: str, wanted: str, ok: bool) -> Any:
        if not ok:
            raise ValueError(f"{self.where}: {key!r} must be {wanted}")
        return self.raw[key]

    def text(self, key: str) -> str:
        return self._value(key, "a string", isinstance(self.raw.get(key), str))

    def count(self, key: str) -> int:
        value = self.raw.get(key)
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return self._value(key, "a count", ok)

    def opt_count(self, key: str) -> int | None:
        return None if self.raw.get(key) is None else self.count(key)

    def number(self, key: str) -> float:
        value = self.raw.get(key)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return float(self._value(key, "a number", ok))

    def items(self, key: str) -> list[Any]:
        return self._value(key, "a list", isinstance(self.raw.get(key), list))

    def counts(self, key: str, *, keys_are_counts: bool = False) -> dict[Any, int]:
        """The ``{key: count}`` object at ``key`` (keys that read as whole numbers when
        ``keys_are_counts``: JSON writes int keys as strings)."""
        value = self._value(key, "an object", isinstance(self.raw.get(key), dict))
        for name, count in value.items():
            name_ok = str(name).isdigit() if keys_are_counts else isinstance(name, str)
            count_ok = isinstance(count, int) and not isinstance(count, bool) and count >= 0
            if not (name_ok and count_ok):
                raise ValueError(f"{self.where}: {key!r} must map names to counts")
        return dict(value)
