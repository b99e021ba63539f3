"""A run's epochs, typed: one :class:`EpochRow` per object of ``history.json``.

``history.json`` is a list, one object per epoch: ``epoch`` (1, 2, …), every metric
Keras logged for it (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, an
ensemble's per-output losses, ...), ``learning_rate``, ``seconds``, and the flags
``partial`` (a Stop cut the epoch short) and ``best`` (the epoch whose weights the run
keeps). :func:`parse_history` reads it through :meth:`EpochRow.parse`, which checks every
field, and :meth:`EpochRow.to_json` writes each row back as it was read; the training
builds the same rows as its epochs end (:mod:`pipeline.training.callbacks`), so one type
travels from the fit through the progress events to the saved run and the pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.core.errors import RunRecordError
from pipeline.runs.fields import FieldReader, kind_of, number_at

#: A history row's flags, in the order training writes them (after every metric).
FLAGS = ("partial", "best")


@dataclass(frozen=True)
class EpochRow:
    """One epoch of a run's history.

    Attributes
    ----------
    epoch : int
        The epoch's number, from 1 (a continued run goes on from its parent's).
    metrics : dict of str to float or None
        Every numeric field of the row but ``epoch``, in the order written: the Keras
        logs, ``learning_rate`` and ``seconds`` (``None`` where the file holds ``null``).
        :attr:`loss`, :attr:`val_loss`, ... read the common ones.
    partial : bool
        A Stop cut the epoch short: it trained on part of the epoch and validated on a
        batch or so, so its scores say little.
    best : bool
        The epoch whose weights the run keeps.
    keys : tuple of str
        The row's keys as ``history.json`` held them, in order (empty for a row made by
        the training): :meth:`to_json` writes them back in that order, a flag written
        ``false`` included. Not compared.
    """

    epoch: int
    metrics: dict[str, float | None] = field(default_factory=dict)
    partial: bool = False
    best: bool = False
    keys: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def loss(self) -> float | None:
        """The training loss (the mean over the epoch's batches), if logged."""
        return self.metrics.get("loss")

    @property
    def accuracy(self) -> float | None:
        """The training accuracy, if logged."""
        return self.metrics.get("accuracy")

    @property
    def val_loss(self) -> float | None:
        """The validation loss, if the epoch was validated."""
        return self.metrics.get("val_loss")

    @property
    def val_accuracy(self) -> float | None:
        """The validation accuracy, if the epoch was validated."""
        return self.metrics.get("val_accuracy")

    @property
    def learning_rate(self) -> float | None:
        """The optimizer's learning rate at the epoch's end, if recorded."""
        return self.metrics.get("learning_rate")

    @property
    def seconds(self) -> float | None:
        """How long the epoch took (training and validation), if recorded."""
        return self.metrics.get("seconds")

    @property
    def diverged(self) -> bool:
        """The training loss became NaN or infinite."""
        return self.loss is not None and not math.isfinite(self.loss)

    def metric(self, name: str) -> float | None:
        """The value of metric ``name`` (any key of :attr:`metrics`), ``None`` without it."""
        return self.metrics.get(name)

    def marked_best(self, best: bool) -> EpochRow:
        """This row with the ``best`` flag set or cleared (a cleared flag is left out of
        :meth:`to_json`, as if it had never been written)."""
        keys = self.keys if best else tuple(key for key in self.keys if key != "best")
        return replace(self, best=best, keys=keys)

    @classmethod
    def parse(cls, raw: Any, index: int) -> EpochRow:
        """Parse the ``index``-th (from 1) object of ``history.json``.

        ``raw`` must be an object whose ``epoch`` is ``index``, whose flags are
        ``true``/``false`` and whose other values are numbers (or ``null``);
        :class:`RunRecordError` names the epoch and the key otherwise.
        """
        reader = FieldReader(raw, f"history.json epoch {index}")
        if reader.integer("epoch", minimum=1) != index:
            raise RunRecordError(f"history.json: epoch {index} is numbered {raw['epoch']}.")
        flags = {flag: reader.flag(flag) for flag in FLAGS}
        metrics: dict[str, float | None] = {}
        for key, value in raw.items():
            if key != "epoch" and key not in FLAGS:
                if value is not None:  # checked, and kept as written (an int stays one)
                    number_at(value, f"history.json epoch {index} {key!r}")
                metrics[str(key)] = value
        return cls(index, metrics, keys=tuple(map(str, raw)), **flags)

    def to_json(self) -> dict[str, Any]:
        """The row as ``history.json`` holds it: the keys read, in their order (a row made
        by the training: ``epoch``, the metrics, then the flags that are set)."""
        values: dict[str, Any] = {"epoch": self.epoch, **self.metrics}
        values.update(partial=self.partial, best=self.best)
        order = [key for key in self.keys if key in values]
        order += [key for key in values if key not in order]
        return {
            key: values[key] for key in order if key not in FLAGS or values[key] or key in self.keys
        }


def parse_history(raw: Any) -> tuple[EpochRow, ...]:
    """``history.json`` (a list, one object per epoch, numbered 1, 2, …) as its rows;
    :class:`RunRecordError` names the epoch and the field of a wrong one."""
    if not isinstance(raw, list):
        raise RunRecordError(f"history.json must be a list of epochs, not {kind_of(raw)}.")
    return tuple(EpochRow.parse(row, index) for index, row in enumerate(raw, 1))


def history_json(history: tuple[EpochRow, ...] | list[EpochRow]) -> list[dict[str, Any]]:
    """``history`` as ``history.json`` holds it (:meth:`EpochRow.to_json` of each row)."""
    return [row.to_json() for row in history]
