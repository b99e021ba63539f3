"""The decision rule's records in ``metrics.json``, typed: ``blend`` and ``prior_shift``.

After the fit, a run's decision rule may be tuned on its validation rows: the network
blended with a linear part (:mod:`pipeline.training.blend`, recorded as
:class:`BlendRecord`) and each class's score shifted by a multiple of its log prior
(:mod:`pipeline.training.prior_shift`, recorded as :class:`PriorShiftRecord`). Both are
written by the training through these classes' ``to_json`` and read back into
:class:`~pipeline.runs.results.Metrics` through their ``parse`` (a wrong record is a
:class:`~pipeline.core.errors.RunRecordError` naming ``metrics.json`` and the key); runs
trained without them, or saved before they existed, have none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.errors import RunRecordError
from pipeline.runs.fields import FieldReader, number_at

#: The parts a blend's validation scores are kept for: the network alone, the linear
#: part alone, and the blend of the two.
BLEND_PARTS = ("network", "linear", "blend")
#: The linear part's input that reads character n-grams (beside the word pairs,
#: ``"ngrams"``): the encoder's output of that name (:mod:`pipeline.training.blend`).
CHARACTER_INPUT = "linear_chars"


@dataclass(frozen=True)
class BlendScores:
    """One part's scores on the validation rows (weighted to the test set's class mix)."""

    accuracy: float
    macro_f1: float
    log_loss: float

    @classmethod
    def parse(cls, reader: FieldReader) -> BlendScores:
        """The scores in ``reader``'s object: ``accuracy`` and ``macro_f1`` (0 to 1) and
        ``log_loss`` (a number of at least 0)."""
        accuracy, macro_f1 = reader.share("accuracy"), reader.share("macro_f1")
        log_loss = reader.number("log_loss")
        if log_loss < 0:
            raise RunRecordError(f"{reader.where}: 'log_loss' must be at least 0.")
        return cls(accuracy, macro_f1, log_loss)

    def to_json(self) -> dict[str, float]:
        """``{"accuracy", "macro_f1", "log_loss"}``, as ``metrics.json`` holds them."""
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1, "log_loss": self.log_loss}


@dataclass(frozen=True)
class BlendRecord:
    """``metrics.json``'s ``blend``: the network blended with a TF-IDF linear part.

    Attributes
    ----------
    network_weight : float
        The network's share of the blend, 0 to 1 (1: the network alone decides).
    linear_rows : int
        Training rows the linear part was fitted on.
    linear_seconds : float
        How long fitting it took.
    validation : dict of str to BlendScores
        The validation scores of each of :data:`BLEND_PARTS` (and any other part a
        newer version kept).
    linear_inputs : tuple of str, optional
        The encoder outputs the linear part reads (``"ngrams"``, the word pairs, and
        :data:`CHARACTER_INPUT`); ``None`` in runs saved before it was recorded (word
        pairs only).
    extra : dict
        Keys this version does not know, written back unchanged.
    """

    network_weight: float
    linear_rows: int
    linear_seconds: float
    validation: dict[str, BlendScores]
    linear_inputs: tuple[str, ...] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    _KNOWN = ("network_weight", "linear_rows", "linear_inputs", "linear_seconds", "validation")

    @property
    def reads_characters(self) -> bool:
        """Whether the linear part reads character n-grams beside the word pairs."""
        return CHARACTER_INPUT in (self.linear_inputs or ())

    @classmethod
    def parse(cls, raw: Any) -> BlendRecord:
        """Parse ``metrics.json``'s ``blend`` object; :class:`RunRecordError` naming the
        key otherwise."""
        reader = FieldReader(raw, "metrics.json blend")
        parts = reader.obj("validation")
        missing = [part for part in BLEND_PARTS if part not in parts.raw]
        if missing:
            raise RunRecordError(
                f"metrics.json blend: 'validation' must hold the scores of "
                f"{', '.join(BLEND_PARTS)} (missing {', '.join(missing)})."
            )
        inputs = None
        if reader.has("linear_inputs"):
            inputs = reader.items("linear_inputs")
            if not all(isinstance(name, str) and name for name in inputs):
                raise RunRecordError("metrics.json blend: 'linear_inputs' must list input names.")
        return cls(
            network_weight=reader.share("network_weight"),
            linear_rows=reader.integer("linear_rows"),
            linear_seconds=reader.number("linear_seconds"),
            validation={str(part): BlendScores.parse(parts.obj(part)) for part in parts.raw},
            linear_inputs=None if inputs is None else tuple(inputs),
            extra={key: value for key, value in raw.items() if key not in cls._KNOWN},
        )

    def to_json(self) -> dict[str, Any]:
        """The object ``metrics.json`` keeps under ``blend``."""
        inputs = {} if self.linear_inputs is None else {"linear_inputs": list(self.linear_inputs)}
        return {
            "network_weight": self.network_weight,
            "linear_rows": self.linear_rows,
            **inputs,
            "linear_seconds": self.linear_seconds,
            "validation": {part: scores.to_json() for part, scores in self.validation.items()},
            **self.extra,
        }


@dataclass(frozen=True)
class PriorShiftRecord:
    """``metrics.json``'s ``prior_shift``: each class's score shifted by ``tau`` times
    the log of its share of the training rows.

    Attributes
    ----------
    tau : float
        The multiple tuned on the validation rows (0: the trained scores decide).
    log_prior : tuple of float
        The log of each class's share of the training rows, in ``labels.json``'s order.
    validation_macro_f1_before, validation_macro_f1_after : float
        The validation macro F1 without the shift and with it.
    validation_accuracy_before, validation_accuracy_after : float, optional
        The same for accuracy; ``None`` in runs saved before it was recorded.
    extra : dict
        Keys this version does not know, written back unchanged.
    """

    tau: float
    log_prior: tuple[float, ...]
    validation_macro_f1_before: float
    validation_macro_f1_after: float
    validation_accuracy_before: float | None = None
    validation_accuracy_after: float | None = None
    extra: dict[str, object] = field(default_factory=dict)

    _KNOWN = (
        "tau",
        "log_prior",
        "validation_macro_f1_before",
        "validation_macro_f1_after",
        "validation_accuracy_before",
        "validation_accuracy_after",
    )

    @classmethod
    def parse(cls, raw: Any) -> PriorShiftRecord:
        """Parse ``metrics.json``'s ``prior_shift`` object; :class:`RunRecordError`
        naming the key otherwise."""
        reader = FieldReader(raw, "metrics.json prior_shift")
        log_prior = tuple(
            number_at(value, f"metrics.json prior_shift: 'log_prior' item {index}")
            for index, value in enumerate(reader.items("log_prior"), 1)
        )
        return cls(
            tau=reader.number("tau"),
            log_prior=log_prior,
            validation_macro_f1_before=reader.share("validation_macro_f1_before"),
            validation_macro_f1_after=reader.share("validation_macro_f1_after"),
            validation_accuracy_before=_opt_share(reader, "validation_accuracy_before"),
            validation_accuracy_after=_opt_share(reader, "validation_accuracy_after"),
            extra={key: value for key, value in raw.items() if key not in cls._KNOWN},
        )

    def to_json(self) -> dict[str, Any]:
        """The object ``metrics.json`` keeps under ``prior_shift`` (the accuracies only
        when recorded)."""
        accuracies = {
            name: value
            for name, value in (
                ("validation_accuracy_before", self.validation_accuracy_before),
                ("validation_accuracy_after", self.validation_accuracy_after),
            )
            if value is not None
        }
        return {
            "tau": self.tau,
            "log_prior": list(self.log_prior),
            "validation_macro_f1_before": self.validation_macro_f1_before,
            "validation_macro_f1_after": self.validation_macro_f1_after,
            **accuracies,
            **self.extra,
        }


def _opt_share(reader: FieldReader, key: str) -> float | None:
    """The share at ``key``, or ``None`` when absent or ``null``."""
    return reader.share(key) if reader.has(key) else None
