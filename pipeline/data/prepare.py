"""Cleaning, balancing and splitting a loaded dataset into train / validation / test.

:func:`prepare` runs four steps, each set by a :class:`~pipeline.core.config.DataConfig`:

1. dedupe by text (``drop_all`` drops every copy of a duplicated text like the seed
   notebook's ``drop_duplicates(subset="TITLE", keep=False)``; ``keep_first``; ``none``);
2. drop texts that would vectorise to nothing (empty, whitespace or punctuation only);
3. balance (``downsample`` every class to the smallest one, ``cap`` each class, weight
   the loss by class with ``class_weights``, or ``none``);
4. split: a stratified random split, or a split grouped by news story so that no story
   appears in two splits (near-identical headlines of one story would otherwise leak from
   train into test). The test set is either ``stratified`` (the test share of every
   class's rows, in the data's own proportions) or ``balanced``: the seed notebook's
   (the rows downsampling would test on), for comparisons with it.

The same dataset and config always give the same splits. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.config import DataConfig
from pipeline.core.errors import DatasetError
from pipeline.core.preparation import SPLIT_NAMES, PerSplit, PreparationSummary
from pipeline.data import BLANK_CHARACTERS, Dataset
from pipeline.data.columns import joined_labels_note, label_variants_note

#: Fewest rows a class may have after balancing: fewer cannot be split three ways. Smaller
#: classes are dropped before that, by ``DataConfig.min_class_rows`` (at least this).
MIN_ROWS_PER_CLASS: int = 3
SPLITS: tuple[str, ...] = SPLIT_NAMES


@dataclass
class PreparedData:
    """A cleaned, balanced dataset split three ways.

    Attributes
    ----------
    train, validation, test : pandas.DataFrame
        Columns ``text``, ``label`` and, when the dataset has stories, ``story``; a fresh
        ``RangeIndex``; rows in shuffled order.
    classes : list of str
        Label codes, sorted: the class index order of every model trained on this data.
    label_names : dict of str to str
        Label code -> display name.
    summary : PreparationSummary, optional
        Rows and classes through every step (see :func:`prepare`); ``None`` for data
        prepared by hand.
    class_weights : dict of str to float, optional
        Loss weight per label code (``balance="class_weights"``): ``n / (k * n_c)`` over
        the training rows, so every class weighs the same in total.
    test_rows : int array, shape (len(test),), optional
        Position in the dataset's ``frame`` of each test row, in ``test``'s order, so
        per-row test results can be joined with the dataset's other columns. Set by
        :func:`prepare`; ``None`` for data prepared by hand.
    train_rows, validation_rows : int array, optional
        The same for the training and validation rows (a label review's corrections are
        applied to them by position, :mod:`pipeline.review.corrections`).
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    classes: list[str]
    label_names: dict[str, str]
    summary: PreparationSummary | None = None
    class_weights: dict[str, float] | None = None
    test_rows: np.ndarray | None = None
    train_rows: np.ndarray | None = None
    validation_rows: np.ndarray | None = None

    def split(self, name: str) -> pd.DataFrame:
        """The ``"train"``, ``"validation"`` or ``"test"`` frame."""
        return {"train": self.train, "validation": self.validation, "test": self.test}[name]

    def to_csv_bytes(self, other_columns: pd.DataFrame | None = None) -> bytes:
        """Every row with a ``split`` column (train/validation/test), as UTF-8 CSV.

        ``other_columns`` (a dataset's :attr:`~pipeline.data.Dataset.other_columns`)
        adds the file's other columns, each row's own, between ``label`` and ``split``;
        a file column named ``text``, ``label`` or ``split`` gets `` (file)`` after its
        name. Without it, or for data prepared by hand (no row positions), the columns
        are ``text``, ``label``, ``story`` (when there is one) and ``split``.
        """
        positions = {"train": self.train_rows, "validation": self.validation_rows}
        positions["test"] = self.test_rows
        keep = other_columns is not None and len(other_columns.columns) > 0
        keep = keep and all(rows is not None for rows in positions.values())
        parts = []
        for name in SPLITS:
            part = self.split(name)
            if keep:
                extra = other_columns.iloc[positions[name]].reset_index(drop=True)
                extra.columns = [
                    f"{c} (file)" if c in {"text", "label", "split"} else c for c in extra.columns
                ]
                part = pd.concat([part[["text", "label"]].reset_index(drop=True), extra], axis=1)
            parts.append(part.assign(split=name))
        return pd.concat(parts, ignore_index=True).to_csv(index=False).encode("utf-8")


def class_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows per label code, sorted by code: ``{"b": 115967, ...}``."""
    counts = frame["label"].value_counts().sort_index()
    return {str(label): int(n) for label, n in counts.items()}


def prepare(ds: Dataset, cfg: DataConfig) -> PreparedData:
    """Dedupe, drop empty texts, balance and split a dataset.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset (``frame`` with ``text``, ``label``, optional ``story``).
    cfg : DataConfig
        The cleaning, balancing and splitting settings, and the seed.

    Returns
    -------
    PreparedData
        The three splits, ``test_rows`` (where each test row sits in ``ds.frame``) and a
        :class:`~pipeline.core.preparation.PreparationSummary` (``summary``) with
        ``rows_loaded``, ``duplicates_removed``, ``rows_after_dedupe``,
        ``empty_removed``, ``rows_after_dropping_empty``, ``rows_after_balance``,
        ``class_counts_before`` (as loaded), ``class_counts_cleaned`` (after dedupe and
        empties), ``dropped_classes``, ``class_counts_after`` (after balancing),
        ``split_sizes`` (rows per split), ``split_class_counts`` (rows per class per
        split), ``class_weights``, ``config`` (the DataConfig as a dict) and ``notes``.

    Raises
    ------
    ConfigError
        A setting of ``cfg`` is invalid.
    DatasetError
        A story split without a story column, fewer than 2 classes or a class with fewer
        than ``MIN_ROWS_PER_CLASS`` rows left after cleaning, or a split that cannot hold
        every class.
    """
    cfg.validate()
    if cfg.split == "story" and "story" not in ds.frame:
        raise DatasetError(
            f"A split by story needs a story column, and {ds.name} has none; choose the random "
            "split, or upload a file with a STORY column that groups related headlines."
        )
    columns = ["text", "label"] + (["story"] if "story" in ds.frame else [])
    frame = ds.frame[columns]
    deduped = dedupe(frame, cfg.dedupe)
    cleaned = drop_empty_texts(deduped)
    counted = {
        "rows_loaded": len(frame),
        "class_counts_before": class_counts(frame),
        "rows_after_dedupe": len(deduped),
        "duplicates_removed": len(frame) - len(deduped),
        "empty_removed": len(deduped) - len(cleaned),
        "rows_after_dropping_empty": len(cleaned),
        "class_counts_cleaned": class_counts(cleaned),
    }
    cleaned, dropped_classes = drop_small_classes(cleaned, cfg.min_class_rows)
    notes = []
    if dropped_classes:
        listing = ", ".join(f"{ds.display(c)!r} ({n:,} rows)" for c, n in dropped_classes.items())
        notes.append(
            f"Dropped {len(dropped_classes)} class(es) with fewer than {cfg.min_class_rows} "
            f"rows after cleaning: {listing}. Lower the smallest class kept, or add rows."
        )
    _check_classes(cleaned, ds, "after dropping duplicated and empty texts", notes)
    # the run's caveats: its scores count such labels as different classes
    notes.extend(
        note
        for note in (label_variants_note(cleaned["label"]), joined_labels_note(cleaned["label"]))
        if note
    )

    if cfg.test_set == "balanced" and cfg.balance != "downsample":
        train, validation, test, kept, train_rows, validation_rows = _seed_test_split(
            cleaned, cfg, ds
        )
    else:
        kept = (
            cleaned
            if cfg.balance == "class_weights"
            else balance(cleaned, cfg.balance, cfg.cap_per_class, cfg.seed)
        )
        _check_classes(kept, ds, "after balancing")
        rest, test = _hold_out_test(kept, cfg, ds)
        train, validation, train_rows, validation_rows = _hold_out_validation(rest, cfg, ds)
    test, test_rows = _finished(test, cfg.seed if cfg.split == "story" else None, ds)
    counts_after = class_counts(kept)
    classes = sorted(counts_after)
    splits = {"train": train, "validation": validation, "test": test}
    notes += _check_splits(splits, classes, ds)
    weights = (
        _balanced_weights(splits["train"]["label"]) if cfg.balance == "class_weights" else None
    )
    summary = PreparationSummary(
        **counted,
        dropped_classes=dropped_classes,
        rows_after_balance=len(kept),
        class_counts_after=counts_after,
        split_sizes=PerSplit(len(train), len(validation), len(test)),
        split_class_counts=PerSplit(*(class_counts(splits[name]) for name in SPLITS)),
        class_weights=weights,
        config=dataclasses.asdict(cfg),
        notes=tuple(notes),
    )
    return PreparedData(
        train=train,
        validation=validation,
        test=test,
        classes=classes,
        label_names={c: ds.display(c) for c in classes},
        summary=summary,
        class_weights=weights,
        test_rows=test_rows,
        train_rows=train_rows,
        validation_rows=validation_rows,
    )


# --------------------------------------------------------------------------- cleaning


def dedupe(frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Rows of ``frame`` without duplicated texts.

    ``drop_all`` drops every copy (the seed's ``keep=False``), ``keep_first`` keeps the
    first copy, ``none`` keeps everything.
    """
    if mode == "drop_all":
        return frame.drop_duplicates(subset="text", keep=False)
    if mode == "keep_first":
        return frame.drop_duplicates(subset="text", keep="first")
    return frame


def drop_empty_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose text keeps something after stripping whitespace and punctuation.

    Such texts standardise to no token at all, and an all-padding row breaks the masked
    cuDNN LSTM.
    """
    usable = frame["text"].str.strip(BLANK_CHARACTERS) != ""
    return frame[usable]


def balance(frame: pd.DataFrame, mode: str, cap: int | None, seed: int) -> pd.DataFrame:
    """Downsample classes: to the smallest class (``downsample``), to ``cap`` rows (``cap``).

    Rows are drawn with ``seed`` and returned in their original order; ``none`` returns
    ``frame`` itself.
    """
    if mode == "none":
        return frame
    sizes = frame["label"].value_counts()
    target = int(sizes.min()) if mode == "downsample" else int(cap or sizes.max())
    parts = []
    for label in sorted(sizes.index):
        rows = frame[frame["label"] == label]
        parts.append(rows if len(rows) <= target else rows.sample(n=target, random_state=seed))
    return pd.concat(parts).sort_index()


def _check_classes(
    frame: pd.DataFrame, ds: Dataset, when: str, notes: list[str] | None = None
) -> None:
    counts = frame["label"].value_counts()
    if len(counts) < 2:
        left = ", ".join(ds.display(c) for c in counts.index) or "none"
        raise DatasetError(
            f"Only {len(counts)} class(es) left {when} ({left}); a classifier needs at least "
            "2. Keep duplicated texts (dedupe 'keep_first' or 'none') or add rows of other "
            "classes." + "".join(f" {note}" for note in notes or [])
        )
    small = counts[counts < MIN_ROWS_PER_CLASS].sort_index()
    if len(small):
        listing = ", ".join(f"{ds.display(c)!r} has {n}" for c, n in small.items())
        raise DatasetError(
            f"Too few rows per class {when}: {listing} (at least {MIN_ROWS_PER_CLASS} are "
            "needed to split three ways). Add rows to that class, remove it from the file, "
            "keep duplicated texts (dedupe 'keep_first' or 'none') or raise the cap."
        )


# --------------------------------------------------------------------------- splitting


def drop_small_classes(frame: pd.DataFrame, min_rows: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """``frame`` without the classes that have fewer than ``min_rows`` rows.

    Returns the kept rows and ``{label: rows}`` of every dropped class.
    """
    counts = frame["label"].value_counts()
    small = counts[counts < min_rows].sort_index()
    dropped = {str(label): int(n) for label, n in small.items()}
    if not dropped:
        return frame, {}
    return frame[~frame["label"].isin(list(dropped))], dropped


def _hold_out_test(
    frame: pd.DataFrame, cfg: DataConfig, ds: Dataset
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(rest, test)``: ``test_size`` of the rows, stratified or by whole stories.

    Both keep ``frame``'s index, so the test rows can be found in a larger frame.
    """
    if cfg.split == "story":
        in_test = _hold_out_groups(
            _story_groups(frame), frame["label"], cfg.test_size, np.random.default_rng(cfg.seed)
        )
        return frame[~in_test], frame[in_test]
    return _stratified(frame, cfg.test_size, cfg, ds)


def _hold_out_validation(
    rest: pd.DataFrame, cfg: DataConfig, ds: Dataset
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """``(train, validation)`` of the non-test rows, finished (shuffled, fresh index), and
    where each of their rows sits in ``ds.frame``."""
    if cfg.split == "story":
        in_validation = _hold_out_groups(
            _story_groups(rest), rest["label"], cfg.val_size, _second_rng(cfg.seed)
        )
        train, validation, seed = rest[~in_validation], rest[in_validation], cfg.seed
    else:
        (train, validation), seed = _stratified(rest, cfg.val_size, cfg, ds), None
    (train, train_rows), (validation, validation_rows) = (
        _finished(train, seed, ds),
        _finished(validation, seed, ds),
    )
    return train, validation, train_rows, validation_rows


def _seed_test_split(
    cleaned: pd.DataFrame, cfg: DataConfig, ds: Dataset
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """``(train, validation, test, kept, train_rows, validation_rows)`` with the seed
    notebook's balanced test set (``*_rows``: positions in ``ds.frame``).

    The test rows are exactly those ``balance="downsample"`` picks with the same seed
    and sizes; the other cleaned rows are balanced as ``cfg`` says (``kept``, test rows
    included) and split into training and validation. With a story split, rows of a
    test story are kept out of training too. ``test`` keeps ``cleaned``'s index and
    order (unshuffled), as :func:`_hold_out_test` returns it.
    """
    _, test = _hold_out_test(balance(cleaned, "downsample", None, cfg.seed), cfg, ds)
    rest = cleaned.drop(index=test.index)
    if cfg.split == "story":
        test_stories = set(_story_groups(test))
        rest = rest[~_story_groups(rest).isin(test_stories)]
    if cfg.balance != "class_weights":
        rest = balance(rest, cfg.balance, cfg.cap_per_class, cfg.seed)
    kept = pd.concat([rest, test]).sort_index()
    _check_classes(kept, ds, "after balancing")
    train, validation, train_rows, validation_rows = _hold_out_validation(rest, cfg, ds)
    return train, validation, test, kept, train_rows, validation_rows


def _balanced_weights(labels: pd.Series) -> dict[str, float]:
    """scikit-learn's balanced class weights, ``n / (k * n_class)``, rounded, by label."""
    # Imported here: scikit-learn takes over a second to import, and the app's first
    # page imports this module without splitting anything.
    from sklearn.utils.class_weight import compute_class_weight

    classes = np.unique(labels.to_numpy())
    weights = compute_class_weight("balanced", classes=classes, y=labels.to_numpy())
    return {str(c): round(float(w), 6) for c, w in zip(classes, weights, strict=True)}


def _stratified(
    frame: pd.DataFrame, fraction: float, cfg: DataConfig, ds: Dataset
) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Imported here: scikit-learn takes over a second to import, and the app's first
    # page imports this module without splitting anything.
    from sklearn.model_selection import train_test_split

    try:
        return train_test_split(
            frame, test_size=fraction, stratify=frame["label"], random_state=cfg.seed
        )
    except ValueError as exc:
        n_classes = frame["label"].nunique()
        raise DatasetError(
            f"{ds.name} is too small to split {len(frame):,} rows of {n_classes} classes with "
            f"test size {cfg.test_size} and validation size {cfg.val_size} ({exc}). Add rows, "
            "raise the test and validation sizes, or raise the smallest class kept."
        ) from None


def _story_groups(frame: pd.DataFrame) -> pd.Series:
    """Each row's story id; a row without one is a story of its own."""
    return frame["story"].where(frame["story"] != "", "\x00row" + frame.index.astype(str))


def _second_rng(seed: int) -> np.random.Generator:
    """The generator state of the story split's validation draw (after the test draw)."""
    return np.random.default_rng([seed, 1])


def _hold_out_groups(
    groups: pd.Series, labels: pd.Series, fraction: float, rng: np.random.Generator
) -> pd.Series:
    """Boolean mask of the rows whose whole group is held out.

    Each group counts for its most frequent label. Per label, groups are taken in random
    order while the running row count's midpoint stays below ``fraction`` of that label's
    rows, so the held-out share per class lands close to ``fraction``.
    """
    sizes = (
        pd.DataFrame({"group": groups.to_numpy(), "label": labels.to_numpy()})
        .groupby(["group", "label"], sort=True)
        .size()
        .rename("n")
        .reset_index()
    )
    table = sizes.groupby("group", sort=True).agg(n=("n", "sum"))
    majority = sizes.sort_values(["group", "n", "label"], ascending=[True, False, True])
    table["label"] = majority.drop_duplicates("group").set_index("group")["label"]
    table = table.iloc[rng.permutation(len(table))]
    running = table.groupby("label", sort=False)["n"].cumsum()
    target = fraction * table.groupby("label", sort=False)["n"].transform("sum")
    held = table.index[(running - table["n"] / 2) < target]
    return groups.isin(held)


def _shuffle(part: pd.DataFrame, shuffle_seed: int | None) -> pd.DataFrame:
    """``part`` in an order drawn with ``shuffle_seed`` (as it is for ``None``), its
    index kept."""
    if shuffle_seed is None:
        return part
    return part.sample(frac=1.0, random_state=shuffle_seed)


def _finished(
    part: pd.DataFrame, shuffle_seed: int | None, ds: Dataset
) -> tuple[pd.DataFrame, np.ndarray]:
    """``part`` shuffled (with a seed) and with a fresh index, and where each of its rows
    sits in ``ds.frame`` (read from the index before it is reset)."""
    part = _shuffle(part, shuffle_seed)
    return part.reset_index(drop=True), ds.frame.index.get_indexer(part.index)


def _check_splits(splits: dict[str, pd.DataFrame], classes: list[str], ds: Dataset) -> list[str]:
    """Raise when a split is empty or train lacks a class; note classes missing elsewhere."""
    for name, part in splits.items():
        if part.empty:
            raise DatasetError(
                f"The {name} split of {ds.name} came out empty: there are too few stories to "
                "split. Choose the random split, or raise the test and validation sizes."
            )
    missing_train = sorted(set(classes) - set(splits["train"]["label"]))
    if missing_train:
        raise DatasetError(
            f"No training rows left for {', '.join(ds.display(c) for c in missing_train)}: "
            "every story of that class went to validation or test. Choose the random split "
            "or add rows of that class."
        )
    notes = []
    for name in ("validation", "test"):
        absent = sorted(set(classes) - set(splits[name]["label"]))
        if absent:
            notes.append(
                f"The {name} split has no rows of {', '.join(ds.display(c) for c in absent)}: "
                "its stories are too few or too big to share out."
            )
    return notes
