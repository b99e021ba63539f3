"""Presets, overrides, validation and the config hash."""

import pytest

from pipeline.config import (
    PRESETS,
    ExperimentConfig,
    config_hash,
    get_preset,
)
from pipeline.errors import ConfigError


def test_seed_preset_keeps_the_notebook_settings():
    seed = get_preset("seed")
    assert (seed.model.max_tokens, seed.model.sequence_length, seed.model.padding) == (
        8000,
        130,
        "pre",
    )
    assert (seed.model.embedding_dim, seed.model.lstm_units) == (128, 64)
    assert seed.model.spatial_dropout == seed.model.dropout == seed.model.recurrent_dropout == 0.7
    assert (seed.data.dedupe, seed.data.balance) == ("drop_all", "downsample")
    assert (seed.data.test_size, seed.data.val_size) == (0.25, 0.2)
    assert not seed.model.cudnn_compatible


def test_fast_preset_is_default_and_cudnn_ready():
    fast = get_preset()
    assert fast.preset == "fast"
    assert fast.model.sequence_length is None
    assert fast.model.cudnn_compatible


def test_overrides_reach_every_section():
    config = get_preset("seed", epochs=3, lstm_units=32, balance="cap", cap_per_class=100)
    assert (config.train.epochs, config.model.lstm_units) == (3, 32)
    assert (config.data.balance, config.data.cap_per_class) == ("cap", 100)
    assert config.preset == "seed"


def test_ambiguous_override_must_be_prefixed():
    with pytest.raises(ConfigError, match="data_seed or train_seed"):
        get_preset("fast", seed=1)
    config = get_preset("fast", data_seed=1, train_seed=2)
    assert (config.data.seed, config.train.seed) == (1, 2)


def test_sequence_length_none_means_auto():
    config = get_preset("seed", sequence_length=None)
    assert config.model.sequence_length is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dropout": 1.5}, "dropout must be in"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"test_size": 1.0}, "test_size must be between 0 and 1"),
        ({"balance": "cap"}, "cap per class"),
        ({"padding": "middle"}, "padding must be one of"),
        ({"learning_rate": 0}, "learning_rate"),
    ],
)
def test_bad_values_name_the_setting(overrides, message):
    with pytest.raises(ConfigError, match=message):
        get_preset("fast", **overrides)


def test_unknown_preset_and_setting():
    with pytest.raises(ConfigError, match="choose one of: fast, seed"):
        get_preset("slow")
    with pytest.raises(ConfigError, match="Unknown setting 'colour'"):
        get_preset("fast", colour="red")


def test_round_trip_and_stable_hash():
    for config in PRESETS.values():
        again = ExperimentConfig.from_dict(config.to_dict())
        assert again == config
        assert config_hash(again.to_dict()) == config_hash(config.to_dict())
    assert config_hash(PRESETS["fast"].to_dict()) != config_hash(PRESETS["seed"].to_dict())
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})


def test_from_dict_rejects_unknown_keys():
    raw = PRESETS["fast"].to_dict()
    raw["model"]["attention"] = True
    with pytest.raises(ConfigError, match="unknown setting"):
        ExperimentConfig.from_dict(raw)
