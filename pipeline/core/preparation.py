"""What preparing a dataset did to it, typed: :class:`PreparationSummary`.

:func:`pipeline.data.prepare.prepare` counts the rows and classes through every step
(loaded, deduplicated, empty texts dropped, small classes dropped, balanced, split) and
gives them as a :class:`PreparationSummary` (``PreparedData.summary``: the Prepare page's
numbers); a saved run keeps the same summary in ``data.json``, after the data's
fingerprint and columns, where :mod:`pipeline.runs.preparation` reads it back (checking
every field) into :attr:`pipeline.runs.record.DataRecord.summary`.

It lives here, beside the settings, because both sides need it: ``pipeline.data`` makes
it and ``pipeline.runs`` reads it, and reading a run must not import pandas (the
``pipeline.data`` package does). No pandas, no TensorFlow.

:meth:`PreparationSummary.to_json` writes the object back as it was read: its keys in
the order read, a key that older runs lack (``dropped_classes``, ``class_weights``) left
out when it was, and keys this version does not know kept unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

#: The three splits, in the order :func:`~pipeline.data.prepare.prepare` makes them.
SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
#: Keys a summary may lack: runs saved before class dropping and class weights existed
#: have neither.
OPTIONAL_KEYS: tuple[str, ...] = ("dropped_classes", "class_weights")

#: Every key of a summary this version reads, in the order
#: :func:`~pipeline.data.prepare.prepare` writes them.
SUMMARY_KEYS: tuple[str, ...] = (
    "rows_loaded",
    "class_counts_before",
    "rows_after_dedupe",
    "duplicates_removed",
    "empty_removed",
    "rows_after_dropping_empty",
    "class_counts_cleaned",
    "dropped_classes",
    "rows_after_balance",
    "class_counts_after",
    "split_sizes",
    "split_class_counts",
    "class_weights",
    "config",
    "notes",
)

T = TypeVar("T")


@dataclass(frozen=True)
class PerSplit(Generic[T]):
    """One value per split: ``train``, ``validation`` and ``test`` (rows, or rows per
    class), with any other split a newer version kept in ``extra``."""

    train: T
    validation: T
    test: T
    extra: dict[str, Any] = field(default_factory=dict)

    def of(self, name: str) -> T:
        """The value of split ``name`` (one of :data:`SPLIT_NAMES`); ``KeyError`` for
        another name."""
        if name not in SPLIT_NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def as_dict(self) -> dict[str, T]:
        """``{"train": ..., "validation": ..., "test": ...}``, in that order."""
        return {name: self.of(name) for name in SPLIT_NAMES}

    def to_json(self) -> dict[str, Any]:
        """The object as ``data.json`` holds it: the three splits, then ``extra``
        (a dict value copied)."""
        return {
            name: dict(value) if isinstance(value, dict) else value
            for name, value in {**self.as_dict(), **self.extra}.items()
        }


@dataclass(frozen=True)
class PreparationSummary:
    """Rows and classes through every step of preparing a dataset.

    Attributes
    ----------
    rows_loaded : int
        Rows of the dataset as loaded.
    class_counts_before : dict of str to int
        Rows per class code as loaded.
    rows_after_dedupe, duplicates_removed : int
        Rows left after dropping duplicated texts, and how many went.
    empty_removed, rows_after_dropping_empty : int
        Texts dropped as empty (nothing left after whitespace and punctuation), and the
        rows left after.
    class_counts_cleaned : dict of str to int
        Rows per class after both.
    dropped_classes : dict of str to int
        The classes dropped for having fewer rows than the smallest class kept, with their
        rows (empty when none was; runs saved before the rule lack it).
    rows_after_balance : int
        Rows kept after balancing (every split together).
    class_counts_after : dict of str to int
        Rows per class after balancing: its keys are the classes the model learns.
    split_sizes : PerSplit of int
        Rows per split.
    split_class_counts : PerSplit of dict of str to int
        Rows per class in each split.
    class_weights : dict of str to float, optional
        The loss weight per class (``balance="class_weights"``), else ``None``.
    config : dict
        The data settings the data was prepared with
        (:class:`~pipeline.core.config.DataConfig` as a dict), as written.
    notes : tuple of str
        Warnings from preparing (classes dropped, a split without rows of a class).
    extra : dict
        Keys this version does not know, written back unchanged.
    keys : tuple of str
        The keys as read, in order (empty for a summary
        :func:`~pipeline.data.prepare.prepare` made): :meth:`to_json` writes them back in
        that order. Not compared.
    """

    rows_loaded: int
    class_counts_before: dict[str, int]
    rows_after_dedupe: int
    duplicates_removed: int
    empty_removed: int
    rows_after_dropping_empty: int
    class_counts_cleaned: dict[str, int]
    dropped_classes: dict[str, int]
    rows_after_balance: int
    class_counts_after: dict[str, int]
    split_sizes: PerSplit[int]
    split_class_counts: PerSplit[dict[str, int]]
    class_weights: dict[str, float] | None
    config: dict[str, Any]
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    keys: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def classes(self) -> list[str]:
        """The class codes kept after balancing, sorted: the model's output order."""
        return sorted(self.class_counts_after)

    def to_json(self) -> dict[str, Any]:
        """The summary as ``data.json`` holds it (after the fingerprint and columns).

        The keys read, in their order; a summary made by
        :func:`~pipeline.data.prepare.prepare`: every key of :data:`SUMMARY_KEYS` in that
        order. A key of :data:`OPTIONAL_KEYS` that was not read is left out unless it
        holds something (classes dropped, class weights).
        """
        values: dict[str, Any] = {
            "rows_loaded": self.rows_loaded,
            "class_counts_before": dict(self.class_counts_before),
            "rows_after_dedupe": self.rows_after_dedupe,
            "duplicates_removed": self.duplicates_removed,
            "empty_removed": self.empty_removed,
            "rows_after_dropping_empty": self.rows_after_dropping_empty,
            "class_counts_cleaned": dict(self.class_counts_cleaned),
            "dropped_classes": dict(self.dropped_classes),
            "rows_after_balance": self.rows_after_balance,
            "class_counts_after": dict(self.class_counts_after),
            "split_sizes": self.split_sizes.to_json(),
            "split_class_counts": self.split_class_counts.to_json(),
            "class_weights": None if self.class_weights is None else dict(self.class_weights),
            "config": dict(self.config),
            "notes": list(self.notes),
            **self.extra,
        }
        if self.keys:
            for key in OPTIONAL_KEYS:
                if key not in self.keys and not values[key]:
                    del values[key]
        order = [key for key in self.keys if key in values]
        order += [key for key in values if key not in order]
        return {key: values[key] for key in order}
