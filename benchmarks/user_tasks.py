"""Benchmark tasks that look like the files users bring, cut from the bundled UCI data.

The bundled file is large, balanced-ish and has four classes; what analysts upload is
small, imbalanced and often has many classes. Each task here is generated from the
bundled file by a fixed rule (the same rows every time), written as a CSV with
``text`` and ``label`` columns (``story`` too where the task keeps stories), so the
model benchmark trains on it exactly as the app would train on an upload.

``publishers``
    10,000 headlines of the 40 most frequent publishers, labelled by publisher, in the
    data's own (long-tailed) proportions: a many-class, imbalanced file.
``categories_1k``, ``categories_3k``
    1,000 and 3,000 headlines drawn at random, labelled by the four categories, in the
    data's own proportions: small files.
``uci_random``, ``uci_story``
    The whole bundled file with the default settings; the split at random, or grouped by
    news story (no story in two splits).

    python benchmarks/user_tasks.py --output /tmp/tasks   # writes the small tasks' CSVs
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "uci-news-aggregator.csv.gz"
#: The seed of every task's row sample: the task's rows never change.
SAMPLE_SEED = 2024
#: The split seeds every task is trained on.
SPLIT_SEEDS: tuple[int, ...] = (42, 7, 123)


@dataclass(frozen=True)
class UserTask:
    """One benchmark task: how its rows are cut, and the data settings it trains with."""

    name: str
    description: str
    #: ``None``: the bundled file as it is; otherwise the rows written by :func:`cut`.
    rows: int | None = None
    label_column: str = "CATEGORY"
    top_labels: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)


TASKS: dict[str, UserTask] = {
    task.name: task
    for task in (
        UserTask(
            "publishers",
            "10,000 headlines of the 40 most frequent publishers, unbalanced",
            rows=10_000,
            label_column="PUBLISHER",
            top_labels=40,
        ),
        UserTask("categories_1k", "1,000 headlines, 4 categories, unbalanced", rows=1_000),
        UserTask("categories_3k", "3,000 headlines, 4 categories, unbalanced", rows=3_000),
        UserTask("uci_random", "the bundled data, random split"),
        UserTask("uci_story", "the bundled data, split by story", overrides={"split": "story"}),
    )
}


def cut(task: UserTask, bundled: Path = BUNDLED) -> pd.DataFrame:
    """The rows of ``task`` (one with ``rows`` set): columns ``text``, ``label``, ``story``.

    Rows whose label is among the ``top_labels`` most frequent (all labels when unset),
    then ``rows`` of them drawn at random with :data:`SAMPLE_SEED`, keeping the data's
    own class proportions.
    """
    if task.rows is None:
        raise ValueError(f"Task {task.name} trains on the bundled file as it is.")
    frame = pd.read_csv(bundled, usecols=["TITLE", task.label_column, "STORY"])
    if task.top_labels is not None:
        top = frame[task.label_column].value_counts().index[: task.top_labels]
        frame = frame[frame[task.label_column].isin(top)]
    sample = frame.sample(n=task.rows, random_state=SAMPLE_SEED)
    return pd.DataFrame(
        {
            "text": sample["TITLE"].to_numpy(),
            "label": sample[task.label_column].to_numpy(),
            "story": sample["STORY"].to_numpy(),
        }
    )


def write_task(task: UserTask, folder: Path) -> Path:
    """Write ``task``'s CSV into ``folder``; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{task.name}.csv"
    cut(task).to_csv(path, index=False)
    return path


def load_task(name: str, folder: Path) -> tuple[Any, dict[str, Any]]:
    """The :class:`pipeline.data.Dataset` of task ``name`` (its CSV written into
    ``folder`` first) and its data-setting overrides."""
    from pipeline.data import load_dataset, load_default_dataset

    task = TASKS[name]
    if task.rows is None:
        return load_default_dataset(), dict(task.overrides)
    path = write_task(task, folder)
    return load_dataset(path, text_col="text", label_col="label", name=task.name), dict(
        task.overrides
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="folder for the CSVs")
    args = parser.parse_args()
    for task in TASKS.values():
        if task.rows is not None:
            print(write_task(task, args.output))


if __name__ == "__main__":
    main()
