"""Examples for trying a model come from its own test rows, one per class.

Found with a classifier of 200 publishers: the Playground offered the 2019 notebook's
news sentences ("The health of the kid is poor") to every model, whatever its data.
"""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.core.errors import DatasetError
from pipeline.data import load_dataset
from pipeline.evaluation.examples import MAX_EXAMPLES, SHORT_EXAMPLE_CHARS, examples_from_test_set
from pipeline.runs.registry import RunRegistry
from tests.data_support import labelled_csv


def test_one_short_test_row_per_class_biggest_classes_first(trained_run, runs_dir, uci_small):
    result, _ = trained_run
    saved = RunRegistry(runs_dir).get(result.run_id)
    predictions = saved.test_predictions()
    examples = examples_from_test_set(saved, uci_small)

    frame = uci_small.frame
    class_of = {
        " ".join(frame["text"].iat[row].split()): true
        for row, true in zip(predictions.row, predictions.true, strict=True)
    }
    assert len(examples) == min(MAX_EXAMPLES, len(set(predictions.true))) == 4
    assert all(text in class_of and len(text) <= SHORT_EXAMPLE_CHARS for text in examples)
    classes = [class_of[text] for text in examples]
    sizes = Counter(predictions.true)
    assert classes == sorted(set(classes), key=lambda code: (-sizes[code], code))
    # each is its class's first short test row, in the saved order
    for text, code in zip(examples, classes, strict=True):
        first = next(
            " ".join(frame["text"].iat[row].split())
            for row, true in zip(predictions.row, predictions.true, strict=True)
            if true == code and len(" ".join(frame["text"].iat[row].split())) <= SHORT_EXAMPLE_CHARS
        )
        assert text == first
    assert len(examples_from_test_set(saved, uci_small, count=2)) == 2


def test_other_data_is_refused(trained_run, runs_dir):
    result, _ = trained_run
    saved = RunRegistry(runs_dir).get(result.run_id)
    other = load_dataset(labelled_csv(["a", "b"] * 5), name="other.csv")
    with pytest.raises(DatasetError, match="Load the file the run was trained on"):
        examples_from_test_set(saved, other)
