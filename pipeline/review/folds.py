"""The folds of a label review: rows that would vouch for each other are held out together.

A label review (:mod:`pipeline.review.run`) scores each row with models trained on the
other folds. If a copy of the row sat in a training fold, the model has seen that very text
with its label, and the "out-of-sample" probability is not: a flipped label on one copy
is judged by a model trained on the other copy. So the folds are grouped:

* **duplicates**: texts the models read as the same words (:func:`duplicate_keys`: the
  pipeline's standardisation, :func:`pipeline.models.text.standardize`, then whitespace runs
  as one) always share a fold;
* **stories**: on data with a story column (the UCI ``STORY`` id), rows of one story
  share a fold, as the story split of :mod:`pipeline.data.prepare` keeps a story in one
  split; a row without a story is a story of its own.

Both join transitively (:func:`fold_groups`): a text written in two stories ties them.
A review's cache key holds the data fingerprint (texts and labels) and
``REVIEW_VERSION`` (bump it when :func:`duplicate_keys` or :func:`fold_groups` change);
the stories are not in the fingerprint, so a saved review keeps their
:func:`story_digest` and is reused only for the same stories.
:func:`assign_folds` then splits the groups with scikit-learn's
:class:`~sklearn.model_selection.StratifiedGroupKFold`, which keeps each class's share
of rows close to even across the folds. When no group holds more than one row, it is
scikit-learn's :class:`~sklearn.model_selection.StratifiedKFold` with the same seed,
exactly the folds reviews had before groups (``REVIEW_VERSION`` 1).

numpy, scipy and scikit-learn are imported by the functions that use them, TensorFlow
(for the standardisation) by :func:`duplicate_keys`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import DatasetError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Most (units x folds) :class:`~sklearn.model_selection.StratifiedGroupKFold` weighs
#: one by one (a Python loop of about 0.05 ms each: 100,000 groups in 5 folds took 27 s);
#: beyond ``MAX_FOLD_PLACEMENTS // folds`` groups, groups of one class are bundled
#: (see :func:`fold_units`).
MAX_FOLD_PLACEMENTS = 20_000
#: Values of ``describe_groups(...)["scheme"]``.
FOLD_SCHEMES: dict[str, str] = {
    "rows": "stratified k-fold over rows (no duplicate texts or shared stories)",
    "grouped": "stratified group k-fold: duplicate texts and stories held out together",
}


def duplicate_keys(texts: Sequence[str]) -> list[str]:
    """What makes two texts duplicates: the words the models read in them.

    Parameters
    ----------
    texts : sequence of str
        Raw texts.

    Returns
    -------
    list of str
        One key per text: :func:`pipeline.models.text.standardize` (lower case, the punctuation
        filter turned into spaces), its whitespace runs joined by one space. Texts that
        differ only by case, punctuation or spacing get the same key.
    """
    from pipeline.models.text import standardize

    return [" ".join(text.split()) for text in standardize([str(t) for t in texts])]


def fold_groups(frame: pd.DataFrame) -> np.ndarray:
    """Each row's fold group: rows that must be held out together share one.

    Parameters
    ----------
    frame : pandas.DataFrame
        A dataset's ``frame``: ``text`` and, when the data has stories, ``story`` (an
        empty story is no story).

    Returns
    -------
    numpy.ndarray
        int64 ``(rows,)``, group ids from 0: two rows share an id when they have the
        same :func:`duplicate_keys` key or the same non-empty story, directly or through
        a chain of such rows.
    """
    import numpy as np
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(frame):
        return np.zeros(0, dtype="int64")
    text_ids, text_keys = pd.factorize(pd.Series(duplicate_keys(frame["text"].tolist())))
    nodes = len(text_keys)
    # A graph of texts and stories: each row joins its text to its story.
    sources, targets = [np.arange(nodes)], [np.arange(nodes)]
    if "story" in frame:
        stories = frame["story"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
        has_story = stories != ""
        story_ids, story_keys = pd.factorize(stories[has_story])
        sources.append(text_ids[has_story])
        targets.append(nodes + story_ids)
        nodes += len(story_keys)
    sources, targets = np.concatenate(sources), np.concatenate(targets)
    graph = coo_matrix((np.ones(len(sources)), (sources, targets)), shape=(nodes, nodes))
    _, component = connected_components(graph, directed=False)
    # Ids renumbered in order of first appearance, so they do not depend on the graph.
    groups, _ = pd.factorize(component[text_ids])
    return np.asarray(groups, dtype="int64")


def story_digest(frame: pd.DataFrame) -> str | None:
    """A 16-hex-digit digest of ``frame``'s ``story`` column (the rows' stories in
    order); ``None`` when it has none."""
    import pandas as pd

    if "story" not in frame:
        return None
    stories = frame["story"].fillna("").astype(str)
    hashes = pd.util.hash_pandas_object(stories, index=False).to_numpy(dtype="<u8")
    return hashlib.sha256(hashes.tobytes()).hexdigest()[:16]


def shares_groups(groups: np.ndarray) -> bool:
    """Whether any group of ``groups`` (ids per row) holds more than one row."""
    import numpy as np

    return bool(len(groups)) and bool(np.unique(groups, return_counts=True)[1].max() > 1)


def describe_groups(groups: np.ndarray) -> dict[str, Any]:
    """JSON-ready: how the review's folds are drawn from ``groups`` (ids per row).

    Returns
    -------
    dict
        ``scheme`` (a :data:`FOLD_SCHEMES` name), ``groups`` (distinct groups),
        ``grouped_rows`` (rows in a group of two or more) and ``largest_group`` (rows).
    """
    import numpy as np

    sizes = np.unique(groups, return_counts=True)[1] if len(groups) else np.zeros(0, int)
    return {
        "scheme": "grouped" if shares_groups(groups) else "rows",
        "groups": len(sizes),
        "grouped_rows": int(sizes[sizes > 1].sum()),
        "largest_group": int(sizes.max()) if len(sizes) else 0,
    }


def fold_units(labels: np.ndarray, groups: np.ndarray, seed: int, max_units: int) -> np.ndarray:
    """The units the group splitter places: the groups, bundled when there are many.

    With more than ``max_units`` groups, the groups whose rows all have one class are
    bundled, per class and in an order drawn with ``seed``, into units of about
    ``ceil(rows / max_units)`` rows. A bundle only holds more rows out together (no row
    is parted from its group); groups of mixed classes stay units of their own.

    Parameters
    ----------
    labels : numpy.ndarray
        Class indices ``(rows,)``.
    groups : numpy.ndarray
        Group ids ``(rows,)`` (:func:`fold_groups`).
    seed : int
        Seed of the bundling order.
    max_units : int
        Groups beyond which bundling starts, at least 1.

    Returns
    -------
    numpy.ndarray
        int64 unit ids ``(rows,)``; the group index (0 .. groups - 1) of each row
        when there are at most ``max_units`` groups.
    """
    import numpy as np

    _, group_of = np.unique(groups, return_inverse=True)
    count = int(group_of.max()) + 1 if len(group_of) else 0
    if count <= max_units:
        return group_of.astype("int64")
    labels = np.asarray(labels)
    lowest = np.full(count, np.iinfo("int64").max)
    highest = np.full(count, -1)
    np.minimum.at(lowest, group_of, labels)
    np.maximum.at(highest, group_of, labels)
    sizes = np.bincount(group_of, minlength=count)
    bundle_rows = math.ceil(len(labels) / max_units)
    order = np.random.default_rng(seed).permutation(count)
    unit = np.empty(count, dtype="int64")
    next_unit = 0
    for label in np.unique(lowest[lowest == highest]):
        members = order[(lowest[order] == label) & (highest[order] == label)]
        before = np.cumsum(sizes[members]) - sizes[members]
        bundle = before // bundle_rows
        unit[members] = next_unit + bundle
        next_unit += int(bundle.max()) + 1
    mixed = np.flatnonzero(lowest != highest)
    unit[mixed] = next_unit + np.arange(len(mixed))
    return unit[group_of]


def assign_folds(
    labels: np.ndarray,
    groups: np.ndarray | None,
    folds: int,
    seed: int,
    *,
    max_units: int | None = None,
) -> np.ndarray:
    """Each row's fold: groups whole, each class's rows spread evenly over the folds.

    Parameters
    ----------
    labels : numpy.ndarray
        Class indices ``(rows,)``; every class needs at least ``folds`` rows.
    groups : numpy.ndarray or None
        Group ids ``(rows,)`` (:func:`fold_groups`); ``None``: every row alone.
    folds : int
        Number of folds, at least 2.
    seed : int
        Seed of the shuffles.
    max_units : int, optional
        As in :func:`fold_units`; default ``MAX_FOLD_PLACEMENTS // folds``.

    Returns
    -------
    numpy.ndarray
        int64 fold indices ``(rows,)`` in ``range(folds)``. Without a group of two or
        more rows, the test folds of ``StratifiedKFold(folds, shuffle=True,
        random_state=seed)``; else those of ``StratifiedGroupKFold`` (same arguments)
        over :func:`fold_units`. A fold may be empty when a few groups hold most rows.

    Raises
    ------
    DatasetError
        Fewer groups than folds: the rows cannot be cut ``folds`` ways.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    labels = np.asarray(labels)
    rows = np.zeros((len(labels), 1))
    if groups is None or not shares_groups(np.asarray(groups)):
        splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(rows, labels)
    else:
        max_units = max_units or MAX_FOLD_PLACEMENTS // folds
        units = fold_units(labels, np.asarray(groups), seed, max_units)
        count = len(np.unique(units))
        if count < folds:
            raise DatasetError(
                f"The label review keeps duplicated texts and the rows of one story in one "
                f"fold, and these rows make only {count} such group(s): too few for "
                f"{folds} folds. Lower the folds to at most {max(count, 1)}."
            )
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
        splits = splitter.split(rows, labels, units)
    fold_of = np.full(len(labels), -1, dtype="int64")
    for fold, (_, held_out) in enumerate(splits):
        fold_of[held_out] = fold
    return fold_of
