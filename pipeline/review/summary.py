"""A label review's summary, typed: :class:`ReviewSummary`, saved as ``summary.json``
beside ``review.csv`` in the review cache (:mod:`pipeline.review.cache`).

:func:`pipeline.review.run.run_review` builds it, :meth:`ReviewSummary.to_json` writes it
(the cache's file, and the CLI's ``review --json``), and :meth:`ReviewSummary.parse` reads
it back, checking every field: a wrong one is a
:class:`~pipeline.core.errors.RunRecordError` naming ``summary.json`` and the field (the
cache then reviews again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.errors import ConfigError, RunRecordError
from pipeline.review.settings import ReviewSettings
from pipeline.runs.fields import FieldReader


@dataclass(frozen=True)
class ClassReview:
    """One class of a review: its display name, rows, rows flagged, and rows whose
    suggested label it is."""

    name: str
    rows: int
    issues: int
    suggested: int

    def to_json(self) -> dict[str, Any]:
        """``{"name", "rows", "issues", "suggested"}``."""
        return {
            "name": self.name,
            "rows": self.rows,
            "issues": self.issues,
            "suggested": self.suggested,
        }

    @classmethod
    def parse(cls, reader: FieldReader) -> ClassReview:
        """Read :meth:`to_json`'s object from ``reader``."""
        return cls(
            reader.text("name"),
            reader.integer("rows"),
            reader.integer("issues"),
            reader.integer("suggested"),
        )


@dataclass(frozen=True)
class FoldGroups:
    """How the review's folds were drawn (:func:`pipeline.review.folds.describe_groups`):
    ``scheme`` (``"grouped"`` or ``"rows"``), the distinct groups, the rows in a group of
    two or more, the largest group's rows, and ``stories``, the
    :func:`~pipeline.review.folds.story_digest` they were drawn with (``None`` without a
    story column)."""

    scheme: str
    groups: int
    grouped_rows: int
    largest_group: int
    stories: str | None

    def to_json(self) -> dict[str, Any]:
        """The object under ``fold_groups``."""
        return {
            "scheme": self.scheme,
            "groups": self.groups,
            "grouped_rows": self.grouped_rows,
            "largest_group": self.largest_group,
            "stories": self.stories,
        }

    @classmethod
    def parse(cls, reader: FieldReader) -> FoldGroups:
        """Read :meth:`to_json`'s object from ``reader``."""
        return cls(
            scheme=reader.choice("scheme", ("grouped", "rows")),
            groups=reader.integer("groups"),
            grouped_rows=reader.integer("grouped_rows"),
            largest_group=reader.integer("largest_group"),
            stories=reader.opt_text("stories"),
        )


#: A share of flagged rows from which the flags more likely mark classes the models cannot
#: tell apart than wrong labels (a file of that many wrong labels would be noise): 14
#: publishers' headlines flagged 38 %, labels drawn at random about half, while UCI rows with
#: 3 % of their labels flipped flag 10 %.
MANY_FLAGS_SHARE = 0.2


@dataclass(frozen=True)
class ReviewSummary:
    """What a label review found, in numbers, and what it was.

    Attributes
    ----------
    rows, folds, issues : int
        Rows reviewed, folds of the cross-validation, rows flagged as label issues.
    classes : tuple of str
        The class codes, in the probability columns' order.
    label_names : dict of str to str
        Each code's display name.
    per_class : dict of str to ClassReview
        Rows, flagged rows and suggestions per class.
    settings : ReviewSettings
        The review's settings.
    fold_groups : FoldGroups
        How the folds were drawn.
    seconds : float, optional
        How long the review took.
    part_seconds, part_accuracy : dict of str to float
        Per model part: its training time, and how often its out-of-sample prediction is
        the given label.
    out_of_sample_accuracy : float
        How often the combined out-of-sample prediction is the given label.
    fingerprint, key, dataset : str
        The data's fingerprint, the review's cache key, the dataset's name.
    version : int
        The review's version (:data:`pipeline.review.cache.REVIEW_VERSION`).
    from_cache : bool
        Whether the review was read from the cache rather than computed.
    unreviewed : dict of str to int
        The classes with fewer rows than folds, and their rows: kept as given, not
        reviewed (:meth:`unreviewed_note`); empty when every class was.
    """

    rows: int
    folds: int
    issues: int
    classes: tuple[str, ...]
    label_names: dict[str, str]
    per_class: dict[str, ClassReview]
    settings: ReviewSettings
    fold_groups: FoldGroups
    seconds: float | None
    part_seconds: dict[str, float]
    out_of_sample_accuracy: float
    part_accuracy: dict[str, float]
    fingerprint: str
    key: str
    dataset: str
    version: int
    from_cache: bool = False
    unreviewed: dict[str, int] = field(default_factory=dict)

    def name(self, code: str) -> str:
        """The display name of class ``code`` (the code itself when it has none)."""
        return self.label_names.get(code, code)

    @property
    def reviewed_rows(self) -> int:
        """The rows reviewed: every row but those of the :attr:`unreviewed` classes."""
        return self.rows - sum(self.unreviewed.values())

    def caution(self) -> str | None:
        """What the flags mean when at least :data:`MANY_FLAGS_SHARE` of the reviewed rows
        are flagged (mostly classes the models cannot tell apart, not wrong labels) and what
        to do with them; ``None`` otherwise."""
        share = self.issues / max(self.reviewed_rows, 1)
        if share < MANY_FLAGS_SHARE:
            return None
        return (
            f"{share:.0%} of the reviewed rows are flagged, and the models agree with "
            f"{self.out_of_sample_accuracy:.0%} of the labels: at that rate most flags mark "
            "classes the models cannot tell apart, not that the label is wrong. Check the "
            "most suspect rows first; relabelling every flag would teach the next model the "
            "models' own confusions."
        )

    def unreviewed_note(self) -> str | None:
        """Which classes were too small to review, why, and what would review them; ``None``
        when every class was reviewed. Class names are quoted as the file has them
        (escape them before drawing as Markdown)."""
        if not self.unreviewed:
            return None
        listing = ", ".join(
            f"{self.name(code)!r} ({rows:,} row{'' if rows == 1 else 's'})"
            for code, rows in self.unreviewed.items()
        )
        lowerable = [rows for rows in self.unreviewed.values() if rows >= 2]
        remedies = []
        if lowerable:
            which = "them" if len(lowerable) == len(self.unreviewed) else "those of 2 rows or more"
            remedies.append(f"lower the folds to {min(lowerable)} to review {which}")
        if len(lowerable) < len(self.unreviewed):
            remedies.append("merge a class of one row into the class it means (a misspelt label?)")
        remedy = "; ".join(remedies) + ", or add rows"
        return (
            f"Not reviewed: {listing}. A {self.folds}-fold review needs at least "
            f"{self.folds} rows of a class, so that every row is scored by models that "
            f"learned its class without it. Their rows keep their labels and come last; "
            f"{remedy}."
        )

    def to_json(self) -> dict[str, Any]:
        """The summary as ``summary.json`` holds it."""
        return {
            "rows": self.rows,
            "folds": self.folds,
            "issues": self.issues,
            "classes": list(self.classes),
            "label_names": dict(self.label_names),
            "per_class": {code: row.to_json() for code, row in self.per_class.items()},
            "settings": self.settings.to_dict(),
            "seconds": self.seconds,
            "part_seconds": dict(self.part_seconds),
            "out_of_sample_accuracy": self.out_of_sample_accuracy,
            "part_accuracy": dict(self.part_accuracy),
            "fingerprint": self.fingerprint,
            "key": self.key,
            "dataset": self.dataset,
            "version": self.version,
            "from_cache": self.from_cache,
            "fold_groups": self.fold_groups.to_json(),
            "unreviewed_classes": dict(self.unreviewed),
        }

    @classmethod
    def parse(cls, raw: Any) -> ReviewSummary:
        """Read ``summary.json``; :class:`RunRecordError` naming the field of a wrong one
        (a class in ``per_class`` or ``label_names`` that ``classes`` lacks included)."""
        reader = FieldReader(raw, "summary.json")
        classes = reader.items("classes")
        if not classes or not all(isinstance(code, str) for code in classes):
            raise RunRecordError("summary.json: 'classes' must list class codes.")
        names = reader.obj("label_names").raw
        per_class = reader.obj("per_class")
        unreviewed = reader.obj("unreviewed_classes", {})  # absent before 2026-12
        if not set(names) | set(per_class.raw) | set(unreviewed.raw) <= set(classes):
            raise RunRecordError("summary.json: a class is named that 'classes' lacks.")
        if not all(isinstance(name, str) for name in names.values()):
            raise RunRecordError("summary.json: 'label_names' must map codes to names.")
        try:
            settings = ReviewSettings.from_dict(reader.obj("settings").raw)
        except ConfigError as exc:
            raise RunRecordError(f"summary.json: 'settings': {exc}") from None
        return cls(
            rows=reader.integer("rows"),
            folds=reader.integer("folds", minimum=2),
            issues=reader.integer("issues"),
            classes=tuple(classes),
            label_names=dict(names),
            per_class={str(code): ClassReview.parse(per_class.obj(code)) for code in per_class.raw},
            settings=settings,
            fold_groups=FoldGroups.parse(reader.obj("fold_groups")),
            seconds=reader.opt_number("seconds"),
            part_seconds=_numbers(reader, "part_seconds"),
            out_of_sample_accuracy=reader.share("out_of_sample_accuracy"),
            part_accuracy=_numbers(reader, "part_accuracy"),
            fingerprint=reader.text("fingerprint"),
            key=reader.text("key"),
            dataset=reader.text("dataset"),
            version=reader.integer("version", minimum=1),
            from_cache=reader.flag("from_cache"),
            unreviewed={str(code): unreviewed.integer(code, minimum=1) for code in unreviewed.raw},
        )


def _numbers(reader: FieldReader, key: str) -> dict[str, float]:
    """The ``{name: number}`` object at ``key``."""
    inner = reader.obj(key)
    return {str(name): inner.number(name) for name in inner.raw}
