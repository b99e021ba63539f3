"""The tuned class-prior shift: its choice on validation rows, the layers it moves,
and the setting that turns it on."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from pipeline.core.config import ExperimentConfig
from pipeline.core.presets import SEED_PRESET, get_preset
from pipeline.models import FAMILIES, FeatureShape, build_classifier
from pipeline.training.prior_shift import (
    TAUS,
    PriorShift,
    apply_prior_shift,
    final_logit_layers,
    log_prior,
    noise_margin,
    tune_prior_shift,
)

FEATURES = {
    "ngrams": FeatureShape(length=6, vocabulary=50),
    "chars": FeatureShape(length=8, vocabulary=40),
    "words": FeatureShape(length=6, vocabulary=30),
}
FINAL_LOGITS = {
    "ngram_bag": ["logits"],
    "ngram_ensemble": ["word_logits", "char_logits"],
    "wide_deep": ["wide_logits"],
    "cnn": ["logits"],
    "bigru": ["logits"],
    "lstm": ["logits"],
}


def _overconfident_in_the_small_class(rows: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Validation rows 90 % class 0, 10 % class 1, scored as balanced class weights
    train a model to: as if both classes were equally common. Rows of class 0 near
    the border are then called class 1."""
    rng = np.random.default_rng(0)
    labels = (rng.random(rows) < 0.1).astype(int)
    evidence = np.where(labels == 1, 1.0, -1.0) + rng.normal(0, 1.5, rows)
    logits = np.stack([np.zeros(rows), 2.0 * evidence], axis=1)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probabilities, labels


def test_log_prior_is_the_log_share_of_each_class_among_the_training_rows():
    prior = log_prior(np.array([0, 0, 0, 1]), 3)
    np.testing.assert_allclose(prior, np.log([3 / 5, 1 / 5, 1 / 5]))


def test_the_shift_moves_towards_the_data_mix_and_gains_validation_macro_f1():
    probabilities, labels = _overconfident_in_the_small_class()
    shift = tune_prior_shift(probabilities, labels, log_prior(labels, 2), balanced_target=False)
    assert shift.tau > 0.3
    assert shift.validation_macro_f1_after > shift.validation_macro_f1_before + 0.02


def test_a_balanced_test_set_weighs_both_classes_equally_and_shifts_less():
    probabilities, labels = _overconfident_in_the_small_class()
    prior = log_prior(labels, 2)
    natural = tune_prior_shift(probabilities, labels, prior, balanced_target=False)
    balanced = tune_prior_shift(probabilities, labels, prior, balanced_target=True)
    assert balanced.tau < natural.tau


def test_perfect_scores_keep_tau_zero():
    labels = np.array([0, 1, 2] * 20)
    probabilities = np.eye(3)[labels] * 0.9 + 0.1 / 3
    shift = tune_prior_shift(probabilities, labels, log_prior(labels, 3), balanced_target=False)
    assert shift.tau == 0.0
    assert shift.validation_macro_f1_after == shift.validation_macro_f1_before == 1.0


@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_final_logits_of_every_family_are_found(family):
    classifier = build_classifier(get_preset("fast", family=family).model, FEATURES, 3)
    assert [layer.name for layer in final_logit_layers(classifier)] == FINAL_LOGITS[family]


def test_applying_the_shift_adds_tau_log_prior_to_the_log_probabilities():
    keras.utils.set_random_seed(1)
    classifier = build_classifier(get_preset("fast").model, FEATURES, 3)
    ids = {"ngrams": np.random.default_rng(1).integers(2, 50, size=(5, 6)).astype("int64")}
    before = classifier.predict(ids, verbose=0)
    prior = np.log([0.7, 0.2, 0.1])
    apply_prior_shift(classifier, PriorShift(0.5, tuple(prior), 0.0, 0.0))
    after = classifier.predict(ids, verbose=0)
    expected = np.log(before) + 0.5 * prior
    expected -= np.log(np.exp(expected).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(np.log(after), expected, atol=1e-5)


def test_the_shift_is_tuned_by_default_off_for_the_seed_and_for_runs_saved_before_it():
    assert get_preset("fast").train.prior_shift == "tuned"
    assert SEED_PRESET.train.prior_shift == "off"
    saved = get_preset("fast").to_dict()
    del saved["train"]["prior_shift"]
    assert ExperimentConfig.from_dict(saved).train.prior_shift == "off"


def _a_few_rows_a_shift_would_fix(rows: int, fixable: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes, every row confidently right but ``fixable`` rows of class 1 that lean
    to class 0 by a hair: any shift towards class 1 (the common one) fixes them."""
    labels = np.arange(rows) % 2
    probabilities = np.where(labels[:, None] == 1, [0.1, 0.9], [0.9, 0.1])
    probabilities[np.flatnonzero(labels == 1)[:fixable]] = [0.52, 0.48]
    return probabilities, labels


def test_a_gain_within_the_noise_of_a_small_validation_set_keeps_tau_zero():
    prior = np.log([0.2, 0.8])
    small = tune_prior_shift(
        *_a_few_rows_a_shift_would_fix(150, 3), prior, balanced_target=False
    )  # gains 2 % of accuracy and of macro F1 by changing 3 rows: less than 4 sqrt(3) / 150
    large = tune_prior_shift(
        *_a_few_rows_a_shift_would_fix(15_000, 300), prior, balanced_target=False
    )  # the same gain on 100 times the rows: beyond 4 sqrt(300) / 15,000 = 0.005
    assert small.tau == 0.0
    assert large.tau > 0.0
    assert large.validation_accuracy_after > large.validation_accuracy_before
    assert noise_margin(4, 150) == pytest.approx(4 * 2 / 150)


def _two_shifts_that_fix_rows(*groups: tuple[int, int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Validation rows of two classes from ``(rows, label, margin)`` groups: each row's
    log-odds of class 1 is its group's margin."""
    margins = np.concatenate([np.full(rows, margin) for rows, _, margin in groups])
    labels = np.concatenate([np.full(rows, label) for rows, label, _ in groups])
    logits = np.stack([np.zeros(len(margins)), margins], axis=1)
    return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), labels


def test_once_a_shift_clears_the_noise_the_best_shift_is_taken():
    """The margin decides whether to shift; the validation scores decide how far. A shift
    of 0.1 fixes 20 rows; one of 0.5 fixes 30 more and breaks 25: the best scores, and
    the old rule (each shift less its own margin) stopped at 0.1."""
    probabilities, labels = _two_shifts_that_fix_rows(
        (1700, 0, -3.0), (225, 1, 3.0), (20, 0, 0.1), (30, 0, 0.6), (25, 1, 0.6)
    )
    prior = np.log([0.8, 0.2])
    shift = tune_prior_shift(probabilities, labels, prior, balanced_target=False)

    def score(tau: float) -> float:
        predicted = np.argmax(np.log(probabilities) + tau * prior, axis=1)
        return accuracy_score(labels, predicted) + f1_score(labels, predicted, average="macro")

    assert shift.tau == max(sorted(TAUS, key=abs), key=score) == 0.5
    assert score(0.5) > score(0.1) > score(0.0)
