"""One fold of a label review: a model part trained on the fold's training rows predicts
its held-out rows.

The parts are the TF-IDF + logistic-regression baseline
(:func:`pipeline.training.baseline.baseline_pipeline`) and a preset's neural model
(:func:`neural_config`), trained as a run is (:func:`pipeline.training.fit.fit_classifier`)
on a short epoch budget, stopping early on a tenth of the fold's training rows.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

from pipeline.core.config import ExperimentConfig, resolve_learning_rate
from pipeline.core.presets import PRESETS
from pipeline.core.progress import ProgressEvent, describe_fit_epoch
from pipeline.review.progress import (
    PART_NAMES,
    ReviewListener,
    ReviewProgress,
    check_stop,
    seconds_since,
)

if TYPE_CHECKING:
    import numpy as np

    from pipeline.review.settings import ReviewSettings

#: Share of a fold's training rows the neural model stops early on.
EARLY_STOPPING_SHARE = 0.1

# Keras' global seed is shared by everything that trains in this process.
_NEURAL_LOCK = threading.Lock()


def neural_config(settings: ReviewSettings) -> ExperimentConfig:
    """``settings.neural_preset``'s model, trained for at most ``settings.epochs``
    epochs with ``settings.seed``, in float32; its other settings the preset's."""
    return (
        PRESETS[settings.neural_preset]
        .with_overrides(epochs=settings.epochs, train_seed=settings.seed, mixed_precision="off")
        .validate()
    )


class FoldFit:
    """One fold: the rows to train on and the rows to predict, for either model part."""

    def __init__(
        self,
        train_texts: list[str],
        train_labels: np.ndarray,
        held_out_texts: list[str],
        num_classes: int,
        settings: ReviewSettings,
        fold: int,
        notify: ReviewListener,
        stop_event: threading.Event,
        started: float,
    ) -> None:
        self.train_texts, self.train_labels = train_texts, train_labels
        self.held_out_texts = held_out_texts
        self.num_classes = num_classes
        self.settings, self.fold = settings, fold
        self.notify, self.stop_event, self.started = notify, stop_event, started

    def predict(self, part: str) -> np.ndarray:
        """``(held-out rows, classes)`` probabilities of model ``part``."""
        return self._tfidf() if part == "tfidf" else self._neural()

    def _tfidf(self) -> np.ndarray:
        import numpy as np

        from pipeline.training.baseline import baseline_pipeline, fit_baseline

        model = fit_baseline(
            baseline_pipeline(), self.train_texts, self.train_labels, stop_event=self.stop_event
        )
        self._check_stop()  # a stop ended the solver: its model is not used
        found = model.predict_proba(self.held_out_texts)
        # A class with no training row in this fold has no column: probability 0.
        out = np.zeros((len(self.held_out_texts), self.num_classes))
        out[:, model.classes_] = found
        return out

    def _neural(self) -> np.ndarray:
        import keras
        import numpy as np

        from pipeline.models import build_classifier, compile_for_training
        from pipeline.models.features import build_encoder, encode, feature_shapes, splits_cjk
        from pipeline.models.text import choose_sequence_length
        from pipeline.training.fit import PREDICT_BATCH, fit_classifier

        config = neural_config(self.settings)
        fit_texts, fit_labels, early_texts, early_labels = self._early_stopping_split()
        with _NEURAL_LOCK:
            keras.utils.set_random_seed(self.settings.seed + self.fold)
            length = config.model.sequence_length or choose_sequence_length(
                fit_texts, splits_cjk(config.model)
            )
            encoder = build_encoder(
                fit_texts, config.model, length, on_rows=lambda *_: self._check_stop()
            )
            shapes = feature_shapes(encoder, config.model)
            classifier = build_classifier(config.model, shapes, self.num_classes)
            fit_model = compile_for_training(
                classifier,
                config.model,
                resolve_learning_rate(
                    config.model.learning_rate, config.train.batch_size, len(fit_texts)
                ),
            )
            train = self._encoded(encoder, fit_texts, fit_labels)
            early = self._encoded(encoder, early_texts, early_labels)
            self._check_stop()
            fit_classifier(
                fit_model,
                train,
                early if len(early) else train,
                config.train,
                notify=self._on_fit_event,
                stop_event=self.stop_event,
                started=self.started,
                outputs=list(fit_model.output) if isinstance(fit_model.output, dict) else None,
            )
            self._check_stop()
            inputs = encode(encoder, self.held_out_texts, on_rows=lambda _: self._check_stop())
            # Called eagerly batch by batch: model.predict traces a new function for every
            # fold's new model, and TensorFlow warns about retracing from the fifth on.
            found = [
                np.asarray(classifier(batch, training=False), dtype=float)
                for batch in _batches(inputs, PREDICT_BATCH)
            ]
        return np.concatenate(found) if found else np.zeros((0, self.num_classes))

    def _encoded(self, encoder: Any, texts: list[str], labels: np.ndarray) -> Any:
        """``texts`` and class indices as a :class:`~pipeline.training.batches.EncodedSplit`,
        without the rows that vectorize to nothing (they would train on padding alone)."""
        import pandas as pd

        from pipeline.models.features import encode
        from pipeline.training.batches import encode_split

        return encode_split(
            pd.DataFrame({"text": texts, "label": labels}),
            lambda batch: encode(encoder, batch),
            list(range(self.num_classes)),
            None,
        )

    def _early_stopping_split(self) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
        """The fold's training rows cut in two: to fit on, and a tenth to stop early on."""
        import numpy as np

        rows = len(self.train_texts)
        order = np.random.default_rng(self.settings.seed + self.fold).permutation(rows)
        cut = rows - max(1, math.ceil(rows * EARLY_STOPPING_SHARE))
        fit, early = order[:cut], order[cut:]
        texts = np.asarray(self.train_texts, dtype=object)
        return (
            list(texts[fit]),
            self.train_labels[fit],
            list(texts[early]),
            self.train_labels[early],
        )

    def _on_fit_event(self, event: ProgressEvent) -> None:
        if event.kind not in {"batch", "epoch"}:
            return
        folds = self.settings.folds
        self.notify(
            ReviewProgress(
                "neural",
                self.fold,
                folds,
                f"Fold {self.fold} of {folds}: {PART_NAMES['neural']}, {describe_fit_epoch(event)}",
                seconds_since(self.started),
                # a batch event belongs to an epoch still running
                epoch=event.epoch if event.kind == "epoch" else event.epoch - 1,
                epochs=event.epochs,
                batch=event.batch,
                batches=event.batches,
            )
        )

    def _check_stop(self) -> None:
        check_stop(self.stop_event, f"in fold {self.fold} of {self.settings.folds}")


def _batches(inputs: dict[str, np.ndarray], size: int) -> list[dict[str, np.ndarray]]:
    """``inputs`` (arrays of equal length) cut into batches of at most ``size`` rows."""
    rows = len(next(iter(inputs.values())))
    return [
        {name: ids[start : start + size] for name, ids in inputs.items()}
        for start in range(0, rows, size)
    ]
