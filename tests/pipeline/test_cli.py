"""The command line: ``python -m pipeline ...``, run in a subprocess where the process is
the point (the entry point, a fresh interpreter's imports) and otherwise in this process
through :func:`tests.cli_support.run_cli` (the same ``main``, the same arguments)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from training_support import majority_share, predict_test_set, unzip_members

from pipeline.data import load_dataset
from pipeline.runs.registry import RunRegistry
from tests.cli_support import CliResult, run_cli
from tests.tiny_training import tiny_cli_flags

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "uci_small.csv"
TINY = tiny_cli_flags(
    cap_per_class=80,
    epochs=1,
    max_tokens=1500,
    embedding_dim=8,
    units=None,
    ngram_tokens=3000,
    ngram_dim=8,
    filters=None,
)


def cli(*args: str, runs_dir: Path | None = None) -> CliResult:
    return run_cli(*args, runs_dir=runs_dir)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict]:
    """One ``train ... --json`` of the tiny settings: its runs folder and its output (the
    tests read the run, and write only beside it)."""
    runs_dir = tmp_path_factory.mktemp("cli-runs")
    done = cli("train", "--data", str(SMALL), *TINY, "--json", runs_dir=runs_dir)
    assert done.returncode == 0, done.stderr
    return runs_dir, json.loads(done.stdout)


def test_inspect_json_on_a_fixture():
    """Run as a user runs it: ``python -m pipeline`` in a process of its own."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "inspect", "--data", str(SMALL), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == len(pd.read_csv(SMALL))
    assert {row["code"] for row in report["class_counts"]} == {"b", "e", "m", "t"}


def test_inspect_text_report():
    done = cli("inspect", "--data", str(SMALL))
    assert done.returncode == 0, done.stderr
    assert f"{len(pd.read_csv(SMALL)):,} rows" in done.stdout and "health" in done.stdout


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    done = cli("inspect", "--data", str(SMALL), "--text-col", "headline", "--label-col", "topic")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "TITLE" in lines[0]  # names the columns that exist
    assert "Traceback" not in done.stderr
    missing = cli("inspect", "--data", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


@pytest.mark.training
def test_train_cache_predict_evaluate_runs(trained, tmp_path):
    runs_dir, trained = trained
    assert trained["from_cache"] is False and trained["epochs"] == 1
    # the printed scores are the saved model's on its test rows, computed here afresh
    registry = RunRegistry(runs_dir)
    true, guessed = predict_test_set(load_dataset(SMALL), registry, trained["run_id"])
    assert trained["test_accuracy"] == pytest.approx(accuracy_score(true, guessed))
    assert trained["macro_f1"] == pytest.approx(f1_score(true, guessed, average="macro"))
    assert trained["test_accuracy"] > majority_share(true)  # one epoch, yet above one class

    again = cli("train", "--data", str(SMALL), *TINY, "--json", runs_dir=runs_dir)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) | {"from_cache": False} == trained
    assert json.loads(again.stdout)["from_cache"] is True
    # The cache hit is answered without importing TensorFlow (seconds saved per call).
    probe = (
        "import sys; from pipeline.cli.main import main; "
        f"code = main(['train', '--data', {str(SMALL)!r}, *{TINY!r}, '--json', "
        f"'--runs-dir', {str(runs_dir)!r}]); "
        "print('tensorflow' in sys.modules, file=sys.stderr); sys.exit(code)"
    )
    checked = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip().splitlines()[-1] == "False"

    from pipeline.scoring.predictor import Predictor  # TensorFlow: only for this test

    headline = "Stocks fall as oil prices climb"
    predicted = cli("predict", headline, "--json", runs_dir=runs_dir)
    assert predicted.returncode == 0, predicted.stderr
    rows = json.loads(predicted.stdout)
    expected = Predictor.from_run(registry, trained["run_id"]).predict([headline])
    assert [row["label"] for row in rows] == list(expected["label"])

    evaluated = cli("evaluate", trained["run_id"], runs_dir=runs_dir)
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"test accuracy {trained['test_accuracy']:.4f}" in evaluated.stdout

    listed = cli("runs", "--json", runs_dir=runs_dir)
    assert [run["run_id"] for run in json.loads(listed.stdout)] == [trained["run_id"]]

    archive = tmp_path / "run.zip"
    exported = cli("runs", "export", trained["run_id"], "--output", str(archive), runs_dir=runs_dir)
    assert exported.returncode == 0, exported.stderr
    assert unzip_members(archive.read_bytes()) == unzip_members(
        registry.export_zip(trained["run_id"])
    )


def test_predict_without_runs_says_what_to_do(tmp_path):
    done = cli("predict", "hello world", runs_dir=tmp_path)
    assert done.returncode == 2
    assert "train one first" in done.stderr


def test_a_wrong_type_and_a_wrong_value_get_the_same_one_line_error(tmp_path):
    for value in ("many", "0"):
        result = cli("train", "--data", str(SMALL), "--epochs", value, runs_dir=tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip() == (
            f"error: epochs must be an integer from 1 to 1,000 (got '{value}'); e.g. 30."
        )


def test_train_help_lists_every_setting_even_with_a_percent_sign_in_its_help():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-1000:]
    assert "about 3 % of the training rows" in " ".join(result.stdout.split())


@pytest.mark.training
def test_train_and_evaluate_print_the_paired_interval_against_the_baseline(trained):
    from pipeline.data.prepare import prepare
    from pipeline.evaluation.paired import paired_bootstrap
    from pipeline.training.baseline import fit_and_score_baseline

    runs_dir, trained = trained
    vs_baseline = trained["vs_baseline"]
    assert set(vs_baseline) == {"accuracy", "balanced_accuracy", "macro_f1"}
    for metric in vs_baseline.values():
        assert set(metric) == {"difference", "ci95_low", "ci95_high"}
        assert metric["ci95_low"] <= metric["difference"] <= metric["ci95_high"]

    # The baseline's answer kept per test row is its answer for THAT row: refitted here
    # on the same split and joined by the row's position in the dataset.
    saved = RunRegistry(runs_dir).get(trained["run_id"])
    rows = saved.test_predictions()
    assert rows is not None and rows.baseline is not None
    dataset = load_dataset(SMALL)
    prepared = prepare(dataset, saved.config.experiment.data)
    refit = fit_and_score_baseline(
        prepared.train["text"],
        prepared.train["label"],
        prepared.test["text"],
        prepared.test["label"],
        class_weighted=prepared.class_weights is not None,
    )
    by_row = dict(zip(prepared.test_rows.tolist(), refit["test_predicted"], strict=True))
    assert list(rows.baseline) == [by_row[row] for row in rows.row]
    assert saved.metrics.baseline.test_accuracy == pytest.approx(refit["test_accuracy"])

    # The differences are the model's minus the baseline's on those rows (sklearn), and
    # the interval is the paired bootstrap's on them.
    classes = list(saved.labels.classes)
    assert vs_baseline["accuracy"]["difference"] == pytest.approx(
        accuracy_score(rows.true, rows.predicted) - accuracy_score(rows.true, rows.baseline)
    )
    assert vs_baseline["macro_f1"]["difference"] == pytest.approx(
        f1_score(rows.true, rows.predicted, labels=classes, average="macro", zero_division=0)
        - f1_score(rows.true, rows.baseline, labels=classes, average="macro", zero_division=0)
    )
    assert vs_baseline["balanced_accuracy"]["difference"] == pytest.approx(
        balanced_accuracy_score(rows.true, rows.predicted)
        - balanced_accuracy_score(rows.true, rows.baseline)
    )
    again = paired_bootstrap(rows.true, rows.baseline, rows.predicted, labels=classes)
    assert again.to_json() == vs_baseline
    # metrics.json stays small: the per-row answers live in test_predictions.json only
    metrics_json = json.loads((saved.path / "metrics.json").read_text(encoding="utf-8"))
    assert "test_predicted" not in metrics_json["baseline"]
    assert metrics_json["vs_baseline"] == vs_baseline

    evaluated = cli("evaluate", trained["run_id"], "--json", runs_dir=runs_dir)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["vs_baseline"] == vs_baseline
    words = cli("evaluate", trained["run_id"], runs_dir=runs_dir)
    assert "Test accuracy: " in words.stdout and "95 % interval" in words.stdout
