"""The encoder cache (:mod:`pipeline.training.encoder_cache`): a second training on the
same data and encoder settings reuses the vocabularies and the encoded splits, says so in
its progress, and trains on exactly the ids a fresh encoder gives. Real tiny trainings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipeline.core.config import DataConfig, ModelConfig
from pipeline.models.features import encode, split_end_to_end_model
from pipeline.runs.registry import RunRegistry
from pipeline.training.encoder_cache import CACHED_STEP, EncoderCache, encoder_key
from pipeline.training.train import train_run
from tests.tiny_training import tiny_config

pytestmark = pytest.mark.training
DATA = dataclasses.asdict(DataConfig())


def _steps(events) -> set[str]:
    return {event.message for event in events if event.kind == "rows"}


def _entries(runs_dir) -> list[str]:
    return sorted(path.name for path in (runs_dir / ".encoders").iterdir())


def test_the_key_reads_only_what_builds_the_encoder():
    bag = ModelConfig(family="ngram_bag")
    key = encoder_key("data", DATA, bag)
    # model settings the bag's encoder does not read, or only the network reads
    for other in (
        dataclasses.replace(bag, padding="pre", max_tokens=50, dropout=0.1, ngram_dim=8),
        dataclasses.replace(bag, learning_rate=0.01, blend="off"),
    ):
        assert encoder_key("data", DATA, other) == key
    for other in (
        dataclasses.replace(bag, ngram_tokens=1000),
        dataclasses.replace(bag, sequence_length=20),
        dataclasses.replace(bag, family="ngram_ensemble"),
    ):
        assert encoder_key("data", DATA, other) != key
    assert encoder_key("other data", DATA, bag) != key
    assert encoder_key("data", {**DATA, "seed": 7}, bag) != key
    lstm = ModelConfig(family="lstm")
    assert encoder_key("data", DATA, dataclasses.replace(lstm, max_tokens=50)) != encoder_key(
        "data", DATA, lstm
    )


def test_a_second_training_reuses_the_encoding_and_a_new_setting_does_not(uci_small, tmp_path):
    first_events, second_events, third_events = [], [], []
    first = train_run(uci_small, tiny_config(epochs=1), runs_dir=tmp_path,
                      on_progress=first_events.append)  # fmt: skip
    assert "Word-pair vocabulary" in _steps(first_events)
    assert CACHED_STEP not in _steps(first_events)
    assert len(_entries(tmp_path)) == 1

    # other network settings: the same encoder, from the cache
    second = train_run(uci_small, tiny_config(epochs=1, dropout=0.3, ngram_dim=8),
                       runs_dir=tmp_path, on_progress=second_events.append)  # fmt: skip
    assert CACHED_STEP in _steps(second_events)
    assert not {"Word-pair vocabulary", "Vectorizing"} & _steps(second_events)
    registry = RunRegistry(tmp_path)
    first_encoder, _ = split_end_to_end_model(registry.load_model(first.run_id))
    second_encoder, _ = split_end_to_end_model(registry.load_model(second.run_id))
    vocabulary = first_encoder.get_layer("ngram_vectorizer").get_vocabulary()
    assert second_encoder.get_layer("ngram_vectorizer").get_vocabulary() == vocabulary

    # the cached ids are the ones the encoder gives
    texts = uci_small.frame["text"].tolist()[:200]
    np.testing.assert_array_equal(
        encode(second_encoder, texts)["ngrams"], encode(first_encoder, texts)["ngrams"]
    )

    # another vocabulary size: built afresh, kept beside the first
    train_run(uci_small, tiny_config(epochs=1, ngram_tokens=3000), runs_dir=tmp_path,
              on_progress=third_events.append)  # fmt: skip
    assert "Word-pair vocabulary" in _steps(third_events)
    assert len(_entries(tmp_path)) == 2


def test_a_damaged_entry_is_rebuilt_and_old_entries_are_dropped(uci_small, tmp_path, caplog):
    train_run(uci_small, tiny_config(epochs=1), runs_dir=tmp_path)
    (entry,) = _entries(tmp_path)
    (tmp_path / ".encoders" / entry / "ids.h5").write_bytes(b"not an HDF5 file")
    events = []
    result = train_run(uci_small, tiny_config(epochs=1, dropout=0.3), runs_dir=tmp_path,
                       on_progress=events.append)  # fmt: skip
    assert not result.stopped and CACHED_STEP not in _steps(events)
    assert "not used" in caplog.text

    cache = EncoderCache(tmp_path / ".encoders", max_entries=1)
    kept = cache.load(entry, {"train": 0, "validation": 0, "test": 0})
    assert kept is None  # other row counts: not this data's encoding
    rows = {"train": 1, "validation": 1, "test": 1}
    for key in ("a", "b"):
        cache.save(key, _tiny_encoding())
    assert _entries(tmp_path) == ["b"]
    assert cache.load("b", rows) is not None


def _tiny_encoding():
    from pipeline.models.features import build_encoder
    from pipeline.training.encoder_cache import CachedEncoding

    encoder = build_encoder(["a b", "c d"], ModelConfig(ngram_tokens=100), sequence_length=4)
    ids = encode(encoder, ["a b"])
    return CachedEncoding(encoder, {split: ids for split in ("train", "validation", "test")})
