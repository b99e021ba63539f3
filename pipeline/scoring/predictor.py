"""Predictions from a saved run: one headline, a batch of thousands (or a whole table,
its columns kept), why, and how many of a text's words the run knows.

The loaded model is called through one ``tf.function`` with a fixed input
signature: ``model.predict`` pays about 160 ms of set-up on every call on this
CPU, the traced function a few milliseconds, which keeps the playground live.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from pipeline.core.errors import PredictionError
from pipeline.models.text import SEED_FILTERS, space_cjk, standardize
from pipeline.runs.registry import RunRegistry
from pipeline.scoring.summary import NOTE_EMPTY, NOTE_NO_KNOWN_WORD, NOTE_NO_WORDS

#: Rows per call of the model when scoring a batch.
PREDICT_CHUNK = 2048
#: Longest batch accepted by :meth:`Predictor.predict` in one call.
MAX_BATCH_ROWS = 200_000
_PLACEHOLDER = "unk"
#: Encoder layers whose vocabulary holds whole words (the n-gram one holds word pairs too).
_WORD_VECTORIZERS = ("word_vectorizer", "ngram_vectorizer")
#: The encoder layers that read character n-grams (the model sees an unknown word's
#: spelling): a family's own, or a blend's linear part's on a small file.
_CHAR_VECTORIZERS = ("char_vectorizer", "linear_char_vectorizer")

#: Added to a column name of :meth:`Predictor.score_table` that the file already uses.
COLLISION_SUFFIX = " (model)"


@dataclass(frozen=True)
class WordImportance:
    """How much the top class's log-odds drop when ``word`` is left out."""

    word: str
    importance: float


@dataclass(frozen=True)
class WordCoverage:
    """How many of a text's words the run's own vocabulary holds.

    A word outside the vocabulary reaches the model as the one "unknown" id, so a
    text none of whose words is known gets the model's guess for unknown text (its
    prior), not a reading of the text.

    Attributes
    ----------
    words : tuple of str
        The text's words as the model splits them (lower-cased, punctuation removed).
    unknown : tuple of str
        The distinct words not in the vocabulary, in text order.
    known_count : int
        How many of ``words`` (repeats counted) the vocabulary holds.
    reads_characters : bool
        The model also reads character n-grams, so it sees something of an unknown
        word's spelling.
    """

    words: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    known_count: int = 0
    reads_characters: bool = False

    @property
    def none_known(self) -> bool:
        """The text has words and none of them is in the vocabulary."""
        return bool(self.words) and self.known_count == 0

    @property
    def some_unknown(self) -> bool:
        """At least one word is known and at least one is not."""
        return 0 < self.known_count < len(self.words)


@dataclass(frozen=True)
class ScoredColumns:
    """The names of the columns :meth:`Predictor.score_table` adds to a file's own.

    Each is the plain name below unless the file already has a column of that name
    (or two classes share a display name); then :data:`COLLISION_SUFFIX` is added,
    with a number when needed, so no original column is ever replaced.

    Attributes
    ----------
    predicted : str
        ``"predicted"``: the predicted class's display name.
    predicted_code : str
        ``"predicted_code"``: its label code (as in the training file).
    confidence : str
        ``"confidence"``: the predicted class's probability.
    probabilities : dict
        Label code -> ``"probability: <display name>"``, in the model's class order.
    note : str
        ``"note"``: why a row was not scored, or why its guess is weak; empty otherwise.
    """

    predicted: str
    predicted_code: str
    confidence: str
    probabilities: dict[str, str]
    note: str

    @property
    def all(self) -> list[str]:
        """Every added column, in the order they follow the file's columns (the note
        before the probabilities, so it shows next to the prediction it explains)."""
        return [
            self.predicted,
            self.predicted_code,
            self.confidence,
            self.note,
            *self.probabilities.values(),
        ]


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
        self._vocabulary_lock = threading.Lock()
        self._vocabulary: _EncoderWords | None = None
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
        model = registry.load_saved_model(saved)
        return cls(model, run_id, list(saved.labels.classes), dict(saved.labels.names))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Float array ``(len(texts), len(classes))``; rows sum to 1."""
        texts = [_as_text(text) for text in texts]
        return self._probabilities(texts, standardize(texts))

    def _probabilities(self, texts: list[str], standardized: list[str]) -> np.ndarray:
        """:meth:`probabilities` of ``texts`` given their :func:`standardize` forms."""
        if len(texts) > MAX_BATCH_ROWS:
            raise PredictionError(
                f"{len(texts):,} rows is more than the {MAX_BATCH_ROWS:,} scored at once; "
                "split the file into smaller parts."
            )
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        # A text with no words would reach the LSTM as padding only, which the cuDNN
        # kernel rejects on a GPU; score a placeholder word instead (callers mask it).
        texts = [t if s.split() else _PLACEHOLDER for t, s in zip(texts, standardized)]
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
        return self._predict(texts, standardize(texts))

    def _predict(self, texts: list[str], standardized: list[str]) -> pd.DataFrame:
        """:meth:`predict` of ``texts`` given their :func:`standardize` forms (computed
        once per batch: a big file's hot path)."""
        probabilities = self._probabilities(texts, standardized)
        has_words = np.array([bool(s.split()) for s in standardized], dtype=bool)
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

    def scored_columns(self, existing: Iterable[object]) -> ScoredColumns:
        """The names :meth:`score_table` gives its added columns next to ``existing``."""
        taken = {str(name) for name in existing}

        def free(name: str) -> str:
            candidate, n = name, 1
            while candidate in taken:
                n += 1
                candidate = name + (COLLISION_SUFFIX if n == 2 else f" (model {n - 1})")
            taken.add(candidate)
            return candidate

        predicted, code, confidence = free("predicted"), free("predicted_code"), free("confidence")
        probabilities = {c: free(f"probability: {self.label_names[c]}") for c in self.classes}
        return ScoredColumns(predicted, code, confidence, probabilities, free("note"))

    def score_table(self, frame: pd.DataFrame, text_col: str) -> pd.DataFrame:
        """Every row and column of ``frame``, followed by the prediction for its ``text_col``.

        The added columns are named by :meth:`scored_columns`: the predicted class
        (display name and code), its confidence, a ``note``, and one probability per
        class named after the class. A row whose text is empty (or has only
        punctuation) is not scored: empty prediction cells and a note saying so. A
        row none of whose words was in the training vocabulary is scored, with a
        note that its guess is the model's prior.
        """
        if text_col not in frame.columns:
            columns = ", ".join(map(str, frame.columns))
            raise PredictionError(
                f"The file has no column {text_col!r} (its columns: {columns}); "
                "pick the column that holds the headlines."
            )
        texts = [_as_text(text) for text in frame[text_col].tolist()]
        standardized = standardize(texts)
        scored = self._predict(texts, standardized)
        names = self.scored_columns(frame.columns)
        notes = [
            NOTE_EMPTY if not text.strip() else (NOTE_NO_WORDS if not label else "")
            for text, label in zip(texts, scored["label"], strict=True)
        ]
        encoder = self._word_vocabulary()
        if encoder.holds_words:
            words_of = (
                encoder.split_standardized(standardized)
                if encoder.filters == SEED_FILTERS
                else encoder.split_all(texts)
            )
            known = encoder.known(word for words in words_of for word in words)
            for i, words in enumerate(words_of):
                if not notes[i] and known.isdisjoint(words):
                    notes[i] = NOTE_NO_KNOWN_WORD
        added = pd.DataFrame(
            {
                names.predicted: scored["label_name"].to_numpy(),
                names.predicted_code: scored["label"].to_numpy(),
                names.confidence: scored["confidence"].to_numpy(),
                names.note: notes,
                **{
                    column: scored[f"p_{code}"].to_numpy()
                    for code, column in names.probabilities.items()
                },
            }
        )
        return pd.concat([frame.reset_index(drop=True), added], axis=1)

    def word_coverage(self, text: str) -> WordCoverage:
        """Which of ``text``'s words the run's vocabulary holds (see :class:`WordCoverage`).

        Words are split as the run's own encoder splits them; a word is known when
        the word vectorizer (or the n-gram vectorizer, whose vocabulary also holds
        single words) has an id for it. A model with no word vocabulary reports
        every word as known: it makes no claim it cannot check.
        """
        encoder = self._word_vocabulary()
        words = tuple(encoder.split(_as_text(text)))
        if not encoder.holds_words:
            return WordCoverage(words, (), len(words), encoder.reads_characters)
        known_words = encoder.known(words)
        known = [word in known_words for word in words]
        unknown = tuple(dict.fromkeys(w for w, ok in zip(words, known, strict=True) if not ok))
        return WordCoverage(words, unknown, sum(known), encoder.reads_characters)

    def _word_vocabulary(self) -> _EncoderWords:
        """The run's encoder's words and split, read from its layers once (lazily:
        loading a model stays as fast as before)."""
        with self._vocabulary_lock:
            if self._vocabulary is None:
                self._vocabulary = _encoder_words(self._model)
            return self._vocabulary

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
        words = self._word_vocabulary().words_as_written(_as_text(text))
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
        words = self._word_vocabulary().words_as_written(_as_text(text))
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


@dataclass(frozen=True)
class _EncoderWords:
    """What a run's encoder knows of words: its vocabulary and how it splits a text."""

    vectorizers: tuple[keras.layers.Layer, ...]  # empty: no layer holds whole words
    reads_characters: bool
    filters: str
    splits_on_spaces: bool  # the seed vectorizer splits on single spaces only
    split_cjk: bool = False  # each Chinese or Japanese character is a word

    @property
    def holds_words(self) -> bool:
        return bool(self.vectorizers)

    def known(self, words: Iterable[str]) -> frozenset[str]:
        """Which of ``words`` (already split) a vectorizer has an id for: each word looked
        up as a text of its own (its first id is its own; 0 is padding, 1 unknown).
        Cheaper than reading a vocabulary of 600,000 n-grams into a set (1.9 s)."""
        distinct = list(dict.fromkeys(words))
        if not distinct:
            return frozenset()
        batch = tf.constant(distinct)
        found = np.zeros(len(distinct), dtype=bool)
        for vectorizer in self.vectorizers:
            found |= np.asarray(vectorizer(batch))[:, 0] > 1
        return frozenset(word for word, ok in zip(distinct, found, strict=True) if ok)

    def split(self, text: str) -> list[str]:
        """``text``'s words as the encoder sees them (standardized, then split)."""
        return self.split_all([text])[0]

    def split_all(self, texts: Sequence[str]) -> list[list[str]]:
        """:meth:`split` of each text, standardized in one call (a batch's hot path)."""
        return self.split_standardized(standardize(texts, self.filters))

    def words_as_written(self, text: str) -> list[str]:
        """``text``'s words as written (case and punctuation kept), cut where the encoder
        cuts: at whitespace, and around each Chinese or Japanese character when it splits
        those. A word left out of ``text`` leaves the encoder's other words as they were."""
        return (space_cjk(text) if self.split_cjk else text).split()

    def split_standardized(self, standardized: Sequence[str]) -> list[list[str]]:
        """The words of texts already standardized with :attr:`filters` (and not yet
        spaced around Chinese and Japanese characters: done here when the encoder does)."""
        if self.split_cjk:
            standardized = [space_cjk(text) for text in standardized]
        if self.splits_on_spaces:
            return [[word for word in text.split(" ") if word] for text in standardized]
        return [text.split() for text in standardized]


def _encoder_words(model: keras.Model) -> _EncoderWords:
    """The :class:`_EncoderWords` of an end-to-end model (or of an encoder itself)."""
    try:
        encoder = model.get_layer("encoder")
    except ValueError:
        encoder = model
    layers = {layer.name: layer for layer in encoder.layers}
    vectorizers = tuple(layers[name] for name in _WORD_VECTORIZERS if name in layers)
    on_spaces = any(
        layer.get_config().get("split") not in ("whitespace", None) for layer in vectorizers
    )
    standardizer = layers.get("standardize")
    return _EncoderWords(
        vectorizers=vectorizers,
        reads_characters=any(name in layers for name in _CHAR_VECTORIZERS),
        filters=str(getattr(standardizer, "filters", SEED_FILTERS)),
        splits_on_spaces=on_spaces,
        split_cjk=bool(getattr(standardizer, "split_cjk", False)),
    )


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)
