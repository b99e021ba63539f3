"""The lean ``model.keras`` (:mod:`pipeline.models.lean`): bag tables folded into their
Dense layer and stored as int8, the vocabulary once, members deflated; the full model
kept beside it for continuing the run. Real tiny trainings (the session's ``trained_run``).
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from pipeline.models.common import RowReadEmbedding
from pipeline.models.features import split_end_to_end_model
from pipeline.models.lean import is_lean, lean_classifier, trainable_classifier
from pipeline.models.linear import TfIdfLinear
from pipeline.models.text import Vectorizer
from pipeline.runs.files import MODEL_FILE, TRAINING_MODEL_FILE
from pipeline.runs.registry import RunRegistry
from pipeline.training.train import train_run
from tests.tiny_training import tiny_config

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def run_models(trained_run, runs_dir):
    """The shared tiny run's (lean model, full training model), end to end."""
    result, _ = trained_run
    registry = RunRegistry(runs_dir)
    return registry.load_model(result.run_id), registry.load_training_model(result.run_id)


def _texts(uci_small, rows: int = 400) -> tf.Tensor:
    return tf.constant([[text] for text in uci_small.frame["text"].tolist()[:rows]])


def _table_types(model: keras.Model) -> dict[str, tuple[str, tuple[int, ...]]]:
    _, classifier = split_end_to_end_model(model)
    return {
        layer.name: (str(layer.embeddings.dtype), tuple(layer.embeddings.shape))
        for layer in classifier.layers
        if isinstance(layer, keras.layers.Embedding)
    }


def test_the_saved_model_is_the_full_one_folded_and_int8(run_models, uci_small):
    lean, full = run_models
    classes = full.output.shape[-1]
    lean_tables, full_tables = _table_types(lean), _table_types(full)
    vocabulary, width = full_tables["ngram_embedding"][1]
    assert full_tables["ngram_embedding"][0] == "float32" and width > classes
    # folded: one column per class instead of the embedding's width; int8 with a scale
    assert lean_tables["ngram_embedding"] == ("int8", (vocabulary, classes))
    assert lean_tables["ngram_score"] == full_tables["ngram_score"]
    assert is_lean(split_end_to_end_model(lean)[1])
    assert not is_lean(split_end_to_end_model(full)[1])

    texts = _texts(uci_small)
    lean_p = lean.predict(texts, verbose=0)
    full_p = full.predict(texts, verbose=0)
    assert (lean_p.argmax(1) == full_p.argmax(1)).mean() >= 0.995
    np.testing.assert_allclose(lean_p, full_p, atol=0.02)


@contextlib.contextmanager
def blend_weighing(run_models, uci_small, weight: float, offset: np.ndarray | None = None):
    """The full model's classifier and its encoded sample texts, its blend set to
    ``weight`` (and ``offset``, else its own) for the block, then set back."""
    _, full = run_models
    encoder, classifier = split_end_to_end_model(full)
    blend = classifier.get_layer("blend")
    saved = blend.get_weights()
    blend.set_weights([np.float32(weight), saved[1] if offset is None else offset])
    try:
        yield classifier, encoder(_texts(uci_small))
    finally:
        blend.set_weights(saved)


def test_a_silent_linear_part_is_dropped_and_int8_tables_turn_back_into_floats(
    run_models, uci_small
):
    """A blend of weight 1 loses its TF-IDF part but keeps its class-prior offset; the
    lean tables, dequantized to train on, give the lean model's probabilities."""
    offset = np.array([0.3, -0.2, 0.5, -0.1], "float32")
    with blend_weighing(run_models, uci_small, 1.0, offset) as (classifier, inputs):
        lean = lean_classifier(classifier)
        assert any(isinstance(layer, TfIdfLinear) for layer in classifier.layers)
        assert not any(isinstance(layer, TfIdfLinear) for layer in lean.layers)
        np.testing.assert_allclose(lean(inputs), classifier(inputs), atol=0.02)
    dequantized = trainable_classifier(lean)
    assert not is_lean(dequantized)
    np.testing.assert_allclose(dequantized(inputs), lean(inputs), atol=1e-5)
    table = dequantized.get_layer("ngram_embedding")
    assert table.trainable and str(table.embeddings.dtype) == "float32"
    assert isinstance(table, RowReadEmbedding)  # trained as a new run's tables are


def test_a_blend_that_weighs_the_linear_part_keeps_it_in_float16(run_models, uci_small):
    """The linear part a blend weighs is half the lean file on the bundled data (a
    600,000 x classes kernel and the idf, float32): the lean model stores both as float16,
    and turns them back into float32 to train on."""
    with blend_weighing(run_models, uci_small, 0.4) as (classifier, inputs):
        full_linear = next(layer for layer in classifier.layers if isinstance(layer, TfIdfLinear))
        lean = lean_classifier(classifier)
        linear = next(layer for layer in lean.layers if isinstance(layer, TfIdfLinear))
        assert linear.storage == "float16" and full_linear.storage == "float32"
        assert str(linear.kernel.dtype) == "float16" and str(linear.idf.dtype) == "float16"
        assert str(linear.bias.dtype) == "float32"
        lean_p, full_p = np.asarray(lean(inputs)), np.asarray(classifier(inputs))
        np.testing.assert_allclose(lean_p, full_p, atol=0.02)
        assert (lean_p.argmax(1) == full_p.argmax(1)).mean() >= 0.995
        dequantized = trainable_classifier(lean)
        back = next(layer for layer in dequantized.layers if isinstance(layer, TfIdfLinear))
        assert back.storage == "float32" and str(back.kernel.dtype) == "float32"
        np.testing.assert_allclose(dequantized(inputs), lean(inputs), atol=1e-5)


def test_the_model_file_deflates_and_holds_each_vocabulary_once(trained_run, runs_dir):
    result, _ = trained_run
    folder = RunRegistry(runs_dir).get(result.run_id).path
    with zipfile.ZipFile(folder / MODEL_FILE) as archive:
        infos = archive.infolist()
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in infos)
    vocabularies = [info.filename for info in infos if info.filename.endswith("vocabulary.txt")]
    encoder, _ = split_end_to_end_model(RunRegistry(runs_dir).load_model(result.run_id))
    vectorizers = [layer for layer in encoder.layers if isinstance(layer, Vectorizer)]
    # the n-gram vectorizer, and on a file this small the blend's character one
    assert len(vocabularies) == len(vectorizers) >= 1, vocabularies
    assert all(name.endswith("_lookup_layer/vocabulary.txt") for name in vocabularies)
    assert (folder / MODEL_FILE).stat().st_size * 3 < (folder / TRAINING_MODEL_FILE).stat().st_size


def test_families_without_a_bag_save_one_model(uci_small, tmp_path):
    result = train_run(uci_small, tiny_config(family="cnn", epochs=1), runs_dir=tmp_path)
    assert not (Path(result.run_dir) / TRAINING_MODEL_FILE).exists()
    assert RunRegistry(tmp_path).load_training_model(result.run_id) is not None


def test_a_loaded_vocabulary_gives_the_ids_keras_own_loading_gives(trained_run, runs_dir):
    """The vectorizers' vocabularies are written and loaded in TensorFlow (not Keras'
    token-by-token Python): the same files, vocabularies and ids as Keras' own."""
    result, _ = trained_run
    path = RunRegistry(runs_dir).get(result.run_id).model_path
    encoder, _ = split_end_to_end_model(RunRegistry(runs_dir).load_model(result.run_id))
    with zipfile.ZipFile(path) as archive:
        saved = [
            archive.read(name).decode("utf-8").split("\n")
            for name in archive.namelist()
            if name.endswith("vocabulary.txt")
        ]
    loaded = [
        [str(token) for token in layer.get_vocabulary()]
        for layer in encoder.layers
        if isinstance(layer, Vectorizer)
    ]
    assert sorted(loaded) == sorted(saved)  # the n-gram and the blend's character ones
    # written as Keras' own IndexLookup.save_assets writes it: "\n".join(get_vocabulary())
    for layer in encoder.layers:
        if isinstance(layer, Vectorizer):
            keras_text = "\n".join(str(token) for token in layer.get_vocabulary())
            assert keras_text.split("\n") in saved
    vectorizer = encoder.get_layer("ngram_vectorizer")
    vocabulary = [str(token) for token in vectorizer.get_vocabulary()]
    assert vectorizer.vocabulary_size() == len(vocabulary)
    length = vectorizer.get_config()["output_sequence_length"]
    stock = keras.layers.TextVectorization(
        standardize=None, ngrams=2, output_mode="int", output_sequence_length=length
    )
    stock.set_vocabulary(vocabulary)
    texts = tf.constant(["stocks rally as fed holds rates", "zzqx new phone", "", "the the"])
    np.testing.assert_array_equal(vectorizer(texts), stock(texts))
