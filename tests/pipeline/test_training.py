"""Real (tiny) trainings: save, cache, predict, resume, stop, seed preset."""

from __future__ import annotations

import dataclasses
import json
import threading

import numpy as np
import pytest

from pipeline.core.errors import TrainingError
from pipeline.data import fingerprint
from pipeline.data.prepare import prepare
from pipeline.models.text import choose_sequence_length
from pipeline.runs.files import (
    JSON_FILES,
    LOGS_DIR,
    MODEL_FILE,
    PREDICTIONS_FILE,
    TRAINING_MODEL_FILE,
    TRAINING_STATE_FILE,
)
from pipeline.runs.ids import make_run_id
from pipeline.runs.record import SCHEMA_VERSION
from pipeline.runs.registry import RunRegistry
from pipeline.scoring.predictor import Predictor
from pipeline.training.baseline import fit_and_score_baseline
from pipeline.training.fit import MAX_STEPS_PER_EXECUTION
from pipeline.training.train import TrainingStopped, train_run
from tests.tiny_training import tiny_config

pytestmark = pytest.mark.training


def test_a_run_is_saved_with_every_file(trained_run, runs_dir, uci_small):
    result, _ = trained_run
    assert not result.from_cache and not result.stopped
    names = {path.name for path in result.run_dir.iterdir()}
    assert names == {
        MODEL_FILE, *JSON_FILES, PREDICTIONS_FILE, TRAINING_STATE_FILE, TRAINING_MODEL_FILE,
        LOGS_DIR,
    }  # fmt: skip
    saved = RunRegistry(runs_dir).get(result.run_id)
    assert saved.complete
    assert [row.epoch for row in saved.history] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(
        saved.history[0].metrics
    )
    assert saved.labels.classes == ("b", "e", "m", "t")
    assert saved.labels.name("m") == "health"
    assert saved.metrics.n_test == saved.data.summary.split_sizes.test
    # the baseline's score is the one scikit-learn gives on the same training and test rows
    prepared = prepare(uci_small, saved.config.experiment.data)
    expected = fit_and_score_baseline(
        prepared.train["text"],
        prepared.train["label"],
        prepared.test["text"],
        prepared.test["label"],
        class_weighted=True,
    )
    assert saved.metrics.baseline.test_accuracy == pytest.approx(expected["test_accuracy"])
    assert saved.metrics.baseline.balanced_accuracy == pytest.approx(expected["balanced_accuracy"])
    assert saved.config.resolved.sequence_length == choose_sequence_length(
        prepared.train["text"].tolist()
    )
    assert saved.data.fingerprint == fingerprint(uci_small)
    assert saved.run.origin == "trained" and saved.run.schema_version == SCHEMA_VERSION
    # nothing but runs and the baselines' and encoders' caches: no temporary folder left
    left = {p.name for p in runs_dir.iterdir() if p.name.startswith(".")}
    assert left <= {".baselines", ".encoders"}, left
    assert not [p for p in (runs_dir / ".encoders").iterdir() if p.name.startswith(".")]


def test_progress_events_cover_phases_batches_epochs_and_end(trained_run):
    _, events = trained_run
    kinds = [event.kind for event in events]
    assert kinds[0] == "phase" and kinds[-1] == "end"
    assert kinds.count("epoch") == 2
    phases = [event.phase for event in events if event.kind == "phase"]
    # every phase in order; "baseline" only shows when the baseline is still fitting
    assert [p for p in phases if p != "baseline"] == [
        "preparing",
        "vectorizing",
        "training",
        "evaluating",
        "saving",
    ]
    assert kinds.index("start") > kinds.index("phase")
    batches = [e for e in events if e.kind == "batch"]
    # batch events are throttled (a quarter second apart), the first one always comes: after
    # the first call of the step function, which runs up to 16 of a bag's short batches
    first_call = min(MAX_STEPS_PER_EXECUTION, batches[0].batches)
    assert batches[0].batch == first_call and batches[-1].batch <= batches[0].batches
    for event in batches:  # the share of all epochs' batches done
        done = (event.epoch - 1) * event.batches + event.batch
        assert event.fraction_done == pytest.approx(done / (event.epochs * event.batches))
        assert event.step_fraction == pytest.approx(event.batch / event.batches)
    assert events[-1].fraction_done == 1.0
    assert "loss" in batches[-1].logs


def test_same_data_and_settings_come_from_the_cache(trained_run, uci_small, runs_dir):
    """No training happens: the only event is the cache's end, and no file of the run
    is written again."""
    result, _ = trained_run
    written = {path: path.stat().st_mtime_ns for path in result.run_dir.rglob("*")}
    events = []
    again = train_run(uci_small, tiny_config(), runs_dir=runs_dir, on_progress=events.append)
    assert again.from_cache and again.run_id == result.run_id
    assert [(event.kind, event.message) for event in events] == [
        ("end", "Loaded from cache: trained before on this data and settings.")
    ]
    assert {path: path.stat().st_mtime_ns for path in result.run_dir.rglob("*")} == written


def test_run_id_depends_on_data_settings_and_parent(uci_small):
    fp = fingerprint(uci_small)
    base = make_run_id(fp, tiny_config(), None)
    assert base == make_run_id(fp, tiny_config(), None)
    assert base != make_run_id(fp, tiny_config(epochs=3), None)
    assert base != make_run_id("0" * 16, tiny_config(), None)
    assert base != make_run_id(fp, tiny_config(), "abcdef0123456789")


def test_saved_model_predicts_raw_strings(trained_run, runs_dir):
    result, _ = trained_run
    predictor = Predictor.from_run(RunRegistry(runs_dir), result.run_id)
    frame = predictor.predict(["Stocks rally as Fed holds rates", "", "Ebola outbreak spreads"])
    assert list(frame.columns[:4]) == ["text", "label", "label_name", "confidence"]
    probs = frame[[f"p_{c}" for c in predictor.classes]].to_numpy()
    assert np.allclose(probs[[0, 2]].sum(axis=1), 1.0, atol=1e-5)
    assert frame.loc[1, "label"] == "" and np.isnan(frame.loc[1, "confidence"])
    one = predictor.predict_one("Stocks rally as Fed holds rates")
    assert set(one) == {"business", "entertainment", "health", "science/tech"}
    assert list(one.values()) == sorted(one.values(), reverse=True)
    words = predictor.word_importance("Stocks rally as Fed holds rates")
    assert [w.word for w in words] == ["Stocks", "rally", "as", "Fed", "holds", "rates"]


def test_batch_prediction_of_thousands_matches_single_calls(trained_run, runs_dir):
    result, _ = trained_run
    predictor = Predictor.from_run(RunRegistry(runs_dir), result.run_id)
    texts = [f"headline number {i} about markets and movies" for i in range(5000)]
    texts[123] = "Apple shares climb after iPhone launch"
    probs = predictor.probabilities(texts)
    assert probs.shape == (5000, 4)
    single = predictor.probabilities([texts[123]])[0]
    assert np.allclose(probs[123], single, atol=1e-5)


def test_resume_continues_history_and_records_parent(trained_run, uci_small, runs_dir):
    parent, _ = trained_run
    child = train_run(
        uci_small, tiny_config(epochs=1), runs_dir=runs_dir, parent_run_id=parent.run_id
    )
    assert child.run_id != parent.run_id and not child.from_cache
    saved = RunRegistry(runs_dir).get(child.run_id)
    assert [row.epoch for row in saved.history] == [1, 2, 3]
    assert saved.config.parent_run_id == parent.run_id
    # the parent's data and model settings win over the ones passed in
    parent_config = RunRegistry(runs_dir).get(parent.run_id).config
    assert saved.config.experiment.model == parent_config.experiment.model


def test_stop_ends_within_a_batch_and_keeps_the_best_epoch(uci_small, tmp_path):
    stop = threading.Event()
    seen = []

    def on_progress(event):
        seen.append(event)
        if event.kind == "epoch" and event.epoch == 1:
            stop.set()  # takes effect after epoch 2's first batch

    result = train_run(
        uci_small,
        tiny_config(epochs=5),
        runs_dir=tmp_path,
        on_progress=on_progress,
        stop_event=stop,
    )
    assert result.stopped
    registry = RunRegistry(tmp_path)
    saved = registry.get(result.run_id)
    assert saved.run.status == "stopped"
    # epoch 2 ran one batch: it is kept in the history, marked partial
    assert [row.partial for row in saved.history] == [False, True]
    # a stopped run is listed but never served from the cache
    assert registry.find_complete(result.run_id) is None
    again = train_run(
        uci_small,
        tiny_config(epochs=5),
        runs_dir=tmp_path,
        stop_event=None,
        on_progress=lambda e: None,
    )
    assert not again.from_cache


def test_stop_before_the_first_epoch_saves_nothing(uci_small, tmp_path):
    stop = threading.Event()
    stop.set()
    with pytest.raises(TrainingStopped, match="nothing was saved"):
        train_run(uci_small, tiny_config(), runs_dir=tmp_path, stop_event=stop)
    assert RunRegistry(tmp_path).list_runs() == []


def test_seed_preset_trains_with_left_padding(uci_small, tmp_path):
    config = tiny_config("seed", epochs=1, sequence_length=24)
    result = train_run(uci_small, config, runs_dir=tmp_path)
    saved = RunRegistry(tmp_path).get(result.run_id)
    assert saved.config.experiment.model.padding == "pre"
    assert saved.config.resolved.sequence_length == 24
    model = RunRegistry(tmp_path).load_model(result.run_id)
    encoder = model.get_layer("encoder")
    assert "pad_sequences" in [layer.name for layer in encoder.layers]
    config_json = json.loads((result.run_dir / "config.json").read_text())
    assert config_json["preset"] == "seed"


def test_resume_refuses_data_with_other_classes(trained_run, runs_dir, tmp_path):
    from pipeline.data import load_dataset

    parent, _ = trained_run
    rows = ["TITLE,CATEGORY"] + [f"headline {i} words here,{'xy'[i % 2]}" for i in range(60)]
    path = tmp_path / "two.csv"
    path.write_text("\n".join(rows))
    other = load_dataset(path)
    with pytest.raises(TrainingError, match="same classes"):
        train_run(
            other,
            tiny_config(epochs=1),
            runs_dir=runs_dir,
            parent_run_id=parent.run_id,
            allow_other_data=True,
        )


def test_resume_on_other_data_is_refused_unless_allowed(trained_run, runs_dir, uci_small):
    """Found: continuing compared only the class lists, never the data."""
    parent, _ = trained_run
    other = dataclasses.replace(uci_small, frame=uci_small.frame.iloc[:2000], name="part.csv")
    assert fingerprint(other) != fingerprint(uci_small)
    with pytest.raises(TrainingError, match=r"trained on uci_small\.csv .* now is part\.csv"):
        train_run(other, tiny_config(epochs=1), runs_dir=runs_dir, parent_run_id=parent.run_id)
    allowed = train_run(
        other,
        tiny_config(epochs=1),
        runs_dir=runs_dir,
        parent_run_id=parent.run_id,
        allow_other_data=True,
    )
    saved = RunRegistry(runs_dir).get(allowed.run_id)
    assert saved.config.parent_run_id == parent.run_id
    assert saved.data.fingerprint == fingerprint(other) and len(saved.history) == 3
