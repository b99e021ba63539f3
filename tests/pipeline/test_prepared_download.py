""" "Download prepared CSV" keeps the file's other columns (issue #31, item 16): every
prepared row with its split, its text and label, and every other column of its file row."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from pipeline.core.config import DataConfig
from pipeline.data import load_dataset
from pipeline.data.prepare import prepare

FIXTURE = "tests/fixtures/uci_small.csv"


@pytest.mark.parametrize(
    "config",
    [
        DataConfig(balance="cap", cap_per_class=60),
        DataConfig(split="story"),
        DataConfig(test_set="balanced", balance="class_weights"),
        DataConfig(),
    ],
)
def test_the_prepared_csv_keeps_every_column_of_the_file(config: DataConfig) -> None:
    dataset = load_dataset(FIXTURE)
    prepared = prepare(dataset, config)
    table = pd.read_csv(
        io.BytesIO(prepared.to_csv_bytes(dataset.other_columns)), dtype=str, keep_default_na=False
    )
    file = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    others = [c for c in file.columns if c not in {"TITLE", "CATEGORY"}]
    assert list(table.columns) == ["text", "label", *others, "split"]
    assert table["split"].value_counts().to_dict() == prepared.summary.split_sizes.as_dict()
    # each row's other columns are its own file row's
    by_id = file.set_index("ID")
    assert (table["text"] == by_id.loc[table["ID"], "TITLE"].to_numpy()).all()
    assert (table["PUBLISHER"] == by_id.loc[table["ID"], "PUBLISHER"].to_numpy()).all()


def test_a_file_column_named_like_an_added_one_keeps_its_values() -> None:
    csv = "headline,category,split,text\n" + "".join(
        f"headline {i} about {'abc'[i % 3]},{'abc'[i % 3]},orig{i},t{i}\n" for i in range(90)
    )
    dataset = load_dataset(csv.encode(), text_col="headline", label_col="category")
    prepared = prepare(dataset, DataConfig(min_class_rows=3))
    table = pd.read_csv(
        io.BytesIO(prepared.to_csv_bytes(dataset.other_columns)), dtype=str, keep_default_na=False
    )
    assert list(table.columns) == ["text", "label", "split (file)", "text (file)", "split"]
    assert table["split (file)"].str.startswith("orig").all()
    assert set(table["split"]) == {"train", "validation", "test"}
