"""The evaluating phase of a training: the decision rule, then the test set.

After the fit, :func:`decision_rule` tunes the steps between the network and its
answer on the validation rows (the linear blend, :mod:`pipeline.training.blend`, and the
class-prior shift, :mod:`pipeline.training.prior_shift`); :func:`evaluate_test_set`
scores the test set (``metrics.json``, ``test_predictions.json``) and
:func:`collapse_note` warns when the model answers one class for (almost) every row.
:mod:`pipeline.training.train` runs them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from pipeline.core.config import ExperimentConfig
from pipeline.data.prepare import PreparedData
from pipeline.evaluation.metrics import evaluate_probabilities, row_predictions
from pipeline.models.features import encode, feature_shapes
from pipeline.training.batches import EncodedSplit
from pipeline.training.blend import (
    BLEND_FIT_STEP,
    LINEAR_CHARS,
    LINEAR_INPUT,
    Blend,
    blend_probabilities,
    blended_classifier,
    choose_blend_weight,
    fit_linear_part,
    has_blend,
    linear_inputs,
    with_linear_chars,
)
from pipeline.training.callbacks import RowsDone
from pipeline.training.fit import PREDICT_BATCH
from pipeline.training.prior_shift import PriorShift, apply_prior_shift, log_prior, tune_prior_shift

#: Reports rows done: ``on_rows(step, done, total, stoppable=False)`` (the training
#: session's ``rows``).
RowsListener = Callable[..., None]


@dataclass(frozen=True)
class DecisionRule:
    """What :func:`decision_rule` settled: the classifier to evaluate and save, the
    encoder in front of it and the splits as it reads them (both with the linear part's
    character n-grams on a small file), and the records of the blend and the shift
    (``None`` for a step that is off or does not apply)."""

    classifier: keras.Model
    encoder: keras.Model
    splits: dict[str, EncodedSplit]
    blend: Blend | None
    shift: PriorShift | None


def decision_rule(
    encoder: keras.Model,
    classifier: keras.Model,
    splits: dict[str, EncodedSplit],
    prepared: PreparedData,
    config: ExperimentConfig,
    on_rows: RowsListener,
    stop_event: threading.Event | None = None,
) -> DecisionRule:
    """The steps between the fit and the test set, both tuned on the validation rows:
    the linear blend (``model.blend="tuned"``, :mod:`pipeline.training.blend`) and then the
    class-prior shift (``train.prior_shift="tuned"``, :mod:`pipeline.training.prior_shift`).

    ``config`` is the run's; ``on_rows`` gets the validation rows scored (see
    :func:`predict_split`); a set ``stop_event`` ends the linear part's solver after its
    current step (the part so far is blended, its weight chosen as ever). On a small
    training set the linear part reads character n-grams the network does not: the
    encoder gains that output
    (:func:`~pipeline.training.blend.with_linear_chars`) and every split its ids.
    """
    blending = (
        config.model.blend == "tuned"
        and LINEAR_INPUT in classifier.input
        and not has_blend(classifier)  # a continued run keeps its parent's linear part
    )
    shifting = config.train.prior_shift == "tuned"
    if not (blending or shifting):
        return DecisionRule(classifier, encoder, splits, None, None)
    validation = splits["validation"]
    probabilities = predict_split(classifier, validation, "Validation set", on_rows)
    blend = None
    if blending:
        reads = linear_inputs(len(splits["train"]))
        if LINEAR_CHARS in reads:
            encoder = with_linear_chars(encoder, prepared.train["text"].tolist())
            chars_only = keras.Model(encoder.input, {LINEAR_CHARS: encoder.output[LINEAR_CHARS]})
            splits = {name: _with_chars(chars_only, split) for name, split in splits.items()}
            validation = splits["validation"]
        train = splits["train"]
        shapes = feature_shapes(encoder, config.model)
        vocabularies = {name: shape.vocabulary for name, shape in shapes.items()}
        linear_part = fit_linear_part(
            {name: train.inputs[name] for name in reads},
            train.y,
            len(prepared.classes),
            vocabularies,
            sample_weight=train.weights,
            stop_event=stop_event,
            on_step=lambda steps: on_rows(BLEND_FIT_STEP, steps, 0, stoppable=False, unit="steps"),
        )
        linear = linear_part.probabilities(validation.inputs)
        blend = choose_blend_weight(
            probabilities,
            linear,
            validation.y,
            balanced_target=config.data.test_set == "balanced",
            linear_part=linear_part,
        )
        classifier = blended_classifier(classifier, linear_part, blend.weight)
        probabilities = blend_probabilities(probabilities, linear, blend.weight)
    shift = None
    if shifting:
        shift = tune_prior_shift(
            probabilities,
            validation.y,
            log_prior(splits["train"].y, len(prepared.classes)),
            balanced_target=config.data.test_set == "balanced",
        )
        apply_prior_shift(classifier, shift)
    return DecisionRule(classifier, encoder, splits, blend, shift)


def _with_chars(chars_only: keras.Model, split: EncodedSplit) -> EncodedSplit:
    """``split`` with the :data:`LINEAR_CHARS` ids of its texts (its rows, in order), from
    ``chars_only``, the encoder cut to that output (the others are not computed)."""
    chars = encode(chars_only, split.texts)[LINEAR_CHARS]
    return dataclasses.replace(split, inputs={**split.inputs, LINEAR_CHARS: chars})


def predict_split(
    classifier: keras.Model, split: EncodedSplit, step: str, on_rows: RowsListener
) -> np.ndarray:
    """``classifier``'s probabilities on ``split``, reporting rows done as ``step``
    (``on_rows(step, done, total, stoppable=False)``: a split being scored is always
    scored to the end)."""
    rows = len(split.y)
    return classifier.predict(
        split.inputs,
        batch_size=PREDICT_BATCH,
        verbose=0,
        callbacks=[
            RowsDone(
                lambda batch: on_rows(
                    step, min((batch + 1) * PREDICT_BATCH, rows), rows, stoppable=False
                )
            )
        ],
    )


def evaluate_test_set(
    classifier: keras.Model, test: EncodedSplit, prepared: PreparedData, on_rows: RowsListener
) -> tuple[dict[str, Any], dict[str, list] | None]:
    """The test metrics (``metrics.json``) and every test row's prediction
    (``test_predictions.json``; ``None`` for data prepared by hand, whose rows are
    not known). ``on_rows`` gets the test rows scored (see :func:`predict_split`)."""
    probabilities = predict_split(classifier, test, "Test set", on_rows)
    metrics = evaluate_probabilities(
        test.y, probabilities, prepared.classes, prepared.label_names, test.texts
    )
    if prepared.test_rows is None or test.positions is None:
        return metrics, None
    dataset_rows = prepared.test_rows[test.positions]
    return metrics, row_predictions(dataset_rows, test.y, probabilities, prepared.classes)


def collapse_note(metrics: dict[str, Any], prepared: PreparedData) -> str | None:
    """A warning when the model predicts (almost) one class for every test row, from the
    test metrics being gathered for ``metrics.json`` (their ``confusion_matrix``, rows
    true classes); ``None`` when it does not."""
    matrix = np.asarray(metrics["confusion_matrix"]["matrix"], dtype=float)
    if matrix.size == 0 or matrix.sum() == 0 or len(prepared.classes) < 2:
        return None
    predicted = matrix.sum(axis=0)
    top = int(predicted.argmax())
    share = predicted[top] / predicted.sum()
    if share < 0.9 or (matrix.sum(axis=1)[top] / matrix.sum()) >= 0.9:
        return None
    name = prepared.label_names.get(prepared.classes[top], prepared.classes[top])
    return (
        f"The model predicts {name!r} for {share:.0%} of the test rows: it has collapsed to "
        "one class. Use class weights (balancing), more epochs or a higher learning rate."
    )
