"""Labels are data: any string is a class, and none is mistaken for a report row.

``sklearn.metrics.classification_report(output_dict=True)`` keys its per-class rows and
its summary rows (``accuracy``, ``macro avg``, ``weighted avg``, ``micro avg``,
``samples avg``) in one dict: a class named like a summary row crashed the run after the
whole fit, or silently took the summary's numbers. A label that is blank once trimmed
(spaces, or invisible characters such as a zero-width space) is no label: its rows are
dropped with a note that says how to keep them, and a file with no other label is
refused with a message, the same in the app and the CLI (both load through
``pipeline.data.load_dataset``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_recall_fscore_support,
)
from training_support import predict_test_set

from pipeline.core.errors import DatasetError
from pipeline.data import is_blank_label, load_dataset
from pipeline.evaluation.metrics import evaluate_probabilities
from pipeline.runs.registry import RunRegistry
from pipeline.runs.results import Metrics
from tests.tiny_training import tiny_config

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "uci_small.csv"

#: Labels named like the summary rows of a classification report, or like markup and
#: JavaScript's object internals.
TRICKY_LABELS = (
    "accuracy",
    "macro avg",
    "weighted avg",
    "micro avg",
    "samples avg",
    "__proto__",
    "<b>x</b>",
)
#: Cells that look empty once trimmed: spaces, a tab, a no-break space, a zero-width
#: space, a byte-order mark, a soft hyphen, a word joiner.
BLANK_CELLS = (" ", "\t", "\u00a0", "\u200b", " \ufeff ", "\u00ad", "\u2060\u200b")


def _scores_by_position(y_true, y_pred, n_classes: int) -> list[tuple[float, float, float, int]]:
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(n_classes)), zero_division=0
    )
    return list(zip(precision, recall, f1, support, strict=True))


# --------------------------------------------------------------------------- metrics


def test_metrics_of_classes_named_like_report_rows():
    rng = np.random.default_rng(7)
    classes = list(TRICKY_LABELS)
    y_true = np.repeat(np.arange(len(classes)), 6)
    probabilities = rng.dirichlet(np.ones(len(classes)), size=len(y_true))
    probabilities[::2, :] = 0.0
    probabilities[::2, :][np.arange(len(y_true[::2])), y_true[::2]] = 1.0  # half right
    y_pred = probabilities.argmax(axis=1)
    names = {code: f"name of {code}" for code in classes}
    texts = [f"t{i}" for i in range(len(y_true))]

    metrics = evaluate_probabilities(y_true, probabilities, classes, names, texts)

    assert list(metrics["per_class"]) == classes
    expected = _scores_by_position(y_true, y_pred, len(classes))
    for code, (precision, recall, f1, support) in zip(classes, expected, strict=True):
        row = metrics["per_class"][code]
        assert row["name"] == f"name of {code}"
        assert row["precision"] == pytest.approx(precision), code
        assert row["recall"] == pytest.approx(recall), code
        assert row["f1"] == pytest.approx(f1), code
        assert row["support"] == support == 6
    assert metrics["test_accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert metrics["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert metrics["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    assert metrics["confusion_matrix"]["labels"] == classes
    # the document round-trips through the run record as it is
    parsed = Metrics.parse(json.loads(json.dumps(metrics)))
    assert list(parsed.per_class) == classes
    assert parsed.per_class["accuracy"].recall == pytest.approx(expected[0][1])


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_a_class_absent_from_the_test_rows_scores_zero_not_an_error():
    classes = ["accuracy", "macro avg", "weighted avg"]
    y_true = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.9, 0.1, 0], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1], [0, 1, 0]])
    metrics = evaluate_probabilities(y_true, probabilities, classes, {}, list("abcd"))
    assert metrics["per_class"]["weighted avg"] == {
        "name": "weighted avg",
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
    }
    assert metrics["per_class"]["macro avg"]["precision"] == pytest.approx(1.0)
    assert metrics["per_class"]["accuracy"]["recall"] == pytest.approx(0.5)


# --------------------------------------------------------------------------- blank labels


@pytest.mark.parametrize("cell", BLANK_CELLS)
def test_a_label_blank_once_trimmed_is_no_label(cell):
    assert is_blank_label(cell)
    body = f"text,label\none,a\ntwo,{cell}\nthree,b\nfour,{cell}\n"
    ds = load_dataset(body.encode("utf-8"), name="blank.csv")
    assert ds.classes == ["a", "b"]
    assert ds.frame["text"].tolist() == ["one", "three"]
    note = next(n for n in ds.notes if "2 row(s) with an empty 'label' were dropped" in n)
    assert "invisible" in note and "give" in note  # says what counts as empty, and the fix


@pytest.mark.parametrize("label", [*TRICKY_LABELS, "a\u200bb", "-", "0", "nan", "None"])
def test_a_label_with_anything_visible_is_a_label(label):
    assert not is_blank_label(label)


def test_a_file_whose_labels_are_all_blank_is_refused_with_the_fix():
    body = "text,label\none, \ntwo,\u200b\nthree,\ufeff\n".encode()
    with pytest.raises(DatasetError, match=r"'label' of blank\.csv is empty in every row") as e:
        load_dataset(body, name="blank.csv")
    assert "invisible" in str(e.value) and "choose the column" in str(e.value)


def test_the_cli_refuses_a_file_of_blank_labels_in_one_line(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("text,label\none,\u200b\ntwo, \nthree,\u00a0\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "inspect", "--data", str(path)],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "empty in every row" in lines[0] and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- a real run


def _relabelled_fixture() -> bytes:
    """The UCI fixture with its four classes renamed into five tricky labels."""
    rename = {"b": "accuracy", "e": "macro avg", "m": "weighted avg"}
    rows = list(csv.DictReader(io.StringIO(FIXTURE.read_text("utf-8"))))
    seen_t = 0
    for row in rows:
        code = row["CATEGORY"]
        if code == "t":
            row["CATEGORY"] = "__proto__" if seen_t % 2 == 0 else "<b>x</b>"
            seen_t += 1
        else:
            row["CATEGORY"] = rename[code]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.mark.training
def test_a_run_trains_and_reloads_on_labels_named_like_report_rows(tmp_path):
    from pipeline.training.train import train_run

    dataset = load_dataset(_relabelled_fixture(), name="tricky.csv")
    expected_classes = sorted(["accuracy", "macro avg", "weighted avg", "__proto__", "<b>x</b>"])
    assert dataset.classes == expected_classes
    config = tiny_config(cap_per_class=60, epochs=1)
    result = train_run(dataset, config, runs_dir=tmp_path)
    assert not result.stopped

    registry = RunRegistry(tmp_path)
    saved = registry.get(result.run_id)  # reloads: every document parses
    assert saved.labels.classes == tuple(expected_classes)
    metrics = saved.metrics
    assert list(metrics.per_class) == expected_classes
    assert metrics.baseline is not None

    true, predicted = predict_test_set(dataset, registry, result.run_id)
    index = {code: i for i, code in enumerate(expected_classes)}
    y_true = np.array([index[c] for c in true])
    y_pred = np.array([index[c] for c in predicted])
    expected = _scores_by_position(y_true, y_pred, len(expected_classes))
    for code, (precision, recall, f1, support) in zip(expected_classes, expected, strict=True):
        row = metrics.per_class[code]
        assert (row.precision, row.recall, row.f1) == pytest.approx((precision, recall, f1)), code
        assert row.support == support, code
    assert metrics.test_accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert metrics.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro"))
