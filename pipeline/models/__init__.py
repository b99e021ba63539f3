"""Model families: each one a function ``build(config, features, num_classes) -> keras.Model``.

A family reads one or both of the inputs the text encoder (:mod:`pipeline.models.features`)
produces from raw strings:

``words``
    word ids ``(batch, sequence_length)``, padded (0) on the right or the left;
``ngrams``
    word 1-2 gram ids ``(batch, 2 * sequence_length)``, padded (0) on the right;
``chars``
    character 3-5 gram ids ``(batch, 18 * sequence_length)``, padded (0) on the right.

Every builder returns the trainable *classifier*: a ``keras.Model`` whose inputs
are a dict of those int tensors and whose output is class probabilities
``(batch, num_classes)`` in float32 (also under mixed precision). The names and
one-line descriptions live in :data:`pipeline.core.config.MODEL_FAMILIES`, so pages
can list them without importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import tensorflow as tf

from pipeline.core.config import MODEL_FAMILIES, ModelConfig
from pipeline.models import bag, convolutional, ensemble, recurrent, wide_deep
from pipeline.models.optimizers import build_optimizer


@dataclass(frozen=True)
class FeatureShape:
    """One encoder output: ids per row (``length``) and distinct ids (``vocabulary``)."""

    length: int
    vocabulary: int


Builder = Callable[[ModelConfig, dict[str, FeatureShape], int], keras.Model]

#: Family name -> (the encoder outputs it reads, its builder).
FAMILIES: dict[str, tuple[tuple[str, ...], Builder]] = {
    "ngram_bag": (("ngrams",), bag.build),
    "ngram_ensemble": (("ngrams", "chars"), ensemble.build),
    "wide_deep": (("words", "ngrams"), wide_deep.build),
    "cnn": (("words",), convolutional.build),
    "bigru": (("words",), recurrent.build_bigru),
    "lstm": (("words",), recurrent.build_lstm),
}
assert list(FAMILIES) == list(MODEL_FAMILIES), "pipeline.core.config.MODEL_FAMILIES is out of step"


def family_inputs(family: str) -> tuple[str, ...]:
    """The encoder outputs family ``family`` reads, e.g. ``("words", "ngrams")``."""
    return FAMILIES[family][0]


def build_classifier(
    config: ModelConfig, features: dict[str, FeatureShape], num_classes: int
) -> keras.Model:
    """The trainable model of ``config.family``: dict of int ids -> probabilities."""
    return FAMILIES[config.family][1](config, features, num_classes)


def compile_for_training(
    classifier: keras.Model, config: ModelConfig, learning_rate: float | None = None
) -> keras.Model:
    """Compile the model ``fit`` trains, and return it.

    The optimizer ``config`` names (:func:`~pipeline.models.optimizers.build_optimizer`),
    at ``learning_rate`` (by default ``config.learning_rate``), and sparse categorical
    cross-entropy on integer labels, accuracy as metric. For most families that is the
    classifier itself. The ensemble trains a model with one output per head, each head
    on its own loss (weights summing to 1) and the averaged probabilities scored for
    accuracy; it shares every layer with the classifier, so the classifier is trained too.

    The optimizer is built, the accuracy made and (for the ensemble) a first loss computed
    here, so that ``fit`` creates no variable while TensorFlow traces its first step: a
    traced function that creates variables is traced twice (Keras builds them lazily
    without a distribution strategy).
    """
    optimizer = build_optimizer(config, learning_rate)
    layer_names = {layer.name for layer in classifier.layers}
    if layer_names.issuperset(ensemble.HEADS):
        trainer = ensemble.training_model(classifier)
        share = 1.0 / len(ensemble.HEADS)
        trainer.compile(
            optimizer=optimizer,
            loss={name: "sparse_categorical_crossentropy" for name in trainer.output},
            loss_weights={
                name: share if name in ensemble.HEADS else 0.0 for name in trainer.output
            },
            metrics={"probabilities": [_accuracy()]},
        )
        optimizer.build(trainer.trainable_variables)
        _make_loss_trackers(trainer)
        return trainer
    classifier.compile(
        optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=[_accuracy()]
    )
    optimizer.build(classifier.trainable_variables)
    return classifier


def _make_loss_trackers(trainer: keras.Model) -> None:
    """Compute one loss on a blank row now: Keras makes a model's per-output loss trackers
    with its first loss (``fit`` resets them before its first epoch). Under a distribution
    strategy Keras builds them itself before the first trace."""
    if tf.distribute.has_strategy():
        return
    blank = {
        name: keras.ops.zeros((1, output.shape[-1])) for name, output in trainer.output.items()
    }
    trainer.compute_loss(y={name: keras.ops.zeros((1,), "int32") for name in blank}, y_pred=blank)


def _accuracy() -> keras.metrics.Metric:
    """The accuracy, made now (``"accuracy"`` would be made during ``fit``'s first trace)."""
    return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
