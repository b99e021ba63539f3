"""A run's results, typed: ``history.json``, ``metrics.json`` and ``test_predictions.json``.

What training and testing a run gave, parsed and checked (through
:class:`~pipeline.runs.fields.FieldReader`) and written back: the test set's scores
(:class:`Metrics`) and, optional and read only on demand, every test row's prediction
(:class:`RowPredictions`). The epochs' history is parsed by :mod:`pipeline.runs.history`. The run's
settings, labels, data and identity, and :class:`~pipeline.runs.record.RunRecord` that
holds them all, are in :mod:`pipeline.runs.record`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.core.class_sizes import thin_classes
from pipeline.core.errors import RunRecordError
from pipeline.evaluation.paired import PairedComparison
from pipeline.runs.decision import BlendRecord, PriorShiftRecord
from pipeline.runs.fields import FieldReader

if TYPE_CHECKING:
    from pipeline.runs.record import RunRecord


@dataclass(frozen=True)
class ClassScores:
    """One class's row of the test report."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ConfusionMatrix:
    """Rows are true classes, columns predicted ones, in the order of ``labels``."""

    labels: tuple[str, ...]
    names: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class BaselineScores:
    """The TF-IDF baseline's scores on the same test rows."""

    name: str
    test_accuracy: float
    macro_f1: float | None
    seconds: float | None
    class_weighted: bool
    cached: bool
    #: ``None`` in runs saved before it was measured.
    balanced_accuracy: float | None = None


@dataclass(frozen=True)
class Metrics:
    """``metrics.json``: the test set's scores (see :mod:`pipeline.evaluation.metrics`)."""

    test_accuracy: float
    test_loss: float | None
    macro_f1: float
    n_test: int
    per_class: dict[str, ClassScores]
    confusion_matrix: ConfusionMatrix
    misclassified: tuple[dict[str, Any], ...]
    baseline: BaselineScores | None = None
    collapsed: str | None = None
    #: Mean recall over classes; ``None`` in runs saved before it was measured.
    balanced_accuracy: float | None = None
    #: The model minus the baseline on the same test rows, with 95 % intervals
    #: (:mod:`pipeline.evaluation.paired`); ``None`` in runs saved before intervals existed.
    vs_baseline: PairedComparison | None = None
    #: The linear blend the decision rule uses (:mod:`pipeline.runs.decision`); ``None``
    #: for a run without one (the network alone decides) or saved before it existed.
    blend: BlendRecord | None = None
    #: The class-prior shift of the decision rule; ``None`` for a run without one.
    prior_shift: PriorShiftRecord | None = None
    #: Keys this version does not know, kept as they were (written by a newer minor
    #: version, or added by a later feature): saved back unchanged.
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = (
        "test_accuracy",
        "test_loss",
        "macro_f1",
        "n_test",
        "per_class",
        "confusion_matrix",
        "misclassified",
        "baseline",
        "collapsed",
        "balanced_accuracy",
        "vs_baseline",
        "blend",
        "prior_shift",
    )

    def thin_classes(self) -> dict[str, int]:
        """``{code: test rows}`` of the classes with fewer than
        :data:`~pipeline.core.class_sizes.MIN_TEST_ROWS_PER_CLASS` test rows, fewest first
        (:func:`pipeline.core.class_sizes.thin_classes`, the rule Prepare and Train warn by)."""
        return thin_classes({code: scores.support for code, scores in self.per_class.items()})

    @classmethod
    def parse(cls, raw: Any) -> Metrics:
        reader = FieldReader(raw, "metrics.json")
        per_class = {}
        for code, row in reader.obj("per_class").raw.items():
            scores = FieldReader(row, f"metrics.json per_class {code!r}")
            per_class[str(code)] = ClassScores(
                name=scores.text("name"),
                precision=scores.share("precision"),
                recall=scores.share("recall"),
                f1=scores.share("f1"),
                support=scores.integer("support"),
            )
        matrix_reader = reader.obj("confusion_matrix")
        labels = matrix_reader.items("labels")
        matrix = matrix_reader.items("matrix")
        if len(matrix) != len(labels) or not all(
            isinstance(row, list)
            and len(row) == len(labels)
            and all(isinstance(n, int) and not isinstance(n, bool) for n in row)
            for row in matrix
        ):
            raise RunRecordError(
                "metrics.json: the confusion matrix must be a square table of counts, one "
                "row and one column per label."
            )
        misclassified = reader.items("misclassified")
        for index, row in enumerate(misclassified):
            item = FieldReader(row, f"metrics.json misclassified row {index + 1}")
            item.text("text"), item.text("true"), item.text("predicted"), item.share("confidence")
        baseline = None
        if reader.has("baseline"):
            base = reader.obj("baseline")
            baseline = BaselineScores(
                name=base.text("name"),
                test_accuracy=base.share("test_accuracy"),
                macro_f1=base.share("macro_f1") if base.has("macro_f1") else None,
                seconds=base.opt_number("seconds"),
                class_weighted=base.flag("class_weighted"),
                cached=base.flag("cached"),
                balanced_accuracy=base.share("balanced_accuracy")
                if base.has("balanced_accuracy")
                else None,
            )
        return cls(
            test_accuracy=reader.share("test_accuracy"),
            test_loss=reader.opt_number("test_loss"),
            macro_f1=reader.share("macro_f1"),
            n_test=reader.integer("n_test"),
            per_class=per_class,
            confusion_matrix=ConfusionMatrix(
                labels=tuple(map(str, labels)),
                names=tuple(map(str, matrix_reader.items("names"))),
                matrix=tuple(tuple(row) for row in matrix),
            ),
            misclassified=tuple(dict(row) for row in misclassified),
            baseline=baseline,
            collapsed=reader.opt_text("collapsed"),
            balanced_accuracy=reader.share("balanced_accuracy")
            if reader.has("balanced_accuracy")
            else None,
            vs_baseline=_paired(raw.get("vs_baseline"), "metrics.json: 'vs_baseline'"),
            blend=BlendRecord.parse(raw["blend"]) if reader.has("blend") else None,
            prior_shift=PriorShiftRecord.parse(raw["prior_shift"])
            if reader.has("prior_shift")
            else None,
            extra={k: v for k, v in raw.items() if k not in cls._KNOWN},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "n_test": self.n_test,
            "test_accuracy": self.test_accuracy,
            "test_loss": self.test_loss,
            "macro_f1": self.macro_f1,
            "per_class": {code: vars(row) for code, row in self.per_class.items()},
            "confusion_matrix": {
                "labels": list(self.confusion_matrix.labels),
                "names": list(self.confusion_matrix.names),
                "matrix": [list(row) for row in self.confusion_matrix.matrix],
            },
            "misclassified": [dict(row) for row in self.misclassified],
            "baseline": vars(self.baseline) if self.baseline is not None else None,
            "collapsed": self.collapsed,
            "balanced_accuracy": self.balanced_accuracy,
            **({"vs_baseline": self.vs_baseline.to_json()} if self.vs_baseline else {}),
            **({"blend": self.blend.to_json()} if self.blend else {}),
            **({"prior_shift": self.prior_shift.to_json()} if self.prior_shift else {}),
        }


def _paired(raw: Any, where: str) -> PairedComparison | None:
    """A paired comparison document, or ``None`` for an absent one."""
    if raw is None:
        return None
    try:
        return PairedComparison.from_json(raw)
    except ValueError as exc:
        raise RunRecordError(f"{where}: {exc}.") from None


@dataclass(frozen=True)
class RowPredictions:
    """``test_predictions.json``: the model's answer for every scored test row.

    Optional in a run folder (runs saved before it was kept have none, and load as they
    are), read only when asked for (it grows with the test set), and checked against the
    run's other documents when read. The file holds four lists of equal length, one
    item per test row, in the order the rows were scored::

        {"row": [1204, ...], "true": ["b", ...], "predicted": ["t", ...],
         "confidence": [0.8123, ...]}

    Attributes
    ----------
    row : tuple of int
        The row's position in the ``frame`` of the dataset the run was trained on (the
        one whose fingerprint ``data.json`` holds); no position twice.
    true, predicted : tuple of str
        Label codes, each one of ``labels.json``'s classes.
    confidence : tuple of float
        The probability the model gave its predicted class, from 0 to 1.
    baseline : tuple of str, optional
        The TF-IDF baseline's label code for the same row (an optional fifth list,
        ``"baseline"``; ``None`` in runs saved before it was kept).
    """

    row: tuple[int, ...]
    true: tuple[str, ...]
    predicted: tuple[str, ...]
    confidence: tuple[float, ...]
    baseline: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def parse(cls, raw: Any, record: RunRecord) -> RowPredictions:
        """Parse and check ``raw`` against ``record``: one row per test row of its
        metrics, label codes among its classes; :class:`RunRecordError` otherwise."""
        reader = FieldReader(raw, "test_predictions.json")
        keys = ["row", "true", "predicted", "confidence"]
        keys += ["baseline"] if reader.has("baseline") else []  # optional: newer runs only
        columns = {key: reader.items(key) for key in keys}
        lengths = {len(values) for values in columns.values()}
        if lengths != {record.metrics.n_test}:
            raise RunRecordError(
                f"test_predictions.json: {', '.join(map(repr, columns))} must each hold one "
                f"item per test row ({record.metrics.n_test:,} in metrics.json)."
            )
        rows = columns["row"]
        if not all(type(n) is int and n >= 0 for n in rows) or len(set(rows)) != len(rows):
            raise RunRecordError(
                "test_predictions.json: 'row' must list distinct row positions (integers of "
                "at least 0)."
            )
        classes = set(record.labels.classes)
        for key in [key for key in ("true", "predicted", "baseline") if key in columns]:
            if not all(isinstance(code, str) and code in classes for code in columns[key]):
                raise RunRecordError(
                    f"test_predictions.json: {key!r} names a class that labels.json does not have."
                )
        confidence = columns["confidence"]
        if not all(
            type(p) in (int, float) and 0.0 <= p <= 1.0  # bool is not a probability
            for p in confidence
        ):
            raise RunRecordError(
                "test_predictions.json: 'confidence' must hold numbers from 0 to 1."
            )
        return cls(
            tuple(rows),
            tuple(columns["true"]),
            tuple(columns["predicted"]),
            tuple(float(p) for p in confidence),
            tuple(columns["baseline"]) if "baseline" in columns else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "row": list(self.row),
            "true": list(self.true),
            "predicted": list(self.predicted),
            "confidence": list(self.confidence),
            **({"baseline": list(self.baseline)} if self.baseline is not None else {}),
        }
