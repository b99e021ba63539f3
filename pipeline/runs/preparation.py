"""``data.json``'s preparation summary, read: :func:`parse_preparation_summary`.

``data.json`` holds the data's fingerprint and columns, then what preparing the data did
(:class:`~pipeline.core.preparation.PreparationSummary`: rows and classes through every
step, the split sizes, the class weights, the data settings, the notes). This module
reads that part through :class:`~pipeline.runs.fields.FieldReader`, so a wrong value is a
:class:`~pipeline.core.errors.RunRecordError` that names ``data.json`` and the key (and
the class or split inside it), never a ``KeyError`` on a page later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pipeline.core.errors import RunRecordError
from pipeline.core.preparation import (
    OPTIONAL_KEYS,
    SPLIT_NAMES,
    SUMMARY_KEYS,
    PerSplit,
    PreparationSummary,
)
from pipeline.runs.fields import FieldReader

#: ``data.json``'s keys before the summary's: which data the run saw.
IDENTITY_KEYS: tuple[str, ...] = ("fingerprint", "dataset", "text_col", "label_col")

T = TypeVar("T")


def parse_preparation_summary(reader: FieldReader) -> PreparationSummary:
    """The preparation summary in ``reader``'s object (``data.json``): every key of it
    but :data:`IDENTITY_KEYS`.

    Every key of :data:`~pipeline.core.preparation.SUMMARY_KEYS` must be there but
    ``dropped_classes`` and ``class_weights`` (runs saved before they existed lack them);
    row counts are integers of at least 0, class counts objects of them by class code,
    ``split_sizes`` and ``split_class_counts`` objects holding ``train``, ``validation``
    and ``test``, ``class_weights`` numbers by class code or ``null``, ``config`` an
    object, ``notes`` a list of strings. :class:`RunRecordError` names the key otherwise.
    Keys this version does not know are kept in ``extra``; the keys' order in ``keys``.
    """
    for key in SUMMARY_KEYS:
        if key not in OPTIONAL_KEYS and key not in reader.raw:
            raise RunRecordError(f"{reader.where}: {key!r} is missing.")
    raw = reader.raw
    notes = reader.items("notes")
    if not all(isinstance(note, str) for note in notes):
        raise RunRecordError(f"{reader.where}: 'notes' must list texts.")
    weights = reader.obj("class_weights") if reader.has("class_weights") else None
    known = set(SUMMARY_KEYS) | set(IDENTITY_KEYS)
    return PreparationSummary(
        rows_loaded=reader.integer("rows_loaded"),
        class_counts_before=_counts(reader, "class_counts_before"),
        rows_after_dedupe=reader.integer("rows_after_dedupe"),
        duplicates_removed=reader.integer("duplicates_removed"),
        empty_removed=reader.integer("empty_removed"),
        rows_after_dropping_empty=reader.integer("rows_after_dropping_empty"),
        class_counts_cleaned=_counts(reader, "class_counts_cleaned"),
        dropped_classes=_counts(reader, "dropped_classes", {}),
        rows_after_balance=reader.integer("rows_after_balance"),
        class_counts_after=_counts(reader, "class_counts_after"),
        split_sizes=_per_split(reader, "split_sizes", lambda split, name: split.integer(name)),
        split_class_counts=_per_split(reader, "split_class_counts", _counts),
        class_weights=None if weights is None else {k: weights.number(k) for k in weights.raw},
        config=dict(reader.obj("config").raw),
        notes=tuple(notes),
        extra={key: value for key, value in raw.items() if key not in known},
        keys=tuple(key for key in map(str, raw) if key not in IDENTITY_KEYS),
    )


def _counts(reader: FieldReader, key: str, default: dict[str, Any] | None = None) -> dict[str, int]:
    """The object at ``key`` (``default`` when absent) as rows by class code, each an
    integer of at least 0; :class:`RunRecordError` naming the key and the class."""
    counts = reader.obj(key, default)
    return {str(code): counts.integer(code) for code in counts.raw}


def _per_split(reader: FieldReader, key: str, read: Callable[[FieldReader, str], T]) -> PerSplit[T]:
    """The object at ``key`` as one value per split, each read by ``read(reader, split
    name)``; :class:`RunRecordError` when a split is missing, naming the key."""
    splits = reader.obj(key)
    missing = [name for name in SPLIT_NAMES if name not in splits.raw]
    if missing:
        raise RunRecordError(
            f"{reader.where}: {key!r} must hold {', '.join(SPLIT_NAMES)} "
            f"(missing {', '.join(missing)})."
        )
    values = {str(name): read(splits, name) for name in splits.raw}
    return PerSplit(
        train=values.pop("train"),
        validation=values.pop("validation"),
        test=values.pop("test"),
        extra=values,
    )
