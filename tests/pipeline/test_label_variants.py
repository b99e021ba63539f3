"""Labels written two ways ("Sports" and "sports") are said, with the fix, wherever the
file's notes are shown: the Data page, the command line and a run's Results.

Found loading a hand-labelled file: ``inspect`` listed "Sports" (93 rows) and "sports"
(48) as two classes and said nothing, and a model trained on it spends its capacity
telling apart rows that are one class. The labels stay as the file writes them: whether
two spellings are one class is the user's call.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core.config import DataConfig
from pipeline.data import load_dataset
from pipeline.data.columns import label_variants
from pipeline.data.prepare import prepare
from tests.data_support import inspected, labelled_csv, only_note


def test_labels_that_differ_only_in_case_or_spacing_are_grouped_biggest_first():
    labels = pd.Series(
        ["Sports"] * 5
        + ["sports"] * 3
        + ["SPORTS"] * 1
        + ["New  York"] * 2
        + ["new york"] * 4
        + ["Politics"] * 6
        + ["Ｔｅｃｈ"] * 2
        + ["tech"] * 2
    )
    assert label_variants(labels) == [
        [("Sports", 5), ("sports", 3), ("SPORTS", 1)],
        [("new york", 4), ("New  York", 2)],
        [("tech", 2), ("Ｔｅｃｈ", 2)],  # full-width letters: the same word (NFKC)
    ]
    assert label_variants(pd.Series(["a", "b", "A b", "ab"])) == []


def test_loading_a_file_with_variants_notes_them_with_the_fix():
    labels = ["Sports"] * 93 + ["sports"] * 48 + ["Politics"] * 43 + ["politics"] * 59
    labels += ["Tech"] * 57
    dataset = load_dataset(labelled_csv(labels), name="hand_labelled.csv")
    assert dataset.classes == ["Politics", "Sports", "Tech", "politics", "sports"]  # kept
    note = only_note(dataset.notes, "letter case")
    assert note == (
        "2 labels are written more than one way, differing only in letter case or spacing, "
        "and each way is a class of its own: 'Sports' (93 rows) and 'sports' (48); "
        "'politics' (59) and 'Politics' (43). If they mean one class, write it one way in "
        "the file and load it again."
    )


def test_a_run_trained_on_them_carries_the_note_for_its_classes_alone():
    """Results, the report and the CLI's run report read the preparation's notes: the
    classes the run kept (a variant dropped as too small is not named)."""
    labels = ["Sports"] * 40 + ["sports"] * 12 + ["Politics"] * 40 + ["politics"] * 2
    dataset = load_dataset(labelled_csv(labels), name="hand_labelled.csv")
    notes = prepare(dataset, DataConfig(min_class_rows=10)).summary.notes
    note = only_note(notes, "letter case")
    assert note.startswith("1 label is written more than one way")
    assert "'Sports' (40 rows) and 'sports' (12). If they mean" in note


def test_many_variants_are_named_five_at_most():
    labels = [f"{word}{case}" for word in "abcdefg" for case in ("x", "X")]
    dataset = load_dataset(labelled_csv(labels * 2), name="many.csv")
    note = only_note(dataset.notes, "letter case")
    assert note.startswith("7 labels are written more than one way")
    assert "'aX' (2 rows) and 'ax' (2); " in note
    assert "'eX' (2) and 'ex' (2); and 2 more." in note


def test_a_file_without_variants_has_no_such_note():
    dataset = load_dataset(labelled_csv(["Sports", "Politics", "Tech"] * 10), name="clean.csv")
    assert not [note for note in dataset.notes if "letter case" in note]


def test_the_command_line_says_it(tmp_path):
    labels = ["Sports"] * 20 + ["sports"] * 10 + ["Tech"] * 20
    shown = inspected(tmp_path, "hand_labelled.csv", labels)
    assert "'Sports' (20 rows) and 'sports' (10)" in shown
