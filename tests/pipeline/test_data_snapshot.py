"""The disk snapshot of a dataset and its statistics (pipeline.data.snapshot).

Each test copies the small UCI fixture into its own folder and snapshots the copy, so the
bundled file's own snapshot (data/.cache) is never touched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.data import fingerprint, inspect_dataset, load_dataset
from pipeline.data.snapshot import (
    META_FILE,
    cache_dir_for,
    load_with_snapshot,
    stats_with_snapshot,
)

FIELDS = (
    "raw_columns",
    "text_col",
    "label_col",
    "label_names",
    "name",
    "encoding",
    "notes",
    "missing",
    "rows_read",
)


@pytest.fixture
def data_file(tmp_path: Path, uci_small_path: Path) -> Path:
    target = tmp_path / "data" / "uci.csv"
    target.parent.mkdir()
    shutil.copyfile(uci_small_path, target)
    return target


def assert_same_dataset(got, expected) -> None:
    pd.testing.assert_frame_equal(got.frame, expected.frame)
    pd.testing.assert_frame_equal(got.other_columns, expected.other_columns)
    for name in FIELDS:
        assert getattr(got, name) == getattr(expected, name), name
    assert fingerprint(got) == fingerprint(expected)


def test_a_snapshot_is_written_and_loads_the_same_dataset(data_file: Path) -> None:
    expected = load_dataset(data_file)
    first = load_with_snapshot(data_file)
    folder = cache_dir_for(data_file)
    assert folder == data_file.parent / ".cache" / "uci.csv"
    assert sorted(p.name for p in folder.iterdir()) == [
        "frame.parquet",
        META_FILE,
        "other_columns.parquet",
    ]
    assert_same_dataset(first, expected)
    second = load_with_snapshot(data_file)  # from the snapshot this time
    assert_same_dataset(second, expected)
    # The file's STORY and PUBLISHER are stored once, shared with "story" and "publisher".
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["shared_columns"] == {"story": "STORY", "publisher": "PUBLISHER"}
    assert "story" not in pd.read_parquet(folder / "frame.parquet").columns


def test_the_snapshot_is_what_is_read_while_the_file_is_unchanged(data_file: Path) -> None:
    load_with_snapshot(data_file)
    folder = cache_dir_for(data_file)
    stored = pd.read_parquet(folder / "frame.parquet")
    stored.loc[stored.index[0], "text"] = "written into the snapshot"
    stored.to_parquet(folder / "frame.parquet")
    assert load_with_snapshot(data_file).frame["text"].iloc[0] == "written into the snapshot"


def test_a_changed_file_rebuilds_the_snapshot(data_file: Path) -> None:
    before = load_with_snapshot(data_file)
    with data_file.open("a", encoding="utf-8") as handle:
        handle.write("99999,A brand new headline,Nobody,t,story-x,example.com,1394492391886\n")
    after = load_with_snapshot(data_file)
    assert len(after.frame) == len(before.frame) + 1
    assert_same_dataset(after, load_dataset(data_file))


def test_a_damaged_snapshot_is_rebuilt(data_file: Path) -> None:
    load_with_snapshot(data_file)
    folder = cache_dir_for(data_file)
    (folder / "other_columns.parquet").write_bytes(b"not parquet at all")
    assert_same_dataset(load_with_snapshot(data_file), load_dataset(data_file))
    assert pd.read_parquet(folder / "other_columns.parquet").shape[0] > 0


def test_an_unwritable_cache_folder_still_loads(data_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("x")
    dataset = load_with_snapshot(data_file, cache_dir=blocker / "cache")
    assert_same_dataset(dataset, load_dataset(data_file))
    assert stats_with_snapshot(data_file, 5, cache_dir=blocker / "cache") == inspect_dataset(
        dataset, top_n=5
    )


def test_statistics_come_back_as_inspect_dataset_gives_them(data_file: Path) -> None:
    expected = inspect_dataset(load_dataset(data_file), top_n=3)
    assert stats_with_snapshot(data_file, 3) == expected  # computed and stored
    stored = cache_dir_for(data_file) / "stats-3.json"
    assert json.loads(stored.read_text())["report"]["rows"] == expected.rows
    again = stats_with_snapshot(data_file, 3)  # read back: word counts are ints again
    assert again == expected
    assert all(isinstance(k, int) for k in again.length_counts)
    assert (
        stats_with_snapshot(data_file, 4).duplicates
        == inspect_dataset(load_dataset(data_file), top_n=4).duplicates
    )


def test_statistics_of_a_changed_file_are_computed_again(data_file: Path) -> None:
    rows = stats_with_snapshot(data_file, 3).rows
    with data_file.open("a", encoding="utf-8") as handle:
        handle.write("99999,A brand new headline,Nobody,t,story-x,example.com,1394492391886\n")
    assert stats_with_snapshot(data_file, 3).rows == rows + 1


#: The statistics file's report as the versions before the typed summary wrote it: the
#: same keys, so their caches still read back (and the snapshot's schema stays 1).
STORED_REPORT_KEYS = [
    "name",
    "rows",
    "rows_read",
    "columns",
    "text_col",
    "label_col",
    "missing",
    "duplicates",
    "labels_per_duplicated_text",
    "class_counts",
    "text_length_words",
    "length_counts",
    "top_publishers",
    "n_publishers",
    "n_stories",
]


def test_stored_statistics_keep_their_layout_and_a_wrong_one_is_computed_again(
    data_file: Path,
) -> None:
    expected = stats_with_snapshot(data_file, 3)
    stored = cache_dir_for(data_file) / "stats-3.json"
    document = json.loads(stored.read_text())
    assert list(document["report"]) == STORED_REPORT_KEYS
    assert list(document["report"]["text_length_words"]) == [
        *("min", "p50", "p90", "p99", "p99.9", "max", "mean")
    ]
    document["report"]["class_counts"][0]["count"] = "many"  # damaged, or from elsewhere
    stored.write_text(json.dumps(document))
    assert stats_with_snapshot(data_file, 3) == expected
    assert json.loads(stored.read_text())["report"] == expected.to_json() | {
        "length_counts": {str(k): n for k, n in expected.length_counts.items()}
    }
