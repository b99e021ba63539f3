"""``python -m pipeline sweep``: settings sweeps on Ray Tune, every trial a real saved run.

The CLI runs as a subprocess on a local Ray and once on the two-node test cluster; the
trials train tiny real n-gram bags on ``uci_small.csv`` (480 rows once capped). Every
leaderboard value is checked against the run files the trials wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.runs.record import RUN_ID_PATTERN
from pipeline.sweep.runner import STOPS_FOLDER
from tests.tiny_training import PRESET_SEQUENCE_SIZES, tiny_cli_flags, tiny_config

pytestmark = [pytest.mark.ray, pytest.mark.training]

ROOT = Path(__file__).resolve().parents[2]
UCI_SMALL = ROOT / "tests" / "fixtures" / "uci_small.csv"
#: Tiny trials: 120 rows per class, 2 epochs, a 500-gram vocabulary, n-gram bags only;
#: the n-gram width is not passed (a setting passed is not searched).
TINY = [
    "--data",
    str(UCI_SMALL),
    *tiny_cli_flags(**PRESET_SEQUENCE_SIZES, ngram_tokens=500, ngram_dim=None),
    "--families",
    "ngram_bag",
]
#: What a sweep over n-gram bags samples (no word-embedding width: no bag uses one).
SEARCHED = ["family", "learning_rate", "ngram_dim", "dropout", "weight_decay"]


def _sweep(runs_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m pipeline sweep`` with the tiny settings, ``args`` and ``runs_dir``."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "sweep", *TINY, "--runs-dir", str(runs_dir), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def _leaderboard(done: subprocess.CompletedProcess) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _run_files(runs_dir: Path) -> dict[str, dict[str, Any]]:
    """Each run folder's JSON documents, read straight from disk: run id -> name -> JSON."""
    return {
        folder.name: {
            name: json.loads((folder / f"{name}.json").read_text())
            for name in ("run", "config", "history", "metrics")
        }
        for folder in runs_dir.iterdir()
        if RUN_ID_PATTERN.match(folder.name)
    }


def _assert_rows_are_the_runs(board: dict[str, Any], runs_dir: Path, status: str) -> None:
    """Every trial row holds exactly its run's saved values; the baseline is theirs too."""
    files = _run_files(runs_dir)
    notes = [(row["status"], row["note"]) for row in board["trials"]]  # why a run is missing
    assert sorted(row["run_id"] for row in board["trials"]) == sorted(files), notes
    for rank, row in enumerate(board["trials"], start=1):
        run = files[row["run_id"]]
        model = run["config"]["model"]
        whole = [epoch for epoch in run["history"] if not epoch.get("partial")]
        kept = next((e for e in whole if e.get("best")), None) or min(
            whole, key=lambda e: e["val_loss"]
        )
        assert row["rank"] == rank
        assert (row["status"], run["run"]["status"]) == (status, "complete")
        assert row["family"] == model["family"] == "ngram_bag"
        assert row["settings"] == {name: model[name] for name in SEARCHED[1:]}
        assert 3e-4 <= model["learning_rate"] <= 3e-2 and 8 <= model["ngram_dim"] <= 128
        assert row["epochs"] == len(run["history"]) == 2
        assert row["best_epoch"] == run["run"]["best_epoch"]
        assert (row["val_loss"], row["val_accuracy"]) == (kept["val_loss"], kept["val_accuracy"])
        assert row["test_accuracy"] == run["metrics"]["test_accuracy"]
        assert row["macro_f1"] == run["metrics"]["macro_f1"]
        assert row["seconds"] == run["run"]["duration_s"]
        baseline = run["metrics"]["baseline"]
        assert board["baseline"] == {key: baseline[key] for key in board["baseline"]}
    losses = [row["val_loss"] for row in board["trials"]]
    assert losses == sorted(losses)
    assert board["searched"] == SEARCHED
    assert board["runs_dir"] == str(runs_dir.resolve())


@pytest.fixture(scope="module")
def first_sweep(tmp_path_factory) -> tuple[dict[str, Any], Path]:
    """Three trials on a local Ray: the leaderboard and the runs folder."""
    runs_dir = tmp_path_factory.mktemp("sweep_runs")
    return _leaderboard(_sweep(runs_dir, "--trials", "3", "--json")), runs_dir


def test_a_sweep_saves_every_trial_as_a_run_and_ranks_them(first_sweep):
    board, runs_dir = first_sweep
    assert len(board["trials"]) == 3
    assert set(board["baseline"]) == {"name", "test_accuracy", "macro_f1", "balanced_accuracy"}
    _assert_rows_are_the_runs(board, runs_dir, status="complete")
    # Found: the scheduler's stop-marker folder stayed in the runs folder, empty.
    assert not (runs_dir / STOPS_FOLDER).exists()


def test_the_same_sweep_again_trains_nothing(first_sweep):
    board, runs_dir = first_sweep
    saved = {path: path.stat().st_mtime_ns for path in runs_dir.glob("*/run.json")}

    again = _leaderboard(_sweep(runs_dir, "--trials", "3", "--json"))

    assert [row["status"] for row in again["trials"]] == ["cached"] * 3
    assert [row["run_id"] for row in again["trials"]] == [row["run_id"] for row in board["trials"]]
    _assert_rows_are_the_runs(again, runs_dir, status="cached")
    assert {path: path.stat().st_mtime_ns for path in runs_dir.glob("*/run.json")} == saved


def test_a_sweep_runs_on_a_two_node_cluster(two_node_cluster, tmp_path):
    board = _leaderboard(_sweep(tmp_path, "--trials", "2", "--json", "--address", two_node_cluster))
    assert len(board["trials"]) == 2
    _assert_rows_are_the_runs(board, tmp_path, status="complete")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--families", "ngram_bag,transformer"],
            "error: Unknown model family 'transformer' in --families; choose among ngram_bag",
        ),
        (
            ["--address", "127.0.0.1:1"],
            "error: Nothing answers at the Ray address '127.0.0.1:1' (Connection refused)",
        ),
    ],
    ids=["unknown family", "unreachable address"],
)
def test_bad_flags_get_one_line_and_status_2(tmp_path, flags, message):
    done = _sweep(tmp_path, "--trials", "2", *flags)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), done.stderr[-2000:]
    assert done.stdout == "" and not any(tmp_path.iterdir())


def test_the_space_samples_inside_the_declarations_and_unused_settings_keep_the_preset():
    from pipeline.core.presets import get_preset
    from pipeline.core.settings import coerce
    from pipeline.sweep.space import declaration, trial_config, tune_space

    space = tune_space(["ngram_bag", "cnn"], fixed={"dropout"})
    assert list(space) == ["family", "learning_rate", "ngram_dim", "embedding_dim", "weight_decay"]
    for name, domain in space.items():
        values = list(domain.sample(size=200, random_state=0))
        assert all(coerce(name, declaration(name), value) == value for value in values)
    rates = list(space["learning_rate"].sample(size=200, random_state=0))
    assert min(rates) >= 3e-4 and max(rates) <= 3e-2
    assert sum(rate < 3e-3 for rate in rates) > 60  # a log scale: a decade each side of 3e-3
    assert set(space["family"].sample(size=50, random_state=0)) == {"ngram_bag", "cnn"}
    # A CNN has no n-gram bag: its sampled width is dropped, so both trials are one run.
    base = get_preset("fast")
    one, other = (
        trial_config(
            base, {"family": "cnn", "ngram_dim": width, "weight_decay": 0.30000000000000004}
        )
        for width in (9, 100)
    )
    assert one == other
    assert (one.model.ngram_dim, one.model.weight_decay) == (base.model.ngram_dim, 0.3)


def _trial_class(tmp_path: Path, monkeypatch, epochs: int, **options: Any) -> type:
    """A :class:`SweepTrial` on ``uci_small.csv`` with tiny settings and ``epochs``, taking
    the keyword arguments that ``tune.with_parameters`` would pass; runs go to ``runs``."""
    from pipeline.data import fingerprint, load_dataset
    from pipeline.sweep.trial import SweepTrial

    # A trainable made outside Tune keeps a scratch folder under ~/ray_results: not here.
    monkeypatch.setattr("ray.tune.trainable.trainable.DEFAULT_STORAGE_PATH", str(tmp_path / "tune"))
    dataset = load_dataset(UCI_SMALL)
    base = tiny_config(
        epochs=epochs,
        patience=epochs,
        batch_size=None,
        **PRESET_SEQUENCE_SIZES,
        ngram_tokens=500,
        ngram_dim=None,
    )

    class Trial(SweepTrial):
        def setup(self, config):
            super().setup(
                config,
                dataset=dataset,
                base=base,
                data_fingerprint=fingerprint(dataset),
                runs_dir=str(tmp_path / "runs"),
                **options,
            )

    return Trial


def test_a_trial_that_tune_stops_keeps_its_run_as_stopped(tmp_path, monkeypatch):
    """What Tune does when ASHA stops a trial after epoch 1: ``stop()`` on the trainable.
    The run is saved, stopped, with epoch 1 whole and epoch 2 cut short."""
    from pipeline.runs.registry import RunRegistry

    trial = _trial_class(tmp_path, monkeypatch, epochs=20)(
        config={"family": "ngram_bag", "learning_rate": 0.02, "ngram_dim": 8}
    )
    first = trial.train()  # epoch 1; the training now waits for Tune's decision
    trial.stop()

    saved = RunRegistry(tmp_path / "runs").get(first["run_id"])
    assert saved.run.status == "stopped"
    assert [(row.epoch, row.partial) for row in saved.history] == [
        (1, False),
        (2, True),
    ]
    assert (first["epoch"], first["val_loss"], first["cached"]) == (
        1,
        saved.history[0].val_loss,
        False,
    )


def test_the_last_epoch_reaches_tune_once_the_run_is_saved(tmp_path, monkeypatch):
    """ASHA stops every trial at its last epoch's result (``max_t``), and when that was
    the sweep's last trial Tune kills its actor 10 s after asking it to stop: a save still
    under way then was lost under load ("not saved"). So the last epoch's result comes
    only once the run is saved, marked ``done``; stopping the trial then waits for nothing.
    """
    from pipeline.runs.registry import RunRegistry

    trial = _trial_class(tmp_path, monkeypatch, epochs=2)(
        config={"family": "ngram_bag", "learning_rate": 0.02, "ngram_dim": 8}
    )
    first = trial.train()
    last = trial.train()

    assert (first["epoch"], first.get("done", False)) == (1, False)
    assert (last["epoch"], last["done"]) == (2, True)
    saved = RunRegistry(tmp_path / "runs").get(last["run_id"])  # before any stop()
    assert saved.run.status == "complete"
    assert [row.val_loss for row in saved.history] == [first["val_loss"], last["val_loss"]]
    trial.stop()


@pytest.mark.parametrize(
    ("reported_epoch", "note"),
    [
        (None, "ended before its first epoch did (stopped, or never started within the budget)"),
        (
            3,
            "stopped after epoch 3; Tune ended its actor before the run was saved "
            "(a busy machine: run the sweep again, or give it more time)",
        ),
    ],
    ids=["no epoch", "after epoch 3"],
)
def test_a_trial_without_a_saved_run_says_how_far_it_got(tmp_path, reported_epoch, note):
    """A trial whose run is missing and that gave no reason: the note names the last epoch
    it reported, as "before its first epoch" misled when a save was cut short."""
    from pipeline.runs.registry import RunRegistry
    from pipeline.sweep.leaderboard import trial_row

    row = trial_row(
        RunRegistry(tmp_path),
        "20240101-000000-aaaaaaaa",
        tiny_config(),
        ["learning_rate"],
        reported_epoch=reported_epoch,
    )
    assert (row.status, row.note) == ("not saved", note)


def test_a_trial_asha_stops_at_a_rung_saves_its_run_before_it_ends(tmp_path, monkeypatch):
    """Tune kills an actor still stopping 10 s after the sweep's last trial ends, and a
    trial stopped at a rung saves its run while stopping (longer than that on the bundled
    data). So ASHA's stop is a marker the trial acts on: its next result comes once the
    run is saved as stopped, marked ``done``; Tune's own stop then waits for nothing."""
    from pipeline.runs.registry import RunRegistry
    from pipeline.sweep.scheduler import stop_marker

    stop_dir = tmp_path / "stops"
    trial = _trial_class(tmp_path, monkeypatch, epochs=20, stop_dir=str(stop_dir))(
        config={"family": "ngram_bag", "learning_rate": 0.02, "ngram_dim": 8}
    )
    first = trial.train()  # epoch 1; the training waits for Tune's decision
    stop_dir.mkdir()
    stop_marker(stop_dir, first["run_id"]).touch()  # what the scheduler leaves
    last = trial.train()

    assert (first["done"], last["done"], last["epoch"]) == (False, True, 1)
    saved = RunRegistry(tmp_path / "runs").get(first["run_id"])  # before any stop()
    assert saved.run.status == "stopped"
    assert [(row.epoch, row.partial) for row in saved.history] == [(1, False), (2, True)]
    assert not any(stop_dir.iterdir())  # the marker is taken
    trial.stop()


def test_the_scheduler_turns_ashas_stop_into_the_trials_marker(tmp_path):
    """ASHA's decisions stand; a stop of a training trial becomes "continue" and its
    marker, a cached trial (nothing to save) is stopped by Tune."""
    from ray.tune.experiment import Trial
    from ray.tune.schedulers import TrialScheduler

    from pipeline.sweep.scheduler import SaveThenStopASHA, stop_marker

    scheduler = SaveThenStopASHA(
        stop_dir=tmp_path / "stops",
        metric="val_loss",
        mode="min",
        max_t=8,
        grace_period=1,
        reduction_factor=2,
    )
    good, bad, cached = (Trial("SweepTrial", stub=True) for _ in range(3))
    for trial in (good, bad, cached):
        scheduler.on_trial_add(None, trial)

    def result(loss: float, run_id: str, **extra: Any) -> dict[str, Any]:
        return {"training_iteration": 1, "val_loss": loss, "run_id": run_id, **extra}

    assert scheduler.on_trial_result(None, good, result(0.1, "good")) == TrialScheduler.CONTINUE
    assert scheduler.on_trial_result(None, bad, result(0.9, "bad")) == TrialScheduler.CONTINUE
    assert [path.name for path in (tmp_path / "stops").iterdir()] == ["bad"]
    assert stop_marker(tmp_path / "stops", "bad").is_file()
    replay = result(0.9, "cached", cached=True)
    assert scheduler.on_trial_result(None, cached, replay) == TrialScheduler.STOP
