"""A saved run's files, typed: one dataclass per JSON file, parsed and checked here.

A run folder holds ``model.keras`` and six JSON documents (see
:mod:`pipeline.runs.files`; the optional ``training_state.h5`` and ``logs/`` are not
documents and are never required; nor is ``test_predictions.json``, the per-row test
predictions, read only on demand through :class:`~pipeline.runs.results.RowPredictions`).
Every document is read through :meth:`RunRecord.parse` (on load, on import) and written
through :meth:`RunRecord.documents` (on save), so the registry, the CLI and the pages read
attributes, never ``.get()`` chains, and a document of the wrong shape is a
:class:`~pipeline.core.errors.RunRecordError` that names the file and the field, never an
``AttributeError`` later.

This module holds the record (:class:`RunRecord`) and the documents that say what the run
is: its settings (``config.json``), classes (``labels.json``), data (``data.json``, whose
preparation summary :mod:`pipeline.runs.preparation` reads) and identity (``run.json``).
What the run gave is parsed by :mod:`pipeline.runs.history` (``history.json``) and
:mod:`pipeline.runs.results` (``metrics.json`` and
:class:`~pipeline.runs.results.RowPredictions`); each field is read by
:class:`~pipeline.runs.fields.FieldReader`.

Schema versions: ``run.json`` carries ``schema_version``. Version 1 is what
Headline Lab wrote before the version existed (its ``run.json`` also repeated
the preset and the family, which are read from ``config.json`` now); it loads as
it is. A version newer than :data:`SCHEMA_VERSION` is refused with a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.core.config import ExperimentConfig
from pipeline.core.errors import ConfigError, RunRecordError
from pipeline.core.preparation import PreparationSummary
from pipeline.runs.fields import FieldReader
from pipeline.runs.history import EpochRow, history_json, parse_history
from pipeline.runs.preparation import IDENTITY_KEYS, parse_preparation_summary
from pipeline.runs.results import Metrics

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
    def parse(cls, reader: FieldReader) -> ResolvedSettings:
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
        reader = FieldReader(raw, "config.json")
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
        reader = FieldReader(raw, "labels.json")
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


@dataclass(frozen=True)
class DataRecord:
    """``data.json``: which data the run saw (its fingerprint, file and columns) and what
    cleaning, balancing and splitting did to it (``summary``: rows and classes through
    every step, split sizes, class weights, notes; the same
    :class:`~pipeline.core.preparation.PreparationSummary` :mod:`pipeline.data.prepare`
    gives, read by :func:`~pipeline.runs.preparation.parse_preparation_summary`)."""

    fingerprint: str
    dataset: str
    text_col: str
    label_col: str
    summary: PreparationSummary

    @property
    def notes(self) -> tuple[str, ...]:
        """Warnings from preparing the data (e.g. classes dropped as too small)."""
        return self.summary.notes

    @classmethod
    def parse(cls, raw: Any) -> DataRecord:
        """Parse ``data.json``; :class:`RunRecordError` names the key of a wrong value."""
        reader = FieldReader(raw, "data.json")
        return cls(
            *(reader.text(key) for key in IDENTITY_KEYS),
            summary=parse_preparation_summary(reader),
        )

    def to_json(self) -> dict[str, Any]:
        """``data.json`` as read: the fingerprint and columns, then the summary's keys in
        the order read."""
        return {
            "fingerprint": self.fingerprint,
            "dataset": self.dataset,
            "text_col": self.text_col,
            "label_col": self.label_col,
            **self.summary.to_json(),
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
        reader = FieldReader(raw, "run.json")
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
    history: tuple[EpochRow, ...]
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
        shift = record.metrics.prior_shift
        if shift is not None and len(shift.log_prior) != len(record.labels.classes):
            raise RunRecordError(
                f"metrics.json prior_shift: 'log_prior' must hold one number per class of "
                f"labels.json ({len(record.labels.classes)}, found {len(shift.log_prior)})."
            )
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
            "history.json": history_json(self.history),
            "metrics.json": self.metrics.to_json(),
            "data.json": self.data.to_json(),
            "run.json": self.run.to_json(),
        }
