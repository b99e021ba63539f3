"""Predictions from a saved run: one headline, a batch of thousands, and why.

The loaded model is called through one ``tf.function`` with a fixed input
signature: ``model.predict`` pays about 160 ms of set-up on every call on this
CPU, the traced function a few milliseconds, which keeps the playground live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from pipeline.errors import PredictionError
from pipeline.registry import RunRegistry
from pipeline.text import standardize

#: Rows per call of the model when scoring a batch.
PREDICT_CHUNK = 2048
#: Longest batch accepted by :meth:`Predictor.predict` in one call.
MAX_BATCH_ROWS = 200_000
_PLACEHOLDER = "unk"


@dataclass(frozen=True)
class WordImportance:
    """How much the top class's log-odds drop when ``word`` is left out."""

    word: str
    importance: float


class Predictor:
    """Class probabilities for raw texts from one saved run.

    Attributes
    ----------
    run_id : str
    classes : list of str
        Label codes in the model's output order.
    label_names : dict
        Display name of each code.
    """

    def __init__(self, model: keras.Model, run_id: str, classes: list[str], names: dict):
        self.run_id = run_id
        self.classes = list(classes)
        self.label_names = {code: names.get(code, code) for code in self.classes}
        self._model = model
        self._serve = tf.function(
            lambda texts: model(texts, training=False),
            input_signature=[tf.TensorSpec(shape=(None, 1), dtype=tf.string)],
            reduce_retracing=True,
        )

    @property
    def model(self) -> keras.Model:
        """The loaded end-to-end model (raw strings ``(batch, 1)`` -> probabilities)."""
        return self._model

    @classmethod
    def from_run(cls, registry: RunRegistry, run_id: str) -> Predictor:
        """Load ``run_id``'s model (``safe_mode=True``) and labels."""
        saved = registry.get(run_id)
        model = registry.load_model(run_id)
        return cls(model, run_id, list(saved.labels.classes), dict(saved.labels.names))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Float array ``(len(texts), len(classes))``; rows sum to 1."""
        texts = [_as_text(text) for text in texts]
        if len(texts) > MAX_BATCH_ROWS:
            raise PredictionError(
                f"{len(texts):,} rows is more than the {MAX_BATCH_ROWS:,} scored at once; "
                "split the file into smaller parts."
            )
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        # A text with no words would reach the LSTM as padding only, which the cuDNN
        # kernel rejects on a GPU; score a placeholder word instead (callers mask it).
        texts = [t if s.split() else _PLACEHOLDER for t, s in zip(texts, standardize(texts))]
        chunks = [
            self._serve(tf.constant([[t] for t in texts[i : i + PREDICT_CHUNK]])).numpy()
            for i in range(0, len(texts), PREDICT_CHUNK)
        ]
        return np.concatenate(chunks)

    def predict(self, texts: Sequence[str]) -> pd.DataFrame:
        """One row per text: ``text, label, label_name, confidence, p_<code>...``.

        Texts with no words (empty after standardization) get label ``""`` and
        NaN probabilities instead of a guess.
        """
        texts = [_as_text(text) for text in texts]
        probabilities = self.probabilities(texts)
        has_words = np.array([bool(s.split()) for s in standardize(texts)], dtype=bool)
        top = probabilities.argmax(axis=1) if len(texts) else np.zeros(0, dtype=int)
        labels = [self.classes[i] if ok else "" for i, ok in zip(top, has_words)]
        frame = pd.DataFrame(
            {
                "text": texts,
                "label": labels,
                "label_name": [self.label_names.get(code, "") for code in labels],
                "confidence": np.where(has_words, probabilities.max(axis=1, initial=0.0), np.nan),
            }
        )
        for i, code in enumerate(self.classes):
            frame[f"p_{code}"] = np.where(has_words, probabilities[:, i], np.nan)
        return frame

    def predict_one(self, text: str) -> dict[str, float]:
        """``{display name: probability}`` for one text, most likely first."""
        if not standardize([_as_text(text)])[0].split():
            raise PredictionError("Type a headline with at least one word to get a prediction.")
        row = self.probabilities([text])[0]
        order = np.argsort(-row)
        return {self.label_names[self.classes[i]]: float(row[i]) for i in order}

    def explain(self, text: str) -> tuple[dict[str, float], list[WordImportance]]:
        """:meth:`predict_one` and :meth:`word_importance` of ``text`` from one batched
        model call (the text and its leave-one-word-out variants)."""
        if not standardize([_as_text(text)])[0].split():
            raise PredictionError("Type a headline with at least one word to get a prediction.")
        words = _as_text(text).split()
        variants = [" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))]
        scores = self.probabilities([text, *variants])
        order = np.argsort(-scores[0])
        probabilities = {self.label_names[self.classes[i]]: float(scores[0][i]) for i in order}
        return probabilities, _importance(words, scores)

    def word_importance(self, text: str) -> list[WordImportance]:
        """Leave-one-word-out importance of each word of ``text``, in text order.

        ``importance`` is the drop in the predicted class's log-odds,
        ``log(p / (1 - p))``, when the word is removed: positive words pushed
        towards the prediction, negative ones against it. Log-odds rather than
        probabilities, because a confident prediction (p = 0.999) barely moves in
        probability when one word goes, yet clearly does in log-odds. All variants
        are scored in one batched call.
        """
        words = _as_text(text).split()
        if not words:
            raise PredictionError("Type a headline with at least one word to explain it.")
        variants = [" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))]
        return _importance(words, self.probabilities([text, *variants]))


def _importance(words: list[str], scores: np.ndarray) -> list[WordImportance]:
    """Each word's drop in the predicted class's log-odds without it; ``scores``: the
    text's probabilities, then those of each variant without one word, in order."""
    top = int(scores[0].argmax())
    p = np.clip(scores[:, top].astype(np.float64), 1e-7, 1 - 1e-7)
    log_odds = np.log(p / (1 - p))
    drops = log_odds[0] - log_odds[1:]
    return [WordImportance(w, float(d)) for w, d in zip(words, drops, strict=True)]


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)
