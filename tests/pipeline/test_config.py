"""Presets, overrides, validation and the config hash."""

import dataclasses

import pytest

from pipeline.core.config import (
    MODEL_FAMILIES,
    SECTIONS,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    config_hash,
)
from pipeline.core.errors import ConfigError
from pipeline.core.presets import PRESETS, get_preset
from pipeline.core.settings import declared


def test_seed_preset_keeps_the_notebook_settings():
    seed = get_preset("seed")
    model = seed.model
    assert (model.family, model.max_tokens, model.sequence_length, model.padding) == (
        "lstm",
        8000,
        130,
        "pre",
    )
    assert (model.tokenizer, model.recurrent_activation) == ("keras2", "hard_sigmoid")
    assert (model.embedding_dim, model.units) == (128, 64)
    assert model.spatial_dropout == model.dropout == model.recurrent_dropout == 0.7
    assert (seed.data.dedupe, seed.data.balance) == ("drop_all", "downsample")
    assert (seed.data.test_size, seed.data.val_size) == (0.25, 0.2)
    # The notebook's fit: batch 256, 10 epochs, EarlyStopping(patience=7, min_delta=1e-4).
    assert (seed.train.batch_size, seed.train.epochs, seed.train.patience) == (256, 10, 7)
    assert (seed.train.min_delta, seed.train.lr_schedule) == (1e-4, "constant")


def test_fast_preset_is_default_and_uses_every_row():
    fast = get_preset()
    assert fast.preset == "fast"
    assert fast.data.balance == "class_weights"
    assert fast.model.sequence_length is None
    # what the fused cuDNN kernel of a recurrent family needs on a GPU
    assert fast.model.recurrent_dropout == 0.0 and fast.model.padding == "post"
    assert fast.model.recurrent_activation == "sigmoid"
    assert fast.train.epochs == 100 and fast.train.lr_schedule == "plateau"


def test_every_family_has_a_builder():
    pytest.importorskip("keras")
    from pipeline.models import FAMILIES

    assert list(FAMILIES) == list(MODEL_FAMILIES)


def test_overrides_reach_every_section():
    config = get_preset("seed", epochs=3, units=32, balance="cap", cap_per_class=100)
    assert (config.train.epochs, config.model.units) == (3, 32)
    assert (config.data.balance, config.data.cap_per_class) == ("cap", 100)
    assert config.preset == "seed"


def test_the_old_lstm_units_name_still_works():
    assert get_preset("seed", lstm_units=16).model.units == 16
    raw = PRESETS["seed"].to_dict()
    raw["model"]["lstm_units"] = raw["model"].pop("units")
    assert ExperimentConfig.from_dict(raw) == PRESETS["seed"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("epochs", "abc", "epochs must be an integer from 1 to 1,000 (got 'abc'); e.g. 30."),
        ("epochs", 0, "epochs must be an integer from 1 to 1,000 (got 0); e.g. 30."),
        ("epochs", "2.5", "epochs must be an integer from 1 to 1,000 (got '2.5')"),
        ("dropout", "lots", "dropout must be a number from 0 to 0.95 (got 'lots')"),
        ("dropout", 1.5, "dropout must be a number from 0 to 0.95 (got 1.5)"),
        ("family", "transformer", "family must be one of ngram_bag, ngram_ensemble, wide_deep"),
        ("test_size", "1", "test_size must be a number above 0 below 1"),
    ],
)
def test_a_wrong_type_gets_the_same_message_as_a_wrong_value(name, value, message):
    with pytest.raises(ConfigError) as info:
        get_preset("fast", **{name: value})
    assert message in str(info.value)


def test_strings_from_a_command_line_are_converted():
    config = get_preset("fast", epochs="7", learning_rate="0.01", sequence_length="auto")
    assert (config.train.epochs, config.model.learning_rate) == (7, 0.01)
    assert config.model.sequence_length is None


def test_a_config_built_by_hand_is_checked_too():
    with pytest.raises(ConfigError, match="batch_size must be an integer"):
        ExperimentConfig(train=TrainConfig(batch_size="64")).validate()
    with pytest.raises(ConfigError, match="set padding to pre"):
        ExperimentConfig(model=ModelConfig(tokenizer="keras2")).validate()


def test_every_setting_is_declared_with_help():
    for section in SECTIONS.values():
        names = {f.name for f in dataclasses.fields(section)}
        specs = dict(declared(section))
        assert set(specs) == names
        assert all(spec.label and spec.help and spec.example for spec in specs.values())


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
        ({"dropout": 1.5}, "dropout must be"),
        ({"balance": "cap"}, "cap per class"),
        ({"padding": "middle"}, "padding must be one of"),
        ({"learning_rate": 0}, "learning_rate"),
    ],
)
def test_bad_values_name_the_setting(overrides, message):
    with pytest.raises(ConfigError, match=message):
        get_preset("fast", **overrides)


def test_unknown_preset_and_setting():
    with pytest.raises(ConfigError, match="choose one of: fast, accurate, seed"):
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
    with pytest.raises(ConfigError, match="unknown model setting"):
        ExperimentConfig.from_dict(raw)
