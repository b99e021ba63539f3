"""pipeline.data.prepare: dedupe, empty texts, balancing, splitting, on the real UCI fixture."""

from __future__ import annotations

import io
from collections import Counter

import pandas as pd
import pytest

from pipeline.core.config import DataConfig
from pipeline.core.errors import ConfigError, DatasetError
from pipeline.data import DEFAULT_DATA_PATH, load_dataset, load_default_dataset
from pipeline.data.prepare import class_counts, prepare

NO_BALANCE = DataConfig(balance="none")

#: The seed notebook's data settings (the default is now class weights).
SEED_DATA = DataConfig(balance="downsample")


def csv_bytes(rows: list[tuple[str, str]], header: str = "text,label") -> bytes:
    frame = pd.DataFrame(rows, columns=header.split(","))
    return frame.to_csv(index=False).encode("utf-8")


def all_rows(prepared) -> pd.DataFrame:
    return pd.concat([prepared.train, prepared.validation, prepared.test], ignore_index=True)


# --------------------------------------------------------------------------- test rows


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"split": "story"},
        {"balance": "cap", "cap_per_class": 150, "test_set": "balanced"},
        {"balance": "class_weights", "test_set": "balanced", "split": "story"},
    ],
)
def test_test_rows_are_where_the_test_rows_sit_in_the_dataset(small_dataset, settings):
    prepared = prepare(small_dataset, DataConfig(**settings))
    found = small_dataset.frame.iloc[prepared.test_rows].reset_index(drop=True)
    assert found[["text", "label", "story"]].equals(prepared.test)
    assert len(set(prepared.test_rows)) == len(prepared.test)


# --------------------------------------------------------------------------- dedupe


def test_drop_all_removes_every_copy(small_dataset):
    texts = Counter(small_dataset.frame["text"])
    singles = sum(1 for n in texts.values() if n == 1)
    prepared = prepare(small_dataset, NO_BALANCE)
    summary = prepared.summary
    assert summary.rows_loaded == len(small_dataset.frame)
    assert summary.rows_after_dedupe == singles
    assert summary.duplicates_removed == len(small_dataset.frame) - singles
    rows = all_rows(prepared)
    assert len(rows) == singles
    assert not rows["text"].duplicated().any()
    assert not rows["text"].str.startswith("The article requested cannot be found!").any()


def test_keep_first_keeps_one_copy(small_dataset):
    distinct = small_dataset.frame["text"].nunique()
    prepared = prepare(small_dataset, DataConfig(dedupe="keep_first", balance="none"))
    rows = all_rows(prepared)
    assert len(rows) == prepared.summary.rows_after_dedupe == distinct
    assert (
        rows["text"] == "The article requested cannot be found! Please refresh your "
        "browser or go back  ..."
    ).sum() == 1


def test_dedupe_none_keeps_everything(small_dataset):
    prepared = prepare(small_dataset, DataConfig(dedupe="none", balance="none"))
    assert prepared.summary.duplicates_removed == 0
    assert len(all_rows(prepared)) == len(small_dataset.frame)
    assert Counter(all_rows(prepared)["text"]) == Counter(small_dataset.frame["text"])


def test_texts_without_words_are_dropped():
    rows = [(f"headline number {i}", "ab"[i % 2]) for i in range(40)]
    rows += [("", "a"), ("   ", "b"), ("!!!", "a"), ("... -- ...", "b"), ("é", "a"), ("42", "b")]
    ds = load_dataset(csv_bytes(rows))
    prepared = prepare(ds, DataConfig(balance="none"))
    assert prepared.summary.empty_removed == 4
    kept = set(all_rows(prepared)["text"])
    assert {"é", "42"} <= kept
    assert not kept & {"", "   ", "!!!", "... -- ..."}


# --------------------------------------------------------------------------- balance


def test_downsample_to_the_smallest_class(small_dataset):
    prepared = prepare(small_dataset, SEED_DATA)
    cleaned = prepared.summary.class_counts_cleaned
    after = prepared.summary.class_counts_after
    assert set(after.values()) == {min(cleaned.values())}
    assert prepared.summary.rows_after_balance == 4 * min(cleaned.values())
    assert class_counts(all_rows(prepared)) == after


def test_cap_per_class(small_dataset):
    prepared = prepare(small_dataset, DataConfig(balance="cap", cap_per_class=300))
    cleaned = prepared.summary.class_counts_cleaned
    assert prepared.summary.class_counts_after == {c: min(n, 300) for c, n in cleaned.items()}


def test_cap_above_every_class_keeps_everything(small_dataset):
    prepared = prepare(small_dataset, DataConfig(balance="cap", cap_per_class=10_000))
    assert prepared.summary.class_counts_after == prepared.summary.class_counts_cleaned


def test_balance_none(small_dataset):
    prepared = prepare(small_dataset, NO_BALANCE)
    assert prepared.summary.class_counts_after == prepared.summary.class_counts_cleaned
    assert prepared.summary.class_counts_before == class_counts(small_dataset.frame)


def test_cap_without_a_cap_is_a_config_error(small_dataset):
    with pytest.raises(ConfigError, match="cap per class"):
        prepare(small_dataset, DataConfig(balance="cap"))


# --------------------------------------------------------------------------- random split


def test_stratified_random_split_proportions(small_dataset):
    prepared = prepare(small_dataset, SEED_DATA)
    per_class = prepared.summary.class_counts_after
    split_counts = prepared.summary.split_class_counts
    for label, total in per_class.items():
        test = split_counts.test[label]
        validation = split_counts.validation[label]
        assert abs(test - 0.25 * total) <= 1
        assert abs(validation - 0.2 * (total - test)) <= 1
        assert split_counts.train[label] == total - test - validation
    sizes = prepared.summary.split_sizes
    assert sizes.as_dict() == {k: len(prepared.split(k)) for k in ("train", "validation", "test")}
    assert sum(sizes.as_dict().values()) == prepared.summary.rows_after_balance


def test_splits_are_disjoint_and_cover_the_balanced_rows(small_dataset):
    prepared = prepare(small_dataset, SEED_DATA)
    texts = [set(prepared.split(name)["text"]) for name in ("train", "validation", "test")]
    assert not texts[0] & texts[1] and not texts[0] & texts[2] and not texts[1] & texts[2]
    assert sum(map(len, texts)) == prepared.summary.rows_after_balance
    assert list(prepared.train.columns) == ["text", "label", "story"]
    assert prepared.train.index.equals(pd.RangeIndex(len(prepared.train)))


def test_classes_and_label_names(small_dataset):
    prepared = prepare(small_dataset, SEED_DATA)
    assert prepared.classes == ["b", "e", "m", "t"]
    assert prepared.label_names == {
        "b": "business",
        "e": "entertainment",
        "m": "health",
        "t": "science/tech",
    }


def test_same_config_same_splits_and_other_seed_other_splits(small_dataset):
    for split in ("random", "story"):
        first = prepare(small_dataset, DataConfig(split=split))
        again = prepare(
            load_dataset(small_dataset.frame.to_csv(index=False).encode()), DataConfig(split=split)
        )
        for name in ("train", "validation", "test"):
            pd.testing.assert_frame_equal(first.split(name), again.split(name))
        other = prepare(small_dataset, DataConfig(split=split, seed=7))
        assert set(other.test["text"]) != set(first.test["text"])


# --------------------------------------------------------------------------- story split


def test_story_split_keeps_stories_apart(small_dataset):
    prepared = prepare(small_dataset, DataConfig(split="story", balance="none"))
    stories = {name: set(prepared.split(name)["story"]) for name in ("train", "validation", "test")}
    assert not stories["train"] & stories["test"]
    assert not stories["train"] & stories["validation"]
    assert not stories["validation"] & stories["test"]
    per_class = prepared.summary.class_counts_after
    for label, total in per_class.items():
        share = prepared.summary.split_class_counts.test.get(label, 0) / total
        assert 0.15 < share < 0.35, (label, share)
    assert prepared.summary.notes == ()


def test_story_split_with_downsampling(small_dataset):
    prepared = prepare(small_dataset, DataConfig(balance="downsample", split="story"))
    train, test = set(prepared.train["story"]), set(prepared.test["story"])
    assert not train & test
    summary = prepared.summary
    assert sum(summary.split_sizes.as_dict().values()) == summary.rows_after_balance


def test_story_split_without_story_column(custom_csv_path):
    ds = load_dataset(custom_csv_path)
    with pytest.raises(DatasetError, match=r"story column.*choose the random split"):
        prepare(ds, DataConfig(split="story"))


def test_rows_without_a_story_are_stories_of_their_own():
    rows = [(f"news {i}", "ab"[i % 2], "") for i in range(60)]
    data = pd.DataFrame(rows, columns=["text", "label", "story"]).to_csv(index=False).encode()
    prepared = prepare(load_dataset(data), DataConfig(split="story"))
    assert prepared.summary.split_sizes.test == pytest.approx(15, abs=2)


def test_story_split_notes_a_class_missing_from_test():
    rows = [(f"alpha {i}", "a", "s1") for i in range(30)]
    rows += [(f"beta {i}", "b", f"s{i % 10 + 2}") for i in range(30)]
    data = pd.DataFrame(rows, columns=["text", "label", "story"]).to_csv(index=False).encode()
    ds = load_dataset(data)
    prepared = prepare(ds, DataConfig(split="story", balance="none"))
    assert any("no rows of a" in note for note in prepared.summary.notes)
    assert set(prepared.train["label"]) == {"a", "b"}


# --------------------------------------------------------------------------- validation


def test_class_too_small_after_cleaning_is_named():
    rows = [(f"business {i}", "b") for i in range(30)]
    rows += [(f"health {i}", "m") for i in range(9)]
    rows += [("same health title", "m")] * 5  # dropped by drop_all
    data = csv_bytes(rows, header="TITLE,CATEGORY")
    with pytest.raises(DatasetError) as info:
        prepare(load_dataset(data), DataConfig())
    message = str(info.value)
    assert "'health' (9 rows)" in message and "Lower the smallest class kept" in message
    assert "keep_first" in message
    # Keeping one copy of the duplicate gives the class enough rows.
    prepared = prepare(load_dataset(data), DataConfig(dedupe="keep_first", balance="downsample"))
    assert prepared.summary.class_counts_after == {"b": 10, "m": 10}


def test_fewer_than_two_classes_after_cleaning():
    rows = [(f"unique {i}", "a") for i in range(30)] + [("copy", "b")] * 20
    with pytest.raises(DatasetError, match=r"Only 1 class\(es\) left .*at least 2"):
        prepare(load_dataset(csv_bytes(rows)), DataConfig())


def test_too_small_to_split_is_a_dataset_error():
    rows = [(f"text {i}", "abc"[i % 3]) for i in range(30)]
    with pytest.raises(DatasetError, match="too small to split"):
        prepare(load_dataset(csv_bytes(rows)), DataConfig(test_size=0.05))


# --------------------------------------------------------------------------- output


def test_to_csv_bytes_has_every_row_with_its_split(small_dataset):
    prepared = prepare(small_dataset, SEED_DATA)
    table = pd.read_csv(io.BytesIO(prepared.to_csv_bytes()), dtype=str, keep_default_na=False)
    assert list(table.columns) == ["text", "label", "story", "split"]
    assert table["split"].value_counts().to_dict() == prepared.summary.split_sizes.as_dict()
    assert set(table.loc[table["split"] == "test", "text"]) == set(prepared.test["text"])


def test_summary_is_json_ready(small_dataset):
    import json

    from pipeline.core.preparation import SUMMARY_KEYS
    from pipeline.runs.fields import FieldReader
    from pipeline.runs.preparation import parse_preparation_summary

    summary = prepare(small_dataset, DataConfig(balance="downsample", split="story")).summary
    written = summary.to_json()
    assert json.loads(json.dumps(written)) == written
    assert tuple(written) == SUMMARY_KEYS  # every key, in the order data.json keeps them
    # what a saved run's data.json holds reads back as the same summary
    assert parse_preparation_summary(FieldReader(written, "data.json")) == summary
    assert summary.config["split"] == "story" and summary.classes == ["b", "e", "m", "t"]


def test_class_counts_helper():
    frame = pd.DataFrame({"text": list("abcde"), "label": ["y", "x", "y", "z", "y"]})
    assert class_counts(frame) == {"x": 1, "y": 3, "z": 1}
    assert list(class_counts(frame)) == ["x", "y", "z"]


def test_full_dataset_seed_settings():
    if not DEFAULT_DATA_PATH.is_file():
        pytest.skip("the bundled dataset is not there")
    ds = load_default_dataset()
    prepared = prepare(ds, SEED_DATA)  # its time: benchmarks/bench_data.py
    summary = prepared.summary
    # The numbers in data/README.md: drop_duplicates(subset="TITLE", keep=False).
    assert summary.rows_after_dedupe == 393_867
    assert summary.class_counts_cleaned == {
        "b": 108_145,
        "e": 142_542,
        "m": 41_908,
        "t": 101_272,
    }
    assert summary.class_counts_after == dict.fromkeys("bemt", 41_908)
    assert summary.split_sizes.test == 41_908


def test_the_balanced_test_set_is_the_seed_s_and_class_weights_train_on_the_rest(
    small_dataset,
):
    seed = prepare(small_dataset, SEED_DATA)
    weighted = prepare(small_dataset, DataConfig(balance="class_weights", test_set="balanced"))
    assert sorted(weighted.test["text"]) == sorted(seed.test["text"])
    assert class_counts(weighted.test) == class_counts(seed.test)  # balanced, as the seed's
    used = len(weighted.train) + len(weighted.validation) + len(weighted.test)
    assert used == weighted.summary.rows_after_dropping_empty  # every cleaned row
    assert not set(weighted.train["text"]) & set(weighted.test["text"])
    counts = class_counts(weighted.train)
    weights = weighted.class_weights
    total = sum(counts.values())
    for label, n in counts.items():
        assert weights[label] == pytest.approx(total / (len(counts) * n), rel=1e-5)
    assert seed.class_weights is None


def test_the_balanced_test_set_with_a_story_split_keeps_stories_apart(small_dataset):
    seed = prepare(small_dataset, DataConfig(balance="downsample", split="story"))
    weighted = prepare(
        small_dataset, DataConfig(balance="class_weights", split="story", test_set="balanced")
    )
    assert sorted(weighted.test["text"]) == sorted(seed.test["text"])
    assert not set(weighted.train["story"]) & set(weighted.test["story"])
    assert not set(weighted.validation["story"]) & set(weighted.test["story"])


def _imbalanced_news(smallest: int = 12) -> object:
    """Four classes of 1,200, 600, 200 and ``smallest`` distinct headlines."""
    sizes = {"b": 1200, "e": 600, "m": 200, "t": smallest}
    rows = [(f"headline {label} number {i}", label) for label, n in sizes.items() for i in range(n)]
    return load_dataset(csv_bytes(rows, header="TITLE,CATEGORY"))


@pytest.mark.parametrize("balance", ["class_weights", "none"])
def test_the_default_test_set_holds_the_test_share_of_every_class(balance):
    """Found: with class weights on an imbalanced upload the test set was sized by the
    smallest class (3 rows per class) and the test share was ignored."""
    ds = _imbalanced_news()
    prepared = prepare(ds, DataConfig(balance=balance, test_size=0.25))
    assert DataConfig().test_set == "stratified"
    cleaned = prepared.summary.class_counts_cleaned
    test = class_counts(prepared.test)
    for label, n in cleaned.items():
        assert test[label] == round(0.25 * n) or abs(test[label] - 0.25 * n) <= 1, (label, test)
    assert len(prepared.test) == pytest.approx(0.25 * sum(cleaned.values()), abs=2)
    assert class_counts(prepared.test)["b"] == 300  # not the 3 rows of the smallest class


def test_class_weights_are_rows_over_classes_times_class_rows_rounded_by_label():
    ds = _imbalanced_news()
    prepared = prepare(ds, DataConfig(balance="class_weights"))
    counts = class_counts(prepared.train)
    total = sum(counts.values())
    expected = {label: round(total / (len(counts) * n), 6) for label, n in counts.items()}
    assert prepared.class_weights == expected
    assert list(prepared.class_weights) == sorted(counts)  # label order, as saved
    assert all(type(weight) is float for weight in prepared.class_weights.values())
    assert prepared.summary.class_weights == expected


def test_the_balanced_test_set_is_sized_by_the_smallest_class_on_request():
    ds = _imbalanced_news()
    prepared = prepare(ds, DataConfig(balance="class_weights", test_set="balanced"))
    assert class_counts(prepared.test) == {"b": 3, "e": 3, "m": 3, "t": 3}


def test_the_balanced_test_set_with_a_cap_caps_the_training_rows():
    ds = _imbalanced_news()
    prepared = prepare(ds, DataConfig(balance="cap", cap_per_class=100, test_set="balanced"))
    assert class_counts(prepared.test) == {"b": 3, "e": 3, "m": 3, "t": 3}
    rest = class_counts(pd.concat([prepared.train, prepared.validation]))
    assert rest == {"b": 100, "e": 100, "m": 100, "t": 9}
    assert not set(prepared.test["text"]) & set(prepared.train["text"])


def test_both_test_sets_are_the_same_rows_when_every_class_is_downsampled(small_dataset):
    stratified = prepare(small_dataset, DataConfig(balance="downsample"))
    balanced = prepare(small_dataset, DataConfig(balance="downsample", test_set="balanced"))
    assert sorted(stratified.test["text"]) == sorted(balanced.test["text"])
    assert sorted(stratified.train["text"]) == sorted(balanced.train["text"])


def test_runs_saved_before_the_test_set_setting_keep_the_test_set_they_had():
    from pipeline.core.config import ExperimentConfig

    old = {"preset": "fast", "data": {"balance": "class_weights"}, "model": {}, "train": {}}
    assert ExperimentConfig.from_dict(old).data.test_set == "balanced"
    old["data"] = {"balance": "cap", "cap_per_class": 10}
    assert ExperimentConfig.from_dict(old).data.test_set == "stratified"


def test_small_classes_are_dropped_with_a_note_naming_them():
    rows = [(f"business {i}", "b") for i in range(40)]
    rows += [(f"movie {i}", "e") for i in range(40)]
    rows += [(f"health {i}", "m") for i in range(4)]
    ds = load_dataset(csv_bytes(rows, header="TITLE,CATEGORY"))
    prepared = prepare(ds, DataConfig(balance="none"))
    assert prepared.classes == ["b", "e"]
    assert prepared.summary.dropped_classes == {"m": 4}
    assert any("'health' (4 rows)" in note for note in prepared.summary.notes)
    kept = prepare(ds, DataConfig(balance="none", min_class_rows=4))
    assert kept.classes == ["b", "e", "m"]


def test_the_dropped_class_note_formats_counts_for_people():
    """Found: "(43633 rows)" without a thousands separator."""
    rows = [(f"business story number {i}", "b") for i in range(2_500)]
    rows += [(f"movie story number {i}", "e") for i in range(2_500)]
    rows += [(f"health story number {i}", "m") for i in range(1_234)]
    ds = load_dataset(csv_bytes(rows, header="TITLE,CATEGORY"))
    prepared = prepare(ds, DataConfig(balance="none", min_class_rows=2_000))
    assert any("'health' (1,234 rows)" in note for note in prepared.summary.notes)
