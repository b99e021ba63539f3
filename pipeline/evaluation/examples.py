"""Example texts for trying a model: a few of the run's own test rows, one per class.

The Playground's ready-made examples were the 2019 notebook's news sentences, whatever
the model: a classifier of 200 publishers or of Chinese reviews was offered "The health
of the kid is poor". A run trained on a user's file offers that file's texts instead.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from pipeline.evaluation.slices import check_same_data

if TYPE_CHECKING:  # runs imports evaluation, not the other way round
    from pipeline.data.dataset import Dataset
    from pipeline.runs.summary import SavedRun

#: Examples offered at most (one per class, the classes with the most test rows first).
MAX_EXAMPLES = 5
#: An example longer than this many characters is passed over for a shorter one of its
#: class, when the class has one (a button holds the whole text).
SHORT_EXAMPLE_CHARS = 100


def examples_from_test_set(
    saved: SavedRun, dataset: Dataset, count: int = MAX_EXAMPLES
) -> list[str]:
    """Up to ``count`` texts of ``saved``'s test rows in ``dataset``, one for each of the
    classes with the most test rows (ties by class code): the class's first test row, in
    the saved order, of at most :data:`SHORT_EXAMPLE_CHARS` characters, else its shortest.

    ``[]`` when the run kept no per-row predictions. Raises
    :class:`~pipeline.core.errors.DatasetError` when ``dataset`` is not the run's data and
    :class:`~pipeline.core.errors.RunRecordError` when its predictions file is damaged.
    """
    predictions = saved.test_predictions()
    if predictions is None:
        return []
    check_same_data(saved, dataset)
    texts = dataset.frame["text"]
    by_class: dict[str, list[str]] = {}
    for row, true in zip(predictions.row, predictions.true, strict=True):
        by_class.setdefault(true, []).append(" ".join(str(texts.iat[row]).split()))
    sizes = Counter(predictions.true)
    biggest = sorted(by_class, key=lambda code: (-sizes[code], code))[:count]
    examples = []
    for code in biggest:
        short = [text for text in by_class[code] if 0 < len(text) <= SHORT_EXAMPLE_CHARS]
        examples.append(short[0] if short else min(by_class[code], key=len))
    return examples
