"""Golden test: the seed path gives the 2019 notebook's token ids, id for id.

The oracle is ``tf_keras``' own ``Tokenizer`` + ``pad_sequences`` (the Keras 2
code the notebook ran), fitted on a training part of real UCI titles and applied
to a held-out part, so unknown and rare words are dropped, not mapped to an OOV id.

``tests/fixtures/seed_golden_titles.csv`` holds the ``TITLE`` of every row of
``data/uci-news-aggregator.csv.gz`` whose ``ID`` is a multiple of 211 (2,004 rows).
"""

from __future__ import annotations

import csv
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from pipeline.core.presets import get_preset
from pipeline.models.features import build_encoder, encode
from pipeline.models.text import (
    SEED_FILTERS,
    SeedSequence,
    StandardizeHeadline,
    seed_vocabulary,
    seed_words,
    standardize,
)

tf_keras = pytest.importorskip("tf_keras")
from tf_keras.preprocessing.sequence import pad_sequences  # noqa: E402
from tf_keras.preprocessing.text import Tokenizer  # noqa: E402

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "seed_golden_titles.csv"

#: The notebook's filter, as its Python literal: ``\]`` is a backslash and a bracket.
NOTEBOOK_FILTER = r"""!"#$%&()*+,-./:;<=>?@[\]^_`{|}~"""

#: Hand-made titles for what the UCI sample lacks: tabs and newlines (words in the
#: notebook, which did not filter them), runs of spaces, punctuation only, empty
#: titles, Unicode case, apostrophes, a backslash, "[UNK]" and a 150-word title.
EDGE_CASES = [
    "",
    "...!!!",
    "Fed's Yellen:  rates\tto stay low (for now)\n",
    "tab\tinside and\ttab\tinside",
    "ÉTUDES: Ébola case confirmed in İstanbul — ΟΔΟΣ",
    "back\\slash [UNK] <html> a|b ~tilde~",
    "  leading and trailing spaces  ",
    " ".join(f"word{i % 37} the" for i in range(75)),
]


def _titles() -> list[str]:
    with FIXTURE.open(newline="", encoding="utf-8") as handle:
        return [row["TITLE"] for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def split_titles() -> tuple[list[str], list[str]]:
    titles = _titles()
    assert len(titles) == 2004
    train = titles[:1500] + EDGE_CASES[:5]
    held_out = titles[1500:] + EDGE_CASES
    return train, held_out


def _seed_encoder(train, num_words, maxlen) -> keras.Model:
    """The encoder a run of the seed preset builds on ``train`` (``tokenizer="keras2"``)."""
    return build_encoder(train, get_preset("seed", max_tokens=num_words).model, maxlen)


def _seed_ids(train, texts, num_words, maxlen) -> np.ndarray:
    """The word ids that encoder gives ``texts``, as a run vectorizes them."""
    return encode(_seed_encoder(train, num_words, maxlen), texts)["words"]


def _notebook_ids(train, texts, num_words, maxlen):
    tokenizer = Tokenizer(num_words=num_words, filters=NOTEBOOK_FILTER, lower=True)
    tokenizer.fit_on_texts(train)
    return tokenizer, pad_sequences(tokenizer.texts_to_sequences(texts), maxlen=maxlen)


def test_seed_filters_are_the_notebook_literal():
    assert SEED_FILTERS == NOTEBOOK_FILTER
    assert "\\" in SEED_FILTERS and "\t" not in SEED_FILTERS and "\n" not in SEED_FILTERS
    assert "'" not in SEED_FILTERS


@pytest.mark.parametrize(("num_words", "maxlen"), [(8000, 130), (50, 5), (400, 12)])
def test_seed_ids_equal_tokenizer_and_pad_sequences(split_titles, num_words, maxlen):
    train, held_out = split_titles
    tokenizer, _ = _notebook_ids(train, [], num_words, maxlen)
    encoder = _seed_encoder(train, num_words, maxlen)

    kept = [w for w, i in sorted(tokenizer.word_index.items(), key=lambda kv: kv[1])][
        : num_words - 1
    ]
    vocabulary = encoder.get_layer("word_vectorizer").get_vocabulary()
    assert vocabulary[2:] == kept == seed_vocabulary(train, num_words)

    for texts in (train, held_out):
        expected = pad_sequences(tokenizer.texts_to_sequences(texts), maxlen=maxlen)
        got = encode(encoder, texts)["words"]
        assert got.dtype == np.int32  # stored as int32; the model's inputs cast them
        np.testing.assert_array_equal(got, expected)
        assert got.max() <= num_words - 1


def test_held_out_words_are_dropped_and_long_titles_keep_their_end(split_titles):
    train, held_out = split_titles
    ids = _seed_ids(train, held_out, 50, 5)
    # Each title keeps its known words only (at most the last 5): the others are dropped,
    # not mapped to an out-of-vocabulary id.
    vocabulary = set(seed_vocabulary(train, 50))
    known = [[word for word in seed_words(title) if word in vocabulary] for title in held_out]
    assert np.count_nonzero(ids, axis=1).tolist() == [min(len(words), 5) for words in known]
    # The 150-word title keeps its last words: "... word36 the" -> ends with "the".
    the = seed_vocabulary(train, 50).index("the") + 1
    assert ids[-1, -1] == the


def test_ties_follow_first_appearance_not_textvectorization_adapt():
    texts = ["alpha zeta", "beta", "beta"]
    # Tokenizer: beta (2), then alpha and zeta (1 each) in first-appearance order;
    # TextVectorization.adapt would put zeta before alpha (ties in reverse byte order).
    assert seed_vocabulary(texts, 10) == ["beta", "alpha", "zeta"]
    _, expected = _notebook_ids(texts, texts, 10, 3)
    np.testing.assert_array_equal(_seed_ids(texts, texts, 10, 3), expected)


def test_standardizer_layer_equals_its_python_twin():
    layer_out = [s.decode() for s in StandardizeHeadline()(np.array(EDGE_CASES)).numpy()]
    assert layer_out == standardize(EDGE_CASES)
    custom = StandardizeHeadline(filters="\t\n-")
    assert custom.get_config()["filters"] == "\t\n-"
    out = custom(tf.constant(["A-B\tC\nD"])).numpy()[0].decode()
    assert out == standardize(["A-B\tC\nD"], filters="\t\n-")[0] == "a b c d"


def test_standardizer_saved_without_filters_gets_the_seed_filters():
    config = StandardizeHeadline(name="standardize").get_config()
    del config["filters"]
    assert StandardizeHeadline.from_config(config).filters == SEED_FILTERS


def test_seed_sequence_drops_oov_truncates_front_and_pads_left():
    ids = np.array([[2, 1, 3, 1, 4, 0, 0], [1, 1, 0, 0, 0, 0, 0], [5, 6, 7, 8, 9, 10, 11]])
    out = np.asarray(SeedSequence(4)(ids))
    assert out.tolist() == [[0, 1, 2, 3], [0, 0, 0, 0], [7, 8, 9, 10]]
    assert np.asarray(SeedSequence(3)(np.zeros((2, 0), dtype="int64"))).tolist() == [[0] * 3] * 2


def test_the_seed_encoder_reloads_in_safe_mode_with_the_notebook_ids(split_titles, tmp_path):
    train, held_out = split_titles
    encoder = _seed_encoder(train, 50, 7)
    path = tmp_path / "seed.keras"
    encoder.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)

    batch = tf.constant([[t] for t in held_out])
    _, notebook = _notebook_ids(train, held_out, 50, 7)
    np.testing.assert_array_equal(np.asarray(encoder(batch)["words"]), notebook)
    np.testing.assert_array_equal(np.asarray(reloaded(batch)["words"]), notebook)
    np.testing.assert_array_equal(reloaded.predict(batch, verbose=0)["words"], notebook)
