"""Standardization, left padding, sequence length and the vectorizer."""

from itertools import pairwise

import numpy as np

from pipeline.core.presets import get_preset
from pipeline.models.text import (
    AUTO_LENGTH_MIN,
    LeftPad,
    StandardizeHeadline,
    choose_sequence_length,
    count_tokens,
    standardize,
)

TEXTS = [
    "Fed's Yellen: rates to stay low (for now)",
    "Apple unveils iPhone",
    "Études: Ébola case confirmed",
    "...",
]


def test_standardize_matches_the_seed_tokenizer_filter():
    # As in Keras 2's Tokenizer, the apostrophe is not filtered: "fed's" stays one word.
    layer_out = [s.decode() for s in StandardizeHeadline()(np.array(TEXTS)).numpy()]
    assert layer_out == standardize(TEXTS)
    assert layer_out[0].split() == ["fed's", "yellen", "rates", "to", "stay", "low", "for", "now"]
    assert layer_out[2].split() == ["études", "ébola", "case", "confirmed"]
    assert layer_out[3].split() == []


def test_count_tokens_and_auto_length():
    assert count_tokens(TEXTS).tolist() == [8, 3, 4, 0]
    assert choose_sequence_length(TEXTS) == AUTO_LENGTH_MIN
    long_text = ["word " * 40] * 10
    assert choose_sequence_length(long_text) == 40


def test_left_pad_moves_padding_to_the_front():
    ids = np.array([[5, 6, 7, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 2, 3, 4, 5]])
    padded = np.asarray(LeftPad()(ids))
    assert padded.tolist() == [[0, 0, 5, 6, 7], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [1, 2, 3, 4, 5]]


def test_encoder_pads_right_or_left_and_maps_unknown_words_to_one():
    from pipeline.models.features import build_encoder, encode

    post_config = get_preset("fast", family="cnn", max_tokens=20).model
    pre_config = get_preset("fast", family="cnn", max_tokens=20, padding="pre").model
    post = encode(build_encoder(TEXTS, post_config, 6), ["apple unveils a thing"])["words"][0]
    pre = encode(build_encoder(TEXTS, pre_config, 6), ["apple unveils a thing"])["words"][0]
    assert post.shape == pre.shape == (6,)
    assert post[2] == post[3] == 1  # "a", "thing": out of vocabulary
    assert post[4:].tolist() == [0, 0]
    assert pre.tolist() == [0, 0, *post[:4].tolist()]


def test_encoder_gives_each_family_its_inputs():
    from pipeline.models.features import build_encoder, encode, feature_shapes

    config = get_preset("fast", family="ngram_ensemble").model
    encoder = build_encoder(TEXTS, config, 8)
    ids = encode(encoder, ["apple unveils iphone"])
    assert set(ids) == {"ngrams", "chars"}
    shapes = feature_shapes(encoder, config)
    assert shapes["ngrams"].length == 16 and shapes["chars"].length == 18 * 8
    # unigrams then bigrams: "apple", "unveils", "iphone", "apple unveils", "unveils iphone"
    assert (ids["ngrams"][0] > 0).sum() == 5
    # embeddings are sized to the vocabulary the texts really have, far below the limit:
    # their distinct words and word pairs, plus the padding and out-of-vocabulary ids
    grams = set()
    for words in (text.split() for text in standardize(TEXTS)):
        grams.update(words, (" ".join(pair) for pair in pairwise(words)))
    assert shapes["ngrams"].vocabulary == len(grams) + 2 == 29


def test_the_vocabularies_and_ids_are_keras_own_adapt_and_call():
    """The encoder builds its vocabularies batch by batch (to report progress) and encodes
    through a tf.function: the same vocabularies as ``TextVectorization.adapt`` and the
    same ids as calling the encoder eagerly."""
    import tensorflow as tf

    from pipeline.models.features import build_encoder, encode
    from tests.pipeline.data_support import uci_rows

    texts = [row["TITLE"] for row in uci_rows()] + TEXTS  # some accented letters too
    encoder = build_encoder(texts, get_preset("accurate").model, 12)
    standardized = encoder.get_layer("standardize")(tf.constant([[t] for t in texts]))
    for name in ("ngram_vectorizer", "char_vectorizer"):
        ours = encoder.get_layer(name)
        theirs = ours.__class__.from_config(ours.get_config())
        theirs.adapt(standardized, batch_size=1000)
        assert ours.get_vocabulary() == theirs.get_vocabulary()
    eager = encoder(tf.constant([[t] for t in texts[:500]]))
    for name, ids in encode(encoder, texts[:500]).items():
        np.testing.assert_array_equal(ids, np.asarray(eager[name]))


def test_the_character_vocabulary_counts_an_even_sample_beyond_its_row_limit(monkeypatch):
    """Past ``CHAR_VOCABULARY_ROWS`` training rows the character n-grams are counted on
    every k-th row (the same rows every time, spread over the whole list); the word and
    word-pair vocabularies still count every row."""
    import tensorflow as tf

    from pipeline.models import features
    from tests.pipeline.data_support import uci_rows

    texts = [row["TITLE"] for row in uci_rows()]
    assert features.even_sample(texts, len(texts)) is texts
    sample = features.even_sample(texts, 1_000)
    step = -(-len(texts) // 1_000)
    assert sample == texts[::step] and len(sample) <= 1_000 < len(texts[:: step - 1])

    monkeypatch.setattr(features, "CHAR_VOCABULARY_ROWS", 1_000)
    encoder = features.build_encoder(texts, get_preset("accurate").model, 12)
    standardize = encoder.get_layer("standardize")
    for name, rows in (("char_vectorizer", sample), ("ngram_vectorizer", texts)):
        ours = encoder.get_layer(name)
        theirs = ours.__class__.from_config(ours.get_config())
        theirs.adapt(standardize(tf.constant([[t] for t in rows])), batch_size=1000)
        assert ours.get_vocabulary() == theirs.get_vocabulary()


def test_encoding_batches_of_any_size_never_warns_of_retracing(caplog, monkeypatch):
    """The CLI's default training printed TensorFlow's "triggered tf.function retracing"
    warning while vectorizing: the encoder was traced again for each new batch shape."""
    import logging

    from pipeline.models import features

    monkeypatch.setattr(features, "_ENCODE_BATCH", 4)  # full batches, then a shorter one
    encoder = features.build_encoder(TEXTS, get_preset("fast").model, 8)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        # a training's encoding: its three splits, then the linear part's characters
        for rows in (9, 10, 11, 13):
            texts = [TEXTS[i % len(TEXTS)] for i in range(rows)]
            assert len(features.encode(encoder, texts)["ngrams"]) == rows
    assert not [r.getMessage() for r in caplog.records if "retracing" in r.getMessage()]
