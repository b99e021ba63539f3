"""Label review settings: how a review is computed, and the choices each setting offers.

:class:`ReviewSettings` is part of a review's cache key
(:func:`pipeline.review.cache.review_key`). The defaults are the settings that found the
most planted label flips in ``benchmarks/label_review.py`` (its results are in
``benchmarks/results/``): the ensemble beat each of its parts, the ``accurate`` preset's
neural model (word and character n-gram bags) beat the ``fast`` one's (word n-grams alone)
at about three times its training time, and self-confidence beat cleanlab's other two
scores. Importing this module is cheap (the command line builds its flags from
:class:`ReviewSettings`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pipeline.core.errors import ConfigError
from pipeline.core.settings import coerce, declared, setting, validate_fields

#: Folds of the cross-validation, and its bounds.
DEFAULT_FOLDS, MIN_FOLDS, MAX_FOLDS = 5, 2, 20
#: What produces the out-of-sample probabilities.
REVIEW_MODELS: dict[str, str] = {
    "ensemble": "TF-IDF + logistic regression and the neural model, probabilities averaged",
    "neural": "the neural model alone",
    "tfidf": "TF-IDF + logistic regression alone (the quickest)",
}
#: The model parts of each choice of ``ReviewSettings.models``, in the order they train.
MODEL_PARTS: dict[str, tuple[str, ...]] = {
    "ensemble": ("tfidf", "neural"),
    "neural": ("neural",),
    "tfidf": ("tfidf",),
}
#: Presets whose neural model a review can train.
NEURAL_PRESETS: dict[str, str] = {
    "accurate": "the accurate preset's word and character n-gram bags",
    "fast": "the fast preset's word n-gram bag (about a third of the neural time)",
}
#: ``cleanlab.rank.get_label_quality_scores`` methods offered.
QUALITY_METHODS: dict[str, str] = {
    "self_confidence": "the probability of the given label",
    "normalized_margin": "the given label's probability minus the best other class's",
    "confidence_weighted_entropy": "self-confidence divided by the probabilities' entropy",
}


def _described(choices: dict[str, str]) -> str:
    return "; ".join(f"{name}: {text}" for name, text in choices.items())


@dataclass(frozen=True)
class ReviewSettings:
    """How a label review is computed; part of its cache key."""

    folds: int = setting(
        DEFAULT_FOLDS, "int", "Folds",
        "Cross-validation folds: each row is scored by models trained on the other folds.",
        minimum=MIN_FOLDS, maximum=MAX_FOLDS, step=1, example=str(DEFAULT_FOLDS),
    )  # fmt: skip
    seed: int = setting(
        42, "int", "Review seed", "Seed of the folds and of the neural model's training.",
        minimum=0, maximum=2**31 - 1, step=1, example="42",
    )  # fmt: skip
    models: str = setting(
        "ensemble", "choice", "Models", _described(REVIEW_MODELS),
        choices=tuple(REVIEW_MODELS), choice_labels=REVIEW_MODELS, example="ensemble",
    )  # fmt: skip
    neural_preset: str = setting(
        "accurate", "choice", "Neural model", _described(NEURAL_PRESETS),
        choices=tuple(NEURAL_PRESETS), choice_labels=NEURAL_PRESETS, example="accurate",
    )  # fmt: skip
    quality_method: str = setting(
        "self_confidence", "choice", "Label quality",
        "How cleanlab scores a label from the probabilities: " + _described(QUALITY_METHODS),
        choices=tuple(QUALITY_METHODS), choice_labels=QUALITY_METHODS,
        example="self_confidence",
    )  # fmt: skip
    epochs: int = setting(
        10, "int", "Neural epochs (at most)",
        "Epoch budget of the neural model in each fold; early stopping may end it sooner.",
        minimum=1, maximum=100, step=1, example="10",
    )  # fmt: skip

    def validate(self) -> ReviewSettings:
        """Raise :class:`~pipeline.core.errors.ConfigError` naming the first bad value; return
        ``self``."""
        validate_fields(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every setting."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ReviewSettings:
        """Settings by name, e.g. strings from a command line (converted and checked by
        their declarations; ``None`` keeps the default), validated.

        Raises :class:`~pipeline.core.errors.ConfigError` for an unknown name or a bad value.
        """
        known = dict(declared(cls))
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ConfigError(f"Unknown review setting {unknown[0]!r}; known: {', '.join(known)}.")
        values = {
            name: coerce(name, known[name], value)
            for name, value in raw.items()
            if value is not None
        }
        return cls(**values).validate()
