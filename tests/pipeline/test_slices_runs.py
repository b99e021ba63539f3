"""Slices of a real run: its per-row test predictions, ``evaluate --by`` on the command line,
and runs saved without the predictions file.

The expected tables are computed here afresh: the test split prepared again, scored by the
saved model, joined with the fixture file as pandas reads it.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from test_cli import SMALL, cli
from training_support import unzip_members, zip_members

from pipeline.core.errors import DatasetError, NoRowPredictionsError, RunImportError, RunRecordError
from pipeline.data import load_dataset
from pipeline.data.prepare import prepare
from pipeline.evaluation.slice_columns import MISSING
from pipeline.evaluation.slice_scores import OTHER
from pipeline.evaluation.slices import run_slices
from pipeline.runs.files import PREDICTIONS_FILE
from pipeline.runs.registry import RunRegistry
from tests.conftest import NEWS_CORPORA_SMALL

pytestmark = pytest.mark.training

SLICEABLE = (
    "Sliceable columns: ID (numeric), PUBLISHER (categorical, 1,324 values), STORY "
    "(categorical, 305 values), HOSTNAME (categorical, 1,334 values), TIMESTAMP (time, epoch "
    "milliseconds)."
)


@pytest.fixture(scope="module")
def expected_rows(trained_run, runs_dir, uci_small) -> pd.DataFrame:
    """The run's test rows found afresh: the file's columns (read by pandas), the dataset
    row, the true label, the saved model's prediction and confidence."""
    import tensorflow as tf

    result, _ = trained_run
    registry = RunRegistry(runs_dir)
    saved = registry.get(result.run_id)
    prepared = prepare(uci_small, saved.config.experiment.data)
    model = registry.load_model(result.run_id)
    texts = tf.constant([[text] for text in prepared.test["text"]])
    probabilities = model.predict(texts, verbose=0)
    classes = np.asarray(saved.labels.classes)
    raw = pd.read_csv(SMALL, dtype=str, keep_default_na=False)
    return (
        raw.iloc[prepared.test_rows]
        .reset_index(drop=True)
        .assign(
            row=prepared.test_rows,
            true=prepared.test["label"],
            predicted=classes[probabilities.argmax(axis=1)],
            confidence=probabilities.max(axis=1),
            correct=lambda frame: frame["true"] == frame["predicted"],
        )
    )


def per_value(frame: pd.DataFrame, keys: pd.Series) -> dict[str, tuple[int, int]]:
    """``{slice: (rows, correct)}`` of ``frame`` grouped by ``keys``."""
    grouped = frame.groupby(keys.to_numpy(), sort=True)["correct"]
    return {str(key): (len(part), int(part.sum())) for key, part in grouped}


def slices_of(payload: dict) -> list[tuple[str, int, int]]:
    return [(row["value"], row["rows"], row["correct"]) for row in payload["slices"]]


def copy_run(runs_dir, run_id: str, target) -> RunRegistry:
    shutil.copytree(runs_dir / run_id, target / run_id)
    return RunRegistry(target)


# --------------------------------------------------------------------------- the saved rows


def test_a_run_keeps_every_test_row_s_prediction(trained_run, runs_dir, expected_rows):
    result, _ = trained_run
    saved = RunRegistry(runs_dir).get(result.run_id)
    predictions = saved.test_predictions()
    assert len(predictions) == saved.metrics.n_test == len(expected_rows)
    assert list(predictions.row) == expected_rows["row"].tolist()
    assert list(predictions.true) == expected_rows["true"].tolist()
    assert list(predictions.predicted) == expected_rows["predicted"].tolist()
    assert predictions.confidence == pytest.approx(expected_rows["confidence"].tolist(), abs=1e-5)
    assert np.mean(expected_rows["correct"]) == pytest.approx(saved.metrics.test_accuracy)


# --------------------------------------------------------------------------- evaluate --by


def test_evaluate_by_publisher(trained_run, runs_dir, expected_rows):
    result, _ = trained_run
    args = ("evaluate", result.run_id, "--by", "publisher", "--data", str(SMALL))
    done = cli(*args, "--top", "5", "--min-rows", "2", "--json", runs_dir=runs_dir)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert (payload["run_id"], payload["column"], payload["kind"]) == (
        result.run_id,
        "PUBLISHER",
        "categorical",
    )
    publishers = expected_rows["PUBLISHER"].str.strip().replace("", MISSING)
    counts = publishers.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    shown = [name for name, n in counts.head(5).items() if n >= 2]
    scores = per_value(expected_rows, publishers)
    worst_first = sorted(
        shown, key=lambda name: (scores[name][1] / scores[name][0], -scores[name][0], name)
    )
    folded = expected_rows[~publishers.isin(shown)]
    assert slices_of(payload) == [
        *[(name, *scores[name]) for name in worst_first],
        (OTHER, len(folded), int(folded["correct"].sum())),
    ]
    assert payload["slices"][-1]["values"] == len(counts) - len(shown)
    first = payload["slices"][0]
    interval = binomtest(first["correct"], first["rows"]).proportion_ci(method="wilson")
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((interval.low, interval.high))
    overall = payload["overall"]
    assert (overall["rows"], overall["correct"]) == (
        len(expected_rows),
        int(expected_rows["correct"].sum()),
    )

    printed = cli(*args, "--top", "5", "--min-rows", "2", runs_dir=runs_dir)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith(
        f"run {result.run_id} (fast, uci_small.csv): test accuracy by PUBLISHER (categorical, "
        "1,324 values; one slice per value)\n"
    )
    for row in [*payload["slices"], overall]:
        label = f"{row['value']} ({row['values']:,} values)" if row["other"] else row["value"]
        label = label if len(label) <= 27 else label[:26] + "…"
        assert f"\n{label:<30}{row['rows']:>7,}{row['accuracy']:>10.3f}  " in printed.stdout


def test_evaluate_by_timestamp_gives_weeks_in_order(trained_run, runs_dir, expected_rows):
    result, _ = trained_run
    args = ("evaluate", result.run_id, "--by", "TIMESTAMP", "--data", str(SMALL))
    done = cli(*args, "--json", runs_dir=runs_dir)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert (payload["kind"], payload["time_format"], payload["bins"]) == (
        "time",
        "epoch_ms",
        "week",
    )
    stamps = pd.to_datetime(expected_rows["TIMESTAMP"].astype("int64"), unit="ms")
    days = stamps.dt.normalize()
    mondays = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    expected = per_value(expected_rows, mondays)  # sorted by date
    assert slices_of(payload) == [(week, *counts) for week, counts in expected.items()]
    assert [row["small"] for row in payload["slices"]] == [n < 30 for n, _ in expected.values()]

    printed = cli(*args, runs_dir=runs_dir)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0].endswith(
        "test accuracy by TIMESTAMP (time, epoch milliseconds; weeks starting Monday, UTC)"
    )
    weeks = [line.split()[0] for line in lines[2 : 2 + len(expected)]]
    assert weeks == list(expected)
    assert lines[-1] == "* fewer than 30 test rows: too few to trust"


def test_evaluate_by_a_column_that_cannot_be_sliced_lists_those_that_can(trained_run, runs_dir):
    result, _ = trained_run
    for column, reason in [
        ("nope", "uci_small.csv has no column 'nope'"),
        ("title", "'TITLE' is the text column: every headline is its own value"),
    ]:
        done = cli(
            "evaluate", result.run_id, "--by", column, "--data", str(SMALL), runs_dir=runs_dir
        )
        assert done.returncode == 2
        assert done.stderr == f"error: {reason}. {SLICEABLE}\n"


def test_evaluate_by_on_the_bundled_data_names_the_run_s_own_data(trained_run, runs_dir):
    result, _ = trained_run
    done = cli("evaluate", result.run_id, "--by", "PUBLISHER", runs_dir=runs_dir)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: Run {result.run_id} was trained on uci_small.csv ")
    assert done.stderr.endswith(
        "Load the file the run was trained on, with text column 'TITLE' and label column "
        "'CATEGORY'.\n"
    )


def test_slice_options_without_by_are_refused(trained_run, runs_dir):
    result, _ = trained_run
    done = cli("evaluate", result.run_id, "--top", "3", runs_dir=runs_dir)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: --data, --text-col, --label-col, --top and --min-rows go with --by"
    )


def test_slices_of_other_data_are_refused(trained_run, runs_dir):
    result, _ = trained_run
    saved = RunRegistry(runs_dir).get(result.run_id)
    other = load_dataset(NEWS_CORPORA_SMALL)
    with pytest.raises(DatasetError, match=r"fingerprint 4efabd3b58856908\), but the data loaded"):
        run_slices(saved, other, "PUBLISHER")


# --------------------------------------------------------------------------- older runs


def test_a_run_saved_without_predictions_loads_and_says_to_retrain(
    trained_run, runs_dir, tmp_path, uci_small, model_checker
):
    result, _ = trained_run
    registry = copy_run(runs_dir, result.run_id, tmp_path / "runs")
    (registry.path_of(result.run_id) / PREDICTIONS_FILE).unlink()
    saved = registry.get(result.run_id)
    assert saved.complete and saved.test_predictions() is None
    assert [run.damaged for run in registry.list_runs()] == [False]
    with pytest.raises(
        NoRowPredictionsError, match="Train it again with the same data and settings"
    ):
        run_slices(saved, uci_small, "PUBLISHER")
    done = cli(
        "evaluate", result.run_id, "--by", "PUBLISHER", "--data", str(SMALL), runs_dir=registry.root
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: Run {result.run_id} was saved before Headline Lab kept")
    assert cli("evaluate", result.run_id, runs_dir=registry.root).returncode == 0
    # its archive has no predictions, and imports as it is
    archive = registry.export_zip(result.run_id)
    assert PREDICTIONS_FILE not in unzip_members(archive)
    other = RunRegistry(tmp_path / "other", model_checker=model_checker)
    imported_id = other.import_zip(archive)  # the importing server's id, not the archive's
    assert imported_id != result.run_id
    assert other.get(imported_id).test_predictions() is None


def test_a_damaged_predictions_file_is_named_and_refused(trained_run, runs_dir, tmp_path):
    result, _ = trained_run
    registry = copy_run(runs_dir, result.run_id, tmp_path / "runs")
    path = registry.path_of(result.run_id) / PREDICTIONS_FILE
    document = json.loads(path.read_text())
    document["predicted"][0] = "x"
    path.write_text(json.dumps(document))
    saved = registry.get(result.run_id)  # the run itself still loads
    with pytest.raises(
        RunRecordError, match=r"test_predictions.json is damaged .*'predicted' names a class"
    ):
        saved.test_predictions()
    members = unzip_members(registry.export_zip(result.run_id))
    with pytest.raises(
        RunImportError, match=r"'predicted' names a class that labels\.json does not have"
    ):
        RunRegistry(tmp_path / "other").import_zip(zip_members(members))
