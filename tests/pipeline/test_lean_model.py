"""Lean model files and TensorBoard logs (real tiny trainings).

``model.keras`` (what predictions, downloads and run archives use) holds no optimizer
state; ``training_state.h5`` beside it does, and continuing the run reads it; runs of
the older layout (optimizer inside ``model.keras``, no state file) still load, export
and continue, with a fresh optimizer. Each training writes TensorBoard event files
into its own run folder (``logs/``), which archives leave out.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import threading
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import tensorflow as tf
from training_support import unzip_members, zip_members

from pipeline.core.config import ModelConfig
from pipeline.core.errors import TrainingStopped
from pipeline.models import compile_for_training
from pipeline.models.features import build_end_to_end_model, split_end_to_end_model
from pipeline.runs.files import (
    LOGS_DIR,
    MODEL_FILE,
    PREDICTIONS_FILE,
    RUN_FILES,
    TRAINING_MODEL_FILE,
    TRAINING_STATE_FILE,
)
from pipeline.runs.registry import RunRegistry
from pipeline.scoring.predictor import Predictor
from pipeline.training.train import train_run
from tests.tiny_training import tiny_config

pytestmark = pytest.mark.training


def weight_names(keras_file: bytes) -> list[str]:
    """Every dataset path in the ``model.weights.h5`` of a ``.keras`` archive."""
    with zipfile.ZipFile(io.BytesIO(keras_file)) as archive:
        weights = archive.read("model.weights.h5")
    names: list[str] = []
    with h5py.File(io.BytesIO(weights), "r") as handle:
        handle.visit(names.append)
    return names


def compile_configs(config: object) -> list[dict]:
    """The non-empty ``compile_config`` entries anywhere in a Keras model config."""
    if isinstance(config, list):
        return [found for item in config for found in compile_configs(item)]
    if not isinstance(config, dict):
        return []
    own = [config["compile_config"]] if config.get("compile_config") else []
    return own + [found for value in config.values() for found in compile_configs(value)]


def optimizer_iterations(state_file: Path) -> int:
    """The optimizer's step count saved in a ``training_state.h5`` (the largest one: a
    loss-scale optimizer's own count stays 0, its inner Adam's counts)."""
    with h5py.File(state_file, "r") as handle:
        counts = [
            int(data[()])
            for data in handle["optimizer"].values()
            if str(data.attrs["path"]).endswith("/iteration")
        ]
    assert counts, f"no iteration count in {state_file}"
    return max(counts)


def copy_run(source_dir: Path, run_id: str, runs_dir: Path) -> RunRegistry:
    """A runs folder of its own holding a copy of one run (so a continuation trains
    there and never meets another test's cached run)."""
    shutil.copytree(source_dir / run_id, runs_dir / run_id)
    return RunRegistry(runs_dir)


def make_old_layout(folder: Path) -> None:
    """Turn a run folder into what Headline Lab saved before: the optimizer's state
    inside ``model.keras`` (the nested classifier compiled, with Adam's variables),
    no ``training_state.h5``, no ``logs/``, no ``test_predictions.json``, no
    ``optimizer_state`` in config.json, and the full model itself as ``model.keras``
    (no lean one, no ``training_model.keras``)."""
    registry = RunRegistry(folder.parent)
    encoder, classifier = split_end_to_end_model(registry.load_training_model(folder.name))
    (folder / TRAINING_MODEL_FILE).unlink()
    compile_for_training(classifier, ModelConfig(optimizer="adam", learning_rate=0.001))
    classifier.optimizer.build(classifier.trainable_variables)
    (folder / TRAINING_STATE_FILE).unlink()
    (folder / PREDICTIONS_FILE).unlink()
    shutil.rmtree(folder / LOGS_DIR)
    build_end_to_end_model(encoder, classifier).save(folder / MODEL_FILE)
    config = json.loads((folder / "config.json").read_text())
    del config["resolved"]["optimizer_state"]
    (folder / "config.json").write_text(json.dumps(config))


def continue_run(registry: RunRegistry, parent_id: str, uci_small) -> str:
    result = train_run(
        uci_small, tiny_config(epochs=1), runs_dir=registry.root, parent_run_id=parent_id
    )
    assert not result.from_cache
    return result.run_id


def test_the_model_users_get_holds_no_optimizer_state(trained_run, runs_dir):
    result, _ = trained_run
    registry = RunRegistry(runs_dir)
    exported = unzip_members(registry.export_zip(result.run_id))
    # no training state, no logs in an archive
    assert set(exported) == {*RUN_FILES, PREDICTIONS_FILE}
    names = weight_names(exported[MODEL_FILE])
    assert any("embedding" in name for name in names)  # the weights are there
    assert not [name for name in names if "optimizer" in name]
    with zipfile.ZipFile(io.BytesIO(exported[MODEL_FILE])) as archive:
        assert not compile_configs(json.loads(archive.read("config.json")))
    assert exported[MODEL_FILE] == (result.run_dir / MODEL_FILE).read_bytes()
    # the optimizer's state is kept beside it: Adam's two moments per weight
    with h5py.File(result.run_dir / TRAINING_STATE_FILE, "r") as handle:
        paths = [str(data.attrs["path"]) for data in handle["optimizer"].values()]
    assert any(path.endswith("_momentum") for path in paths)
    assert any(path.endswith("_velocity") for path in paths)
    # the runs table reads the folder as a sound run
    summary = next(run for run in registry.list_runs() if run.run_id == result.run_id)
    assert not summary.damaged


def test_a_continued_run_goes_on_from_the_saved_optimizer_state(
    trained_run, runs_dir, uci_small, tmp_path
):
    parent, _ = trained_run
    registry = copy_run(runs_dir, parent.run_id, tmp_path / "runs")
    saved_parent = registry.get(parent.run_id)
    assert len(saved_parent.history) == 2 and not any(row.partial for row in saved_parent.history)
    parent_steps = optimizer_iterations(saved_parent.training_state_path)
    assert parent_steps > 0 and parent_steps % 2 == 0

    child = registry.get(continue_run(registry, parent.run_id, uci_small))
    assert child.config.resolved.optimizer_state == "restored"
    # Adam's step count went on from the parent's: one more epoch of the same batches
    assert optimizer_iterations(child.training_state_path) == parent_steps + parent_steps // 2
    assert [row.epoch for row in child.history] == [1, 2, 3]


def test_a_continued_ensemble_restores_its_training_models_optimizer(uci_small, tmp_path):
    """The ensemble fits a training model of its own (one output per head) around the
    classifier: its optimizer is the one saved and restored."""
    registry = RunRegistry(tmp_path)
    parent = train_run(uci_small, tiny_config(family="ngram_ensemble"), runs_dir=tmp_path)
    assert not [n for n in weight_names((parent.run_dir / MODEL_FILE).read_bytes()) if "optim" in n]
    parent_steps = optimizer_iterations(parent.run_dir / TRAINING_STATE_FILE)
    child = registry.get(continue_run(registry, parent.run_id, uci_small))
    assert child.config.resolved.optimizer_state == "restored"
    assert optimizer_iterations(child.training_state_path) == parent_steps + parent_steps // 2


def test_an_old_layout_run_loads_exports_and_continues_with_a_fresh_optimizer(
    trained_run, runs_dir, uci_small, tmp_path, caplog, model_checker
):
    parent, _ = trained_run
    full_model = RunRegistry(runs_dir).load_training_model(parent.run_id)
    parent_steps = optimizer_iterations(parent.run_dir / TRAINING_STATE_FILE)
    registry = copy_run(runs_dir, parent.run_id, tmp_path / "runs")
    folder = registry.path_of(parent.run_id)
    make_old_layout(folder)
    assert sorted(path.name for path in folder.iterdir()) == sorted(RUN_FILES)
    assert [n for n in weight_names((folder / MODEL_FILE).read_bytes()) if "optimizer" in n]

    # it loads and predicts as the full model did
    old = registry.get(parent.run_id)
    assert old.config.resolved.optimizer_state is None
    assert not [run for run in registry.list_runs() if run.damaged]
    texts = ["Fed raises interest rates again", "New vaccine trial shows promise"]
    predictor = Predictor.from_run(registry, parent.run_id)
    expected = full_model.predict(tf.constant([[text] for text in texts]), verbose=0)
    np.testing.assert_allclose(predictor.probabilities(texts), expected, rtol=1e-5, atol=1e-6)

    # it exports and imports as before
    elsewhere = RunRegistry(tmp_path / "imported", model_checker=model_checker)
    assert elsewhere.get(elsewhere.import_zip(registry.export_zip(parent.run_id))).complete

    # and continues, with a fresh optimizer, which the run records and a log line says
    with caplog.at_level(logging.WARNING, logger="pipeline.training.train"):
        child = registry.get(continue_run(registry, parent.run_id, uci_small))
    assert child.config.resolved.optimizer_state == "fresh"
    assert "with a fresh optimizer" in caplog.text and "no training_state.h5" in caplog.text
    assert optimizer_iterations(child.training_state_path) == parent_steps // 2
    assert [row.epoch for row in child.history] == [1, 2, 3]


def test_an_imported_run_continues_with_a_fresh_optimizer(
    trained_run, runs_dir, uci_small, tmp_path, model_checker
):
    parent, _ = trained_run
    registry = RunRegistry(tmp_path / "runs", model_checker=model_checker)
    imported_id = registry.import_zip(RunRegistry(runs_dir).export_zip(parent.run_id))
    imported = registry.get(imported_id)
    assert not imported.training_state_path.exists() and not imported.logs_path.exists()
    child = registry.get(continue_run(registry, imported_id, uci_small))
    assert child.config.resolved.optimizer_state == "fresh"


def event_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """``{tag: [(step, value), ...]}`` of every TensorBoard event file in ``folder``."""
    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor))
                scalars.setdefault(value.tag, []).append((event.step, number))
    return scalars


def test_a_training_writes_tensorboard_logs_inside_its_run(trained_run, runs_dir, tmp_path):
    result, _ = trained_run
    registry = RunRegistry(runs_dir)
    saved = registry.get(result.run_id)
    logs = saved.logs_path
    assert (logs / "train").is_dir() and (logs / "validation").is_dir()
    train, validation = event_scalars(logs / "train"), event_scalars(logs / "validation")
    # one point per epoch (steps 0 and 1), the history's values
    assert [step for step, _ in train["epoch_loss"]] == [0, 1]
    for (_, value), row in zip(train["epoch_loss"], saved.history, strict=True):
        assert value == pytest.approx(row.loss, rel=1e-5)
    for (_, value), row in zip(validation["epoch_loss"], saved.history, strict=True):
        assert value == pytest.approx(row.val_loss, rel=1e-5)
    assert [step for step, _ in train["epoch_learning_rate"]] == [0, 1]
    assert not [tag for tag in train if tag.startswith("batch_")]  # epoch points only
    # the training's hidden logs folder was moved into the run, nothing left behind
    assert not list(runs_dir.glob(".logs-*"))
    # the run is sound, and its archive leaves the logs out and imports cleanly
    assert not next(run for run in registry.list_runs() if run.run_id == result.run_id).damaged
    archive = registry.export_zip(result.run_id)
    assert set(unzip_members(archive)) == {*RUN_FILES, PREDICTIONS_FILE}
    other = RunRegistry(tmp_path)
    imported_id = other.import_zip(zip_members(unzip_members(archive)))
    assert other.get(imported_id).complete
    other.delete(imported_id)
    assert other.list_runs() == []


def test_a_training_stopped_before_its_first_epoch_leaves_no_logs(uci_small, tmp_path):
    stop = threading.Event()

    def stop_at_first_batch(event) -> None:
        if event.kind == "batch":
            stop.set()

    with pytest.raises(TrainingStopped, match="nothing was saved"):
        train_run(
            uci_small,
            tiny_config(epochs=3),
            runs_dir=tmp_path,
            on_progress=stop_at_first_batch,
            stop_event=stop,
        )
    assert not list(tmp_path.glob(".logs-*"))
    assert RunRegistry(tmp_path).list_runs() == []
