"""The linear blend: the TF-IDF features in the model equal the ones the regression is
fitted on, the weight is chosen on validation rows, the blended model saves and reloads
under safe mode, the prior shift moves the blend exactly, and a real training blends."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from pipeline.core.config import ExperimentConfig
from pipeline.core.presets import SEED_PRESET, get_preset
from pipeline.models import FeatureShape, build_classifier
from pipeline.models.linear import TfIdfLinear
from pipeline.training.blend import (
    LINEAR_CHAR_ROWS,
    LINEAR_CHAR_TOKENS,
    LinearPart,
    blend_probabilities,
    blended_classifier,
    choose_blend_weight,
    document_frequency_idf,
    fit_linear_part,
    has_blend,
    linear_inputs,
    tfidf_matrix,
)
from pipeline.training.prior_shift import PriorShift, apply_prior_shift

VOCABULARY, CLASSES = 40, 3


def _ids(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows of n-gram ids whose class is told by ids 2-10 (class 0), 11-19 (1), 20-28
    (2), padded with 0 and sprinkled with unknown (1) and shared ids (29-39)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, rows)
    ids = np.zeros((rows, 8), dtype=np.int32)
    for row, label in enumerate(labels):
        length = rng.integers(2, 8)
        telling = 2 + 9 * label + rng.integers(0, 9, length // 2 + 1)
        shared = rng.integers(29, VOCABULARY, length - len(telling) + 1)
        words = np.concatenate([telling, shared, [1]])[:length]
        ids[row, :length] = words
    return ids, labels


def test_idf_ignores_padding_unknown_and_ids_in_a_single_row():
    ids = np.array([[2, 3, 0], [2, 4, 1], [2, 3, 3]], dtype=np.int32)
    idf = document_frequency_idf(ids, 6)
    assert idf[0] == idf[1] == 0.0  # padding, unknown
    assert idf[4] == 0.0 and idf[5] == 0.0  # one row; none
    np.testing.assert_allclose(idf[2], np.log(4 / 4) + 1)  # every row
    np.testing.assert_allclose(idf[3], np.log(4 / 3) + 1)  # two rows (counted once each)


def test_the_model_layer_computes_the_features_the_regression_was_fitted_on():
    ids, labels = _ids(300)
    part = fit_linear_part({"ngrams": ids}, labels, CLASSES, {"ngrams": VOCABULARY})
    idf, coef = part.idf["ngrams"], part.coef["ngrams"]
    layer = TfIdfLinear(VOCABULARY, CLASSES)
    layer.build((None, 8))
    layer.set_weights([idf, coef.T, part.intercept])
    logits = keras.ops.convert_to_numpy(layer(ids))
    expected = tfidf_matrix(ids, idf) @ coef.T + part.intercept
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
    rows = tfidf_matrix(ids, idf)
    once = np.array([len(set(row[row > 1])) == (row > 1).sum() for row in ids])
    weighted = (idf[ids] > 0).any(axis=1)
    norms = np.sqrt(rows.multiply(rows).sum(axis=1)).A1
    np.testing.assert_allclose(norms[once & weighted], 1.0, rtol=1e-6)  # unit rows...
    assert (norms[~once & weighted] >= 1.0 - 1e-6).all()  # ...a repeated n-gram counts twice
    held_out, held_labels = _ids(200, seed=1)
    assert (part.probabilities({"ngrams": held_out}).argmax(axis=1) == held_labels).mean() > 0.9


def test_two_classes_and_a_class_without_training_rows_get_logits_of_every_class():
    ids, labels = _ids(300)
    two = labels != 2
    part = fit_linear_part({"ngrams": ids[two]}, labels[two], CLASSES, {"ngrams": VOCABULARY})
    probabilities = part.probabilities({"ngrams": ids[two]})
    assert probabilities.shape == (two.sum(), CLASSES)
    assert probabilities[:, 2].max() < 1e-6
    assert (probabilities.argmax(axis=1) == labels[two]).mean() > 0.9


def test_a_stop_ends_the_linear_fit_after_its_current_solver_step():
    """Found on a file of 20,000 headlines of 200 publishers: the linear part's regression
    took 118 s of the job's 131 (Newton-CG's cost grows with the classes) in one call, so
    a Stop pressed while evaluating waited for all of it. The solver now takes one Newton
    step at a time (warm-started, the same optimum) and a stop ends it after the current
    one; the part fitted so far is used, the blend's weight chosen on validation as ever."""
    import threading

    ids, labels = _ids(300)
    whole = fit_linear_part({"ngrams": ids}, labels, CLASSES, {"ngrams": VOCABULARY})
    assert whole.converged and whole.solver_steps >= 3
    stop = threading.Event()
    stop.set()
    cut = fit_linear_part({"ngrams": ids}, labels, CLASSES, {"ngrams": VOCABULARY}, stop_event=stop)
    assert cut.solver_steps == 1 and not cut.converged
    assert not np.allclose(cut.coef["ngrams"], whole.coef["ngrams"], atol=1e-3)
    held_out, held_labels = _ids(200, seed=1)
    assert (cut.probabilities({"ngrams": held_out}).argmax(axis=1) == held_labels).mean() > 0.8
    # one step at a time lands where one call does: the optimum, within the solver's tolerance
    from sklearn.linear_model import LogisticRegression

    from pipeline.training.blend import tfidf_matrix as features_of
    from pipeline.training.regression import REGRESSION_SETTINGS

    features = features_of(ids, whole.idf["ngrams"])[:, np.flatnonzero(whole.idf["ngrams"])]
    one_call = LogisticRegression(**REGRESSION_SETTINGS).fit(features, labels)
    kept = whole.coef["ngrams"][:, np.flatnonzero(whole.idf["ngrams"])]
    np.testing.assert_allclose(kept, one_call.coef_, atol=0.05)


def _part(idf: np.ndarray | None = None) -> LinearPart:
    coef = np.zeros((CLASSES, VOCABULARY), dtype=np.float32)
    return LinearPart(
        {"ngrams": idf if idf is not None else np.ones(VOCABULARY, dtype=np.float32)},
        {"ngrams": coef},
        np.zeros(CLASSES, dtype=np.float32),
        rows=10,
        seconds=0.0,
    )


def test_the_weight_goes_to_the_part_that_knows_the_validation_rows():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, CLASSES, 600)
    knowing = np.full((600, CLASSES), 0.05)
    knowing[np.arange(600), labels] = 0.9
    guessing = rng.dirichlet(np.ones(CLASSES), 600)
    network_knows = choose_blend_weight(
        knowing, guessing, labels, balanced_target=False, linear_part=_part()
    )
    linear_knows = choose_blend_weight(
        guessing, knowing, labels, balanced_target=False, linear_part=_part()
    )
    assert network_knows.weight >= 0.8
    assert linear_knows.weight <= 0.2
    record = network_knows.to_json()
    assert set(record["validation"]) == {"network", "linear", "blend"}
    assert record["validation"]["blend"]["log_loss"] <= record["validation"]["network"]["log_loss"]
    json.dumps(record)


def test_two_half_right_parts_blend_into_a_better_one():
    """Each part knows the true class on a different half of the rows: their blend knows
    it on every row, and the weight lands between the ends."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, CLASSES, 800)
    first, second = np.full((800, CLASSES), 1 / 3), np.full((800, CLASSES), 1 / 3)
    half = np.arange(800) < 400
    first[half] = 0.1
    first[half, labels[half]] = 0.8
    second[~half] = 0.1
    second[~half, labels[~half]] = 0.8
    blend = choose_blend_weight(first, second, labels, balanced_target=False, linear_part=_part())
    assert 0.2 <= blend.weight <= 0.8
    mixed = blend_probabilities(first, second, blend.weight)
    assert (mixed.argmax(axis=1) == labels).mean() == 1.0
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, rtol=1e-9)


def _blended(tmp_path) -> tuple[keras.Model, np.ndarray, np.ndarray, LinearPart]:
    ids, labels = _ids(300)
    config = get_preset("fast", ngram_dim=8)
    classifier = build_classifier(
        config.model, {"ngrams": FeatureShape(length=8, vocabulary=VOCABULARY)}, CLASSES
    )
    part = fit_linear_part({"ngrams": ids}, labels, CLASSES, {"ngrams": VOCABULARY})
    return blended_classifier(classifier, part, 0.3), ids, labels, part


def test_the_blended_model_is_the_blend_of_its_parts_and_reloads_under_safe_mode(tmp_path):
    model, ids, _, part = _blended(tmp_path)
    assert has_blend(model)
    network = keras.Model(model.input, model.get_layer("probabilities").output)
    expected = blend_probabilities(
        network.predict({"ngrams": ids}, verbose=0), part.probabilities({"ngrams": ids}), 0.3
    )
    got = model.predict({"ngrams": ids}, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    path = tmp_path / "blended.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(reloaded.predict({"ngrams": ids}, verbose=0), got, rtol=1e-5)
    assert not any(weight.trainable for weight in reloaded.get_layer("linear_logits").weights)


def test_the_prior_shift_moves_the_blend_by_exactly_the_tuned_rule(tmp_path):
    model, ids, _, _ = _blended(tmp_path)
    before = model.predict({"ngrams": ids}, verbose=0)
    prior = np.log(np.array([0.7, 0.2, 0.1]))
    apply_prior_shift(model, PriorShift(0.8, tuple(prior), 0.5, 0.6))
    after = model.predict({"ngrams": ids}, verbose=0)
    expected = np.log(before) + 0.8 * prior
    expected = np.exp(expected - expected.max(axis=1, keepdims=True))
    np.testing.assert_allclose(after, expected / expected.sum(axis=1, keepdims=True), atol=1e-5)


def test_the_seed_preset_never_blends_and_runs_saved_before_the_blend_read_as_off():
    assert SEED_PRESET.model.blend == "off"
    assert get_preset("fast").model.blend == "tuned"
    old = get_preset("fast").to_dict()
    del old["model"]["blend"]
    assert ExperimentConfig.from_dict(old).model.blend == "off"


@pytest.mark.parametrize("blend", ["tuned", "off"])
def test_a_training_blends_exactly_when_the_setting_says(blend, small_dataset, tmp_path):
    from pipeline.runs.registry import RunRegistry
    from pipeline.training.train import train_run
    from tests.tiny_training import tiny_config

    config = tiny_config(blend=blend)
    result = train_run(small_dataset, config, runs_dir=tmp_path)
    saved = RunRegistry(tmp_path).get(result.run_id)
    raw = json.loads((saved.path / "metrics.json").read_text())
    model = RunRegistry(tmp_path).load_model(result.run_id)
    if blend == "off":
        assert "blend" not in raw
        assert not has_blend(model.get_layer("classifier"))
        return
    record = raw["blend"]
    assert 0.0 <= record["network_weight"] <= 1.0
    assert record["linear_rows"] == saved.data.summary.split_sizes.train
    assert has_blend(model.get_layer("classifier"))
    # A small file: the linear part reads character n-grams too, from the saved encoder.
    assert record["linear_inputs"] == ["ngrams", "linear_chars"]
    encoder = model.get_layer("encoder")
    assert encoder.get_layer("linear_char_vectorizer").vocabulary_size() <= LINEAR_CHAR_TOKENS
    texts = small_dataset.frame["text"].head(5).tolist()
    probabilities = keras.ops.convert_to_numpy(model(tf.constant([[text] for text in texts])))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_the_linear_part_reads_character_n_grams_on_small_files_only():
    assert linear_inputs(LINEAR_CHAR_ROWS) == ("ngrams", "linear_chars")
    assert linear_inputs(LINEAR_CHAR_ROWS + 1) == ("ngrams",)


def test_a_part_on_words_and_characters_is_the_sum_of_both_and_reloads(tmp_path):
    """Two inputs: each normalised on its own, the logits summed, as one regression on
    both feature sets side by side; the character input is the model's own."""
    ids, labels = _ids(300)
    chars = (ids * 3 + 2) % 60  # another view of the same rows
    chars[ids == 0] = 0
    part = fit_linear_part(
        {"ngrams": ids, "linear_chars": chars},
        labels,
        CLASSES,
        {"ngrams": VOCABULARY, "linear_chars": 60},
    )
    expected_logits = (
        tfidf_matrix(ids, part.idf["ngrams"]) @ part.coef["ngrams"].T
        + tfidf_matrix(chars, part.idf["linear_chars"]) @ part.coef["linear_chars"].T
        + part.intercept
    )
    inputs = {"ngrams": ids, "linear_chars": chars}
    np.testing.assert_allclose(part.logits(inputs), expected_logits, rtol=1e-6)
    config = get_preset("fast", ngram_dim=8)
    classifier = build_classifier(
        config.model, {"ngrams": FeatureShape(length=8, vocabulary=VOCABULARY)}, CLASSES
    )
    model = blended_classifier(classifier, part, 0.0)  # the linear part alone
    assert set(model.input) == {"ngrams", "linear_chars"}
    got = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(got, part.probabilities(inputs), rtol=1e-4, atol=1e-5)
    path = tmp_path / "two_inputs.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(inputs, verbose=0), got, rtol=1e-5)
