"""A saved run's files, typed: one dataclass per JSON file, parsed and checked here.

A run folder holds ``model.keras`` and six JSON documents (see
:mod:`pipeline.runs.registry`; the optional ``training_state.h5`` and ``logs/`` are not
documents and are never required; nor is ``test_predictions.json``, the per-row test
predictions, read only on demand through :class:`RowPredictions`). Every document is read
through :meth:`RunRecord.parse` (on load, on import) and written through
:meth:`RunRecord.documents` (on save), so the registry, the CLI and the pages read
attributes, never ``.get()`` chains, and a document of the wrong shape is a
:class:`~pipeline.core.errors.RunRecordError` that names the file and the field, never an
``AttributeError`` later.

Schema versions: ``run.json`` carries ``schema_version``. Version 1 is what
Headline Lab wrote before the version existed (its ``run.json`` also repeated
the preset and the family, which are read from ``config.json`` now); it loads as
it is. A version newer than :data:`SCHEMA_VERSION` is refused with a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# MIN_TEST_ROWS_PER_CLASS is re-exported: Results and the CLI read it from here.
from pipeline.data.class_sizes import MIN_TEST_ROWS_PER_CLASS as MIN_TEST_ROWS_PER_CLASS
from pipeline.data.class_sizes import thin_classes
from pipeline.core.config import ExperimentConfig
from pipeline.core.errors import ConfigError, RunRecordError
from pipeline.evaluation.paired import PairedComparison

#: The version :meth:`RunRecord.documents` writes into ``run.json``.
SCHEMA_VERSION = 2
RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")
RunStatus = Literal["complete", "stopped"]
#: Where a run came from: trained by this server (the only runs the cache serves), or
#: imported from an archive.
RunOrigin = Literal["trained", "imported"]
_STATUSES = ("complete", "stopped")
#: How a continued run's optimizer started: from its parent's ``training_state.h5``, or
#: fresh (the parent had none usable: saved before it was kept, or imported).
OptimizerState = Literal["restored", "fresh"]
_OPTIMIZER_STATES = ("restored", "fresh")
_ORIGINS = ("trained", "imported")


# ---------------------------------------------------------------------------
# Field readers: each names the file and the field when the value is wrong.
# ---------------------------------------------------------------------------


class _Reader:
    """Typed access to one JSON object of one file, with messages that say where."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise RunRecordError(f"{where} must be a JSON object, not {_kind(raw)}.")
        self.raw = raw
        self.where = where

    def _fail(self, key: str, wanted: str) -> RunRecordError:
        return RunRecordError(
            f"{self.where}: {key!r} must be {wanted} (found {_kind(self.raw.get(key))})."
        )

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] is not None

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else None

    def integer(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"an integer of at least {minimum}")
        return value

    def opt_integer(self, key: str, minimum: int = 0) -> int | None:
        return self.integer(key, minimum=minimum) if self.has(key) else None

    def number(self, key: str, default: float | None = None) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, "a number")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        return self.number(key) if self.has(key) else None

    def share(self, key: str) -> float:
        value = self.number(key)
        if not 0.0 <= value <= 1.0:
            raise self._fail(key, "a number from 0 to 1")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def obj(self, key: str, default: Any = None) -> _Reader:
        value = self.raw.get(key, default)
        if not isinstance(value, dict):
            raise self._fail(key, "a JSON object")
        return _Reader(value, f"{self.where} {key}")

    def items(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise RunRecordError(
                f"{self.where}: {key!r} must be one of {', '.join(choices)} (found {value!r})."
            )
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RunRecordError(f"{where} must be a number (found {_kind(value)}).")
    return float(value)


# ---------------------------------------------------------------------------
# One dataclass per file.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedSettings:
    """Settings the training decided ("auto" made concrete), saved for the record.

    ``optimizer_state`` is set on a continued run only: ``"restored"`` when it went on
    from its parent's saved optimizer state, ``"fresh"`` when the parent had none
    usable; ``None`` for a run that continues nothing, and in runs saved before it
    was recorded.
    """

    sequence_length: int | None
    vocabulary_size: int | None
    ngram_vocabulary_size: int | None
    precision: str
    batch_size: int
    optimizer_state: OptimizerState | None = None

    @classmethod
    def parse(cls, reader: _Reader) -> ResolvedSettings:
        return cls(
            sequence_length=reader.opt_integer("sequence_length", minimum=1),
            vocabulary_size=reader.opt_integer("vocabulary_size", minimum=1),
            ngram_vocabulary_size=reader.opt_integer("ngram_vocabulary_size", minimum=1),
            precision=reader.text("precision"),
            batch_size=reader.integer("batch_size", minimum=1),
            optimizer_state=reader.choice("optimizer_state", _OPTIMIZER_STATES)  # type: ignore[arg-type]
            if reader.has("optimizer_state")
            else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence_length": self.sequence_length,
            "vocabulary_size": self.vocabulary_size,
            "ngram_vocabulary_size": self.ngram_vocabulary_size,
            "precision": self.precision,
            "batch_size": self.batch_size,
            "optimizer_state": self.optimizer_state,
        }


@dataclass(frozen=True)
class RunConfig:
    """``config.json``: the experiment's settings, the run it continues, and what
    "auto" settings resolved to."""

    experiment: ExperimentConfig
    parent_run_id: str | None
    resolved: ResolvedSettings

    @property
    def family(self) -> str:
        return self.experiment.model.family

    @property
    def preset(self) -> str:
        return self.experiment.preset

    @classmethod
    def parse(cls, raw: Any) -> RunConfig:
        reader = _Reader(raw, "config.json")
        try:
            experiment = ExperimentConfig.from_dict(
                {k: v for k, v in raw.items() if k not in {"parent_run_id", "resolved"}}
            ).validate()
        except (ConfigError, TypeError, ValueError) as exc:
            raise RunRecordError(f"config.json: {exc}") from exc
        parent = reader.opt_text("parent_run_id")
        if parent is not None and not RUN_ID_PATTERN.match(parent):
            raise RunRecordError("config.json: 'parent_run_id' is not a run id.")
        return cls(experiment, parent, ResolvedSettings.parse(reader.obj("resolved")))

    def to_json(self) -> dict[str, Any]:
        return {
            **self.experiment.to_dict(),
            "parent_run_id": self.parent_run_id,
            "resolved": self.resolved.to_json(),
        }


@dataclass(frozen=True)
class Labels:
    """``labels.json``: the class codes in the model's output order, and their names."""

    classes: tuple[str, ...]
    names: dict[str, str]

    def name(self, code: str) -> str:
        """The display name of ``code`` (the code itself when it has none)."""
        return self.names.get(code, code)

    @classmethod
    def parse(cls, raw: Any) -> Labels:
        reader = _Reader(raw, "labels.json")
        classes = reader.items("classes")
        if len(classes) < 2 or not all(isinstance(c, str) and c for c in classes):
            raise RunRecordError("labels.json: 'classes' must list at least two class names.")
        if len(set(classes)) != len(classes):
            raise RunRecordError("labels.json: 'classes' names a class twice.")
        names = reader.obj("names", {}).raw
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in names.items()):
            raise RunRecordError("labels.json: 'names' must map class codes to names.")
        return cls(tuple(classes), {c: names.get(c, c) for c in classes})

    def to_json(self) -> dict[str, Any]:
        return {"classes": list(self.classes), "names": dict(self.names)}


#: A history row's fields that are not metrics.
_HISTORY_FLAGS = ("best", "partial")


def parse_history(raw: Any) -> tuple[dict[str, Any], ...]:
    """``history.json``: one row per epoch, ``epoch`` 1, 2, … with numeric metrics and
    the flags ``best`` / ``partial``; rows are returned as read (dicts, for charts)."""
    if not isinstance(raw, list):
        raise RunRecordError(f"history.json must be a list of epochs, not {_kind(raw)}.")
    rows = []
    for index, row in enumerate(raw, 1):
        reader = _Reader(row, f"history.json epoch {index}")
        if reader.integer("epoch", minimum=1) != index:
            raise RunRecordError(f"history.json: epoch {index} is numbered {row['epoch']}.")
        for key, value in row.items():
            if key in _HISTORY_FLAGS:
                reader.flag(key)
            elif key != "epoch" and value is not None:
                _number(value, f"history.json epoch {index} {key!r}")
        rows.append(dict(row))
    return tuple(rows)


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
    )

    def thin_classes(self) -> dict[str, int]:
        """``{code: test rows}`` of the classes with fewer than
        :data:`~pipeline.data.class_sizes.MIN_TEST_ROWS_PER_CLASS` test rows, fewest first
        (:func:`pipeline.data.class_sizes.thin_classes`, the rule Prepare and Train warn by)."""
        return thin_classes({code: scores.support for code, scores in self.per_class.items()})

    @classmethod
    def parse(cls, raw: Any) -> Metrics:
        reader = _Reader(raw, "metrics.json")
        per_class = {}
        for code, row in reader.obj("per_class").raw.items():
            scores = _Reader(row, f"metrics.json per_class {code!r}")
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
            item = _Reader(row, f"metrics.json misclassified row {index + 1}")
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
class DataRecord:
    """``data.json``: which data the run saw (its fingerprint) and what cleaning,
    balancing and splitting did to it (``summary``: counts by step, as
    :mod:`pipeline.data.prepare` reports them)."""

    fingerprint: str
    dataset: str
    text_col: str
    label_col: str
    summary: dict[str, Any]

    @property
    def notes(self) -> list[str]:
        """Warnings from preparing the data (e.g. classes dropped as too small)."""
        notes = self.summary.get("notes") or []
        return [str(note) for note in notes] if isinstance(notes, list) else []

    @classmethod
    def parse(cls, raw: Any) -> DataRecord:
        reader = _Reader(raw, "data.json")
        fixed = ("fingerprint", "dataset", "text_col", "label_col")
        return cls(
            *(reader.text(key) for key in fixed),
            summary={k: v for k, v in raw.items() if k not in fixed},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "dataset": self.dataset,
            "text_col": self.text_col,
            "label_col": self.label_col,
            **self.summary,
        }


@dataclass(frozen=True)
class RunInfo:
    """``run.json``: the run's id, how it ended, when, how long, where and from where."""

    run_id: str
    status: RunStatus
    created_at: str
    duration_s: float
    device: str
    dataset: str
    best_epoch: int | None
    samples_per_second: float | None
    versions: dict[str, str]
    origin: RunOrigin = "trained"
    #: Who may see the run in the app: ``None`` for everyone (runs on the bundled data,
    #: the CLI's, any run in team mode), else the hash of one browser session's key.
    owner: str | None = None
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def parse(cls, raw: Any) -> RunInfo:
        reader = _Reader(raw, "run.json")
        version = reader.integer("schema_version", default=1, minimum=1)
        if version > SCHEMA_VERSION:
            raise RunRecordError(
                f"run.json: saved by a newer Headline Lab (schema {version}; this one reads "
                f"up to {SCHEMA_VERSION}); update Headline Lab to open it."
            )
        run_id = reader.text("run_id")
        if not RUN_ID_PATTERN.match(run_id):
            raise RunRecordError("run.json: 'run_id' is not a run id (16 hexadecimal digits).")
        versions = reader.obj("versions", {}).raw
        return cls(
            run_id=run_id,
            status=reader.choice("status", _STATUSES),  # type: ignore[arg-type]
            created_at=reader.text("created_at"),
            duration_s=reader.number("duration_s", 0.0),
            device=reader.text("device", ""),
            dataset=reader.text("dataset", ""),
            best_epoch=reader.opt_integer("best_epoch", minimum=1),
            samples_per_second=reader.opt_number("samples_per_second"),
            versions={str(k): str(v) for k, v in versions.items()},
            origin=reader.choice("origin", _ORIGINS, default="trained"),  # type: ignore[arg-type]
            owner=reader.opt_text("owner"),
            schema_version=version,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "status": self.status,
            "origin": self.origin,
            "owner": self.owner,
            "created_at": self.created_at,
            "duration_s": self.duration_s,
            "device": self.device,
            "dataset": self.dataset,
            "best_epoch": self.best_epoch,
            "samples_per_second": self.samples_per_second,
            "versions": dict(self.versions),
        }


@dataclass(frozen=True)
class RunRecord:
    """Every JSON document of one run, parsed."""

    config: RunConfig
    labels: Labels
    history: tuple[dict[str, Any], ...]
    metrics: Metrics
    data: DataRecord
    run: RunInfo

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @classmethod
    def parse(cls, documents: Mapping[str, Any]) -> RunRecord:
        """Parse ``{"config.json": obj, ...}``; :class:`RunRecordError` names what is wrong,
        including documents that disagree (classes, epochs)."""
        record = cls(
            config=RunConfig.parse(documents["config.json"]),
            labels=Labels.parse(documents["labels.json"]),
            history=parse_history(documents["history.json"]),
            metrics=Metrics.parse(documents["metrics.json"]),
            data=DataRecord.parse(documents["data.json"]),
            run=RunInfo.parse(documents["run.json"]),
        )
        if set(record.metrics.confusion_matrix.labels) - set(record.labels.classes):
            raise RunRecordError("metrics.json names classes that labels.json does not have.")
        best = record.run.best_epoch
        if best is not None and best > len(record.history):
            raise RunRecordError(
                f"run.json: best epoch {best} is past the {len(record.history)} epochs of "
                "history.json."
            )
        return record

    def documents(self) -> dict[str, Any]:
        """The JSON documents to write, by file name."""
        return {
            "config.json": self.config.to_json(),
            "labels.json": self.labels.to_json(),
            "history.json": [dict(row) for row in self.history],
            "metrics.json": self.metrics.to_json(),
            "data.json": self.data.to_json(),
            "run.json": self.run.to_json(),
        }


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
        reader = _Reader(raw, "test_predictions.json")
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
