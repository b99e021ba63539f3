"""Labels that join other labels ("business;tech" beside "business" and "tech") are said,
with the fix, wherever the file's notes are shown: the Data page, the command line and a
run's Results.

Found with a file exported from a tagging tool, where a headline may carry several tags:
"business;tech" (and "tech|science") loaded as classes of their own and nothing said so.
A model trained on it learns "business;tech" as a third class, beside and against
"business" and "tech". This tool trains one label per row; the labels stay as written.
"""

from __future__ import annotations

import pandas as pd

from pipeline.core.config import DataConfig
from pipeline.data import load_dataset
from pipeline.data.columns import joined_labels
from pipeline.data.prepare import prepare
from tests.data_support import inspected, labelled_csv, only_note


def test_a_label_whose_parts_are_all_labels_is_joined_and_others_are_not():
    labels = pd.Series(
        ["business"] * 9
        + ["tech"] * 8
        + ["science"] * 7
        + ["business;tech"] * 5
        + ["Tech | Science"] * 4  # parts read as the labels are compared: case, spacing
        + ["science/fiction"] * 3  # "fiction" is no label: a name with a slash
        + ["24/7"] * 2
        + ["tech;tech"] * 1  # one label twice is still one
    )
    assert joined_labels(labels) == [("business;tech", 5), ("Tech | Science", 4)]
    assert joined_labels(pd.Series(["a/b", "a", "c"])) == []


def test_loading_a_file_with_joined_labels_notes_them_with_the_fix():
    labels = ["business"] * 40 + ["tech"] * 30 + ["business;tech"] * 12 + ["tech|business"] * 3
    dataset = load_dataset(labelled_csv(labels), name="tagged.csv")
    assert "business;tech" in dataset.classes  # kept as written
    note = only_note(dataset.notes, "join")
    assert note == (
        "2 labels join other labels, 15 rows in all: 'business;tech' (12 rows) and "
        "'tech|business' (3). Each is a class of its own, apart from the labels it joins: "
        "this tool trains one label per row. Give each of those rows one label in the file "
        "and load it again."
    )


def test_a_run_notes_only_the_joined_labels_it_kept():
    labels = ["business"] * 40 + ["tech"] * 30 + ["business;tech"] * 12 + ["tech|business"] * 3
    dataset = load_dataset(labelled_csv(labels), name="tagged.csv")
    notes = prepare(dataset, DataConfig(min_class_rows=10)).summary.notes
    note = only_note(notes, "join")
    assert note.startswith("1 label joins other labels, 12 rows in all: 'business;tech' (12 rows).")


def test_many_joined_labels_are_named_five_at_most_and_plain_files_have_no_note():
    parts = ["a1", "b2", "c3", "d4"]
    joined = [f"{x};{y}" for x in parts for y in parts if x < y]  # 6 pairs
    dataset = load_dataset(labelled_csv(parts * 5 + joined * 2), name="pairs.csv")
    note = only_note(dataset.notes, "join")
    assert note.startswith("6 labels join other labels, 12 rows in all: ")
    assert note.count(" rows)") == 1
    assert note.endswith(
        " and 1 more. Each is a class of its own, apart from the labels it joins: "
        "this tool trains one label per row. Give each of those rows one label "
        "in the file and load it again."
    )
    plain = load_dataset(labelled_csv(["Sports", "Politics", "Tech"] * 10), name="plain.csv")
    assert not [note for note in plain.notes if "join" in note]


def test_the_command_line_says_it(tmp_path):
    labels = ["business"] * 20 + ["tech"] * 20 + ["business;tech"] * 10
    shown = inspected(tmp_path, "tagged.csv", labels)
    assert "1 label joins other labels, 10 rows in all: 'business;tech' (10 rows)" in shown
