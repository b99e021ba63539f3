"""Standardization, left padding, sequence length and the vectorizer."""

import numpy as np

from pipeline.config import get_preset
from pipeline.text import (
    AUTO_LENGTH_MIN,
    LeftPad,
    StandardizeHeadline,
    build_vectorizer,
    choose_sequence_length,
    count_tokens,
    standardize,
    vectorize,
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


def test_vectorizer_pads_right_or_left_and_maps_unknown_words_to_one():
    config = get_preset("fast", max_tokens=20).model
    vectorizer = build_vectorizer(TEXTS, config, sequence_length=6)
    post = vectorize(["apple unveils a thing"], vectorizer, "post")[0]
    pre = vectorize(["apple unveils a thing"], vectorizer, "pre")[0]
    assert post.shape == pre.shape == (6,)
    assert post[2] == post[3] == 1  # "a", "thing": out of vocabulary
    assert post[4:].tolist() == [0, 0]
    assert pre.tolist() == [0, 0, *post[:4].tolist()]
    assert vectorizer.vocabulary_size() <= 20
