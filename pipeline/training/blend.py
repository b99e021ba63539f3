"""The blend after training: the network beside a TF-IDF logistic regression on the same
n-gram ids, their log-probabilities averaged with a weight picked on validation rows.

Why: an n-gram bag learns its embeddings from the training rows, and on the files users
bring (a few thousand rows, tens of imbalanced classes) a linear model over TF-IDF
features is often as strong or stronger. Their errors differ, and a weighted geometric
mean of the two beats either one; on the bundled data the network carries the blend.
Measured over three split seeds (``benchmarks/models.py --tasks``, the README's table).

The steps, all after ``fit``:

1. :func:`fit_linear_part`: IDF weights from the training rows' n-gram ids (n-grams in
   fewer than :data:`MIN_DOCUMENT_FREQUENCY` rows get none, as the baseline's
   ``min_df=2``), then the baseline's logistic regression
   (:data:`~pipeline.training.regression.REGRESSION_SETTINGS`) on the L2-normalised TF-IDF
   rows (:func:`tfidf_matrix`), class-weighted exactly when the network's loss is; on at
   most :data:`LINEAR_ROWS` training rows (an even sample beyond, to bound its time on
   large files where the network carries the blend);
2. :func:`choose_blend_weight`: the network's share ``w`` in ``0, 0.1, .., 1`` with the
   lowest validation log loss of ``softmax(w log p_network + (1 - w) log p_linear)``,
   weighted to the test set's class mix;
3. :func:`blended_classifier`: the classifier with
:class:`~pipeline.models.linear.TfIdfLinear`
   and :class:`~pipeline.models.linear.LogBlend` added, the weights set: one Keras model,
   saved inside the run's single ``.keras`` file.

The TF-IDF + logistic regression *baseline* shown beside a run is untouched: it is
fitted on its own, with its own tokenizer, in its own process (:mod:`pipeline.training.baseline`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import scipy.sparse
from sklearn.metrics import accuracy_score, f1_score, log_loss

from pipeline.models.features import (
    VECTORIZERS,
    char_ngram_vectorizer,
    even_sample,
    with_output,
)
from pipeline.models.linear import LogBlend, TfIdfLinear
from pipeline.runs.decision import CHARACTER_INPUT, BlendRecord, BlendScores
from pipeline.training.regression import solve_regression

#: The input the linear part always reads (word 1-2 gram ids; see
#: :mod:`pipeline.models.features`), and the character n-grams it reads on small files.
LINEAR_INPUT, LINEAR_CHARS = "ngrams", CHARACTER_INPUT
#: Most training rows at which the linear part reads character 3-5 grams too. On small
#: files they carry what the few words cannot (a word seen once, its stem seen often);
#: measured over three split seeds, TF-IDF + logistic regression on words and characters
#: against words alone: +2.8 to +5.1 points of accuracy on 1,000-row files, +1.5 to
#: +3.6 on 3,000 rows, +2.7 to +3.0 on 10,000 rows of 40 publishers. On large files
#: the network carries the blend and counting characters would cost the job seconds.
LINEAR_CHAR_ROWS = 20_000
#: Vocabulary of the linear part's character n-grams: its kernel is ``(vocabulary,
#: classes)`` floats in the saved model. 10,000 to 30,000 and all of them scored the same.
LINEAR_CHAR_TOKENS = 30_000
#: N-grams in fewer training rows than this get no weight (the baseline's ``min_df``).
MIN_DOCUMENT_FREQUENCY = 2
#: Most training rows the linear part is fitted on: an even sample beyond. Its solver's
#: time grows with the rows, and where a file has this many the network carries the blend.
LINEAR_ROWS = 50_000
#: The progress step of the linear part's fit (its solver's steps are counted).
BLEND_FIT_STEP = "Blend: n-gram regression"
#: The network's shares tried.
WEIGHTS: tuple[float, ...] = tuple(round(w, 1) for w in np.linspace(0.0, 1.0, 11))


@dataclass(frozen=True)
class LinearPart:
    """A fitted linear part: per input it reads, ``idf`` ``(vocabulary,)`` and ``coef``
    ``(classes, vocabulary)``; one ``intercept`` ``(classes,)``; the rows it was fitted
    on. Each input's TF-IDF rows are normalised on their own and the logits summed: a
    regression on the inputs' features side by side."""

    idf: dict[str, np.ndarray]
    coef: dict[str, np.ndarray]
    intercept: np.ndarray
    rows: int
    seconds: float
    #: Newton steps the solver took, and whether it reached its optimum (``False`` when a
    #: stop ended it first).
    solver_steps: int = 0
    converged: bool = True

    @property
    def inputs(self) -> tuple[str, ...]:
        """The encoder outputs it reads, e.g. ``("ngrams", "linear_chars")``."""
        return tuple(self.idf)

    def logits(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Class logits ``(rows, classes)`` of id arrays ``(rows, length)`` by input name."""
        logits = sum(
            tfidf_matrix(inputs[name], self.idf[name]) @ self.coef[name].T for name in self.idf
        )
        return np.asarray(logits + self.intercept, dtype=np.float64)

    def probabilities(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Class probabilities ``(rows, classes)`` of id arrays by input name."""
        return _softmax(self.logits(inputs))


def linear_inputs(train_rows: int) -> tuple[str, ...]:
    """The inputs the linear part reads on a training set of ``train_rows`` rows."""
    return (LINEAR_INPUT, LINEAR_CHARS) if train_rows <= LINEAR_CHAR_ROWS else (LINEAR_INPUT,)


def with_linear_chars(encoder: keras.Model, train_texts: list[str]) -> keras.Model:
    """``encoder`` with a :data:`LINEAR_CHARS` output: character 3-5 grams of a
    :data:`LINEAR_CHAR_TOKENS` vocabulary counted on ``train_texts``, as many ids per
    row as the encoder's own character output would have."""
    sequence_length = int(encoder.output[LINEAR_INPUT].shape[1]) // 2
    vectorizer = char_ngram_vectorizer(
        train_texts,
        encoder.get_layer("standardize"),
        LINEAR_CHAR_TOKENS,
        sequence_length,
        VECTORIZERS[LINEAR_CHARS],
    )
    return with_output(encoder, LINEAR_CHARS, vectorizer)


@dataclass(frozen=True)
class Blend:
    """The chosen blend: the network's share ``weight`` and the validation scores of the
    network alone, the linear part alone and the blend."""

    weight: float
    linear_rows: int
    linear_seconds: float
    validation: dict[str, dict[str, float]]
    linear_inputs: tuple[str, ...] = (LINEAR_INPUT,)

    def record(self) -> BlendRecord:
        """The record kept in ``metrics.json`` under ``blend`` (scores to 6 decimals)."""
        return BlendRecord(
            network_weight=self.weight,
            linear_rows=self.linear_rows,
            linear_seconds=round(self.linear_seconds, 2),
            validation={
                part: BlendScores(**{name: round(value, 6) for name, value in scores.items()})
                for part, scores in self.validation.items()
            },
            linear_inputs=tuple(self.linear_inputs),
        )

    def to_json(self) -> dict[str, object]:
        """:meth:`record` as ``metrics.json`` holds it."""
        return self.record().to_json()


def document_frequency_idf(ids: np.ndarray, vocabulary: int) -> np.ndarray:
    """Smoothed IDF ``log((1 + n) / (1 + df)) + 1`` of every id (as scikit-learn's
    ``TfidfVectorizer``), from the training rows' ids ``(rows, length)``; 0 for padding
    (0), the unknown id (1) and ids in fewer than :data:`MIN_DOCUMENT_FREQUENCY` rows."""
    rows = len(ids)
    # A copy of the ids: scipy keeps the index array it is given and sorts it in place.
    present = scipy.sparse.csr_matrix(
        (np.ones(ids.size, dtype=np.float32), ids.ravel().copy(), _row_starts(ids)),
        shape=(rows, vocabulary),
    )
    present.sum_duplicates()
    present.data[:] = 1.0
    df = np.asarray(present.sum(axis=0)).ravel()
    idf = np.log((1.0 + rows) / (1.0 + df)) + 1.0
    idf[df < MIN_DOCUMENT_FREQUENCY] = 0.0
    idf[:2] = 0.0
    return idf.astype(np.float32)


def tfidf_matrix(ids: np.ndarray, idf: np.ndarray) -> scipy.sparse.csr_matrix:
    """The linear part's features of ids ``(rows, length)``: ``(rows, vocabulary)``, each
    occurrence of an id counting its ``idf``, each row divided by its Euclidean norm (the
    same numbers :class:`~pipeline.models.linear.TfIdfLinear` computes in the model)."""
    values = idf[ids].astype(np.float64)
    norms = np.sqrt((values**2).sum(axis=1, keepdims=True))
    values = values / np.maximum(norms, 1e-12)
    matrix = scipy.sparse.csr_matrix(
        (values.ravel(), ids.ravel().copy(), _row_starts(ids)), shape=(len(ids), len(idf))
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def fit_linear_part(
    inputs: dict[str, np.ndarray],
    labels: np.ndarray,
    num_classes: int,
    vocabularies: dict[str, int],
    sample_weight: np.ndarray | None = None,
    stop_event: threading.Event | None = None,
    on_step: Callable[[int], None] | None = None,
) -> LinearPart:
    """Fit the linear part on training rows.

    Parameters
    ----------
    inputs : dict of str to int array, shape (rows, length)
        The training rows' ids of each input the part reads (:func:`linear_inputs`).
    labels : int array, shape (rows,)
        Their class indices.
    num_classes : int
        Classes of the model.
    vocabularies : dict of str to int
        Distinct ids of each input.
    sample_weight : float array, shape (rows,), optional
        Each row's loss weight (the network's class weights).
    stop_event : threading.Event, optional
        When set, the solver ends after its current Newton step and the part fitted so
        far is returned (``converged`` false).
    on_step : callable, optional
        Called with the solver's steps so far (0 first, then after each step): on many
        classes each takes seconds (200 classes, 12,000 rows: 5-10 s, 8 steps).

    Returns
    -------
    LinearPart
    """
    started = time.perf_counter()
    positions = np.asarray(even_sample(np.arange(len(labels)), LINEAR_ROWS))
    labels = labels[positions]
    weights = None if sample_weight is None else sample_weight[positions]
    idf, columns, blocks = {}, {}, []
    for name, ids in inputs.items():
        ids = ids[positions]
        idf[name] = document_frequency_idf(ids, vocabularies[name])
        # Only the n-grams with a weight are the regression's features: on a small file
        # most of the vocabulary is in one row only.
        columns[name] = np.flatnonzero(idf[name])
        blocks.append(tfidf_matrix(ids, idf[name])[:, columns[name]])
    features = scipy.sparse.hstack(blocks, format="csr")
    coef = {name: np.zeros((num_classes, vocabularies[name]), dtype=np.float32) for name in inputs}
    intercept = np.full(num_classes, -30.0, dtype=np.float32)  # a class it never saw
    present = np.unique(labels)
    steps, converged = 0, True
    if len(present) == 1:
        intercept[present[0]] = 0.0
    else:
        model, steps, converged = solve_regression(
            features, labels, sample_weight=weights, stop_event=stop_event, on_step=on_step
        )
        rows = model.coef_ if len(present) > 2 else _binary(model.coef_)
        start = 0
        for name in inputs:
            width = len(columns[name])
            coef[name][np.ix_(model.classes_, columns[name])] = rows[:, start : start + width]
            start += width
        intercept[model.classes_] = (
            model.intercept_ if len(present) > 2 else _binary(model.intercept_)
        )
    return LinearPart(
        idf, coef, intercept, len(labels), time.perf_counter() - started, steps, converged
    )


def _binary(values: np.ndarray) -> np.ndarray:
    """Scikit-learn's one row of a two-class model as two rows of logits."""
    return np.concatenate([-values / 2.0, values / 2.0])


def blend_probabilities(network: np.ndarray, linear: np.ndarray, weight: float) -> np.ndarray:
    """``softmax(weight * log network + (1 - weight) * log linear)``, row by row."""
    scores = weight * np.log(np.clip(network, 1e-12, None)) + (1.0 - weight) * np.log(
        np.clip(linear, 1e-12, None)
    )
    return _softmax(scores)


def choose_blend_weight(
    network: np.ndarray,
    linear: np.ndarray,
    labels: np.ndarray,
    *,
    balanced_target: bool,
    linear_part: LinearPart,
    weights: tuple[float, ...] = WEIGHTS,
) -> Blend:
    """The network's share with the lowest validation log loss.

    Parameters
    ----------
    network, linear : float arrays, shape (rows, classes)
        The validation rows' probabilities from each part.
    labels : int array, shape (rows,)
        The validation rows' class indices.
    balanced_target : bool
        Weigh every class equally (a balanced test set) instead of the rows' own mix.
    linear_part : LinearPart
        The fitted part (its size and time are recorded).
    weights : tuple of float
        The shares tried; ties go to the larger share.
    """
    classes = network.shape[1]
    row_weights = None
    if balanced_target:
        counts = np.maximum(np.bincount(labels, minlength=classes), 1)
        row_weights = (len(labels) / (classes * counts))[labels]

    def loss(weight: float) -> float:
        blended = blend_probabilities(network, linear, weight)
        return float(
            log_loss(labels, blended, labels=list(range(classes)), sample_weight=row_weights)
        )

    losses = {weight: loss(weight) for weight in weights}
    best = min(sorted(weights, reverse=True), key=lambda weight: losses[weight])

    def scores(probabilities: np.ndarray) -> dict[str, float]:
        predicted = probabilities.argmax(axis=1)
        return {
            "accuracy": float(accuracy_score(labels, predicted, sample_weight=row_weights)),
            "macro_f1": float(
                f1_score(labels, predicted, average="macro", sample_weight=row_weights)
            ),
        }

    validation = {
        "network": {**scores(network), "log_loss": losses[1.0] if 1.0 in losses else loss(1.0)},
        "linear": {**scores(linear), "log_loss": losses[0.0] if 0.0 in losses else loss(0.0)},
        "blend": {**scores(blend_probabilities(network, linear, best)), "log_loss": losses[best]},
    }
    return Blend(best, linear_part.rows, linear_part.seconds, validation, linear_part.inputs)


def blended_classifier(
    classifier: keras.Model, linear_part: LinearPart, weight: float
) -> keras.Model:
    """``classifier`` with the linear part beside it and the two blended: a new model on
    the same inputs and layers (and an input of its own for each input only the linear
    part reads), whose output is :class:`LogBlend` of both parts."""
    num_classes = len(linear_part.intercept)
    inputs = dict(classifier.input)
    logits = []
    for name in linear_part.inputs:
        if name not in inputs:
            inputs[name] = keras.Input(shape=(None,), dtype="int64", name=name)
        # The word part keeps the layer name runs saved before character parts had.
        layer_name = "linear_logits" if name == LINEAR_INPUT else f"linear_logits_{name}"
        layer = TfIdfLinear(len(linear_part.idf[name]), num_classes, name=layer_name)
        logits.append(layer(inputs[name]))
        bias = linear_part.intercept if name == LINEAR_INPUT else np.zeros(num_classes, "float32")
        layer.set_weights([linear_part.idf[name], linear_part.coef[name].T, bias])
    summed = logits[0] if len(logits) == 1 else keras.layers.Add(name="linear_sum")(logits)
    linear = keras.layers.Activation("softmax", dtype="float32", name="linear_probabilities")(
        summed
    )
    blend_layer = LogBlend(num_classes, name="blend")
    blended = blend_layer([classifier.output, linear])
    blend_layer.set_weights([np.float32(weight), np.zeros(num_classes, dtype=np.float32)])
    return keras.Model(inputs, blended, name="classifier")


def has_blend(classifier: keras.Model) -> bool:
    """Whether ``classifier`` already holds a linear part (a run continued from a
    blended one: its parent's part and weight stay)."""
    return any(isinstance(layer, LogBlend) for layer in classifier.layers)


def _row_starts(ids: np.ndarray) -> np.ndarray:
    """CSR row pointers of a dense ``(rows, length)`` id matrix: every row ``length`` long."""
    return np.arange(0, ids.size + 1, max(ids.shape[1], 1))[: len(ids) + 1]


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)
