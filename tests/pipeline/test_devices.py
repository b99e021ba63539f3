"""Device setup: precision settings, and a real MirroredStrategy fit on two logical CPUs."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core import device
from tests.tiny_training import PRESET_SEQUENCE_SIZES, tiny_cli_flags

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_use_mixed_precision_on_and_off() -> None:
    assert device.use_mixed_precision("on") is True
    assert device.use_mixed_precision("off") is False


@pytest.mark.parametrize("gpus", [[], ["GPU:0"]])
def test_use_mixed_precision_auto_follows_the_gpu(monkeypatch, gpus) -> None:
    import tensorflow as tf

    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: gpus)
    assert device.use_mixed_precision("auto") is bool(gpus)


def test_use_mixed_precision_rejects_unknown_settings() -> None:
    with pytest.raises(ValueError, match="precision"):
        device.use_mixed_precision("fp16")


def test_apply_precision_policy_off_is_float32() -> None:
    import keras

    before = keras.mixed_precision.dtype_policy()
    try:
        keras.mixed_precision.set_dtype_policy("mixed_float16")
        assert device.apply_precision_policy("off") == "float32"
        assert keras.mixed_precision.dtype_policy().name == "float32"
        assert device.apply_precision_policy("on") == "mixed_float16"
        assert keras.mixed_precision.dtype_policy().name == "mixed_float16"
    finally:
        keras.mixed_precision.set_dtype_policy(before)


def test_requested_cpu_devices_parses_the_environment(monkeypatch) -> None:
    for raw, expected in [("2", 2), (" 4 ", 4), ("1", 0), ("0", 0), ("x", 0), ("", 0)]:
        monkeypatch.setenv(device.CPU_DEVICES_ENV, raw)
        assert device._requested_cpu_devices() == expected


_MIRRORED_FIT = """
import json
import numpy as np
import tensorflow as tf
import keras
from pipeline.core.device import configure_devices, training_strategy

configure_devices()
configure_devices()  # idempotent
strategy, description = training_strategy()
assert isinstance(strategy, tf.distribute.MirroredStrategy), type(strategy)
rng = np.random.default_rng(0)
x = rng.integers(1, 50, size=(200, 12)).astype("int32")
y = rng.integers(0, 3, size=(200,)).astype("int32")
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
with strategy.scope():
    model = keras.Sequential([
        keras.Input(shape=(12,), dtype="int32"),
        keras.layers.Embedding(50, 8),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
history = model.fit(dataset, epochs=1, verbose=0)
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "description": description,
    "loss": float(history.history["loss"][-1]),
}))
"""


@pytest.mark.training
def test_mirrored_strategy_fits_on_two_logical_cpus() -> None:
    env = {
        **os.environ,
        device.CPU_DEVICES_ENV: "2",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "-1",
    }
    done = subprocess.run(
        [sys.executable, "-c", _MIRRORED_FIT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["description"] == "2 logical CPU devices (MirroredStrategy)"
    assert math.isfinite(result["loss"])


@pytest.mark.training
def test_the_real_training_entry_point_runs_under_two_logical_devices(tmp_path):
    """``python -m pipeline train`` fits, evaluates and saves under MirroredStrategy."""
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "HEADLINE_LAB_CPU_DEVICES": "2",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "-1",
    }
    flags = tiny_cli_flags(
        cap_per_class=150,
        epochs=2,
        batch_size=None,
        **PRESET_SEQUENCE_SIZES,
        ngram_tokens=3000,
        ngram_dim=None,
    )
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "train", "--data", "tests/fixtures/uci_small.csv",
         *flags, "--runs-dir", str(tmp_path), "--json"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["device"] == "2 logical CPU devices (MirroredStrategy)"
    assert result["epochs"] == 2
    from sklearn.metrics import accuracy_score
    from training_support import majority_share, predict_test_set

    from pipeline.data import load_dataset
    from pipeline.runs.registry import RunRegistry

    # the model trained on two devices scores, on one, what the run saved
    registry = RunRegistry(tmp_path)
    small = load_dataset(root / "tests" / "fixtures" / "uci_small.csv")
    true, predicted = predict_test_set(small, registry, result["run_id"])
    assert result["test_accuracy"] == pytest.approx(accuracy_score(true, predicted))
    assert result["test_accuracy"] > majority_share(true)  # above guessing one class
    assert registry.load_model(result["run_id"]).name == "end_to_end_model"
