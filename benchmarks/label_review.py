"""How many planted label flips a label review finds, side by side with the anchor.

The probe is ``tests/fixtures/uci_flipped.csv``: 8,000 UCI headlines, 240 of them
with their label flipped on purpose to a random other class (the flipped IDs are in
``uci_flipped.flips.json``; ``tests/fixtures/make_flipped.py`` cuts both). Each
ranking orders the rows from most to least suspect; with k = the number of flips:

``precision@k``
    share of flips among the k most suspect rows;
``recall@2k``
    share of the flips found among the 2k most suspect rows.

Rows of the table, all in one run on the same folds (the review's:
``pipeline.review.folds.assign_folds``, duplicated texts and the rows of one story held
out together; the output names the scheme and its groups):

``anchor``
    5-fold TF-IDF + logistic regression (``pipeline.training.baseline.baseline_pipeline``,
    ``cross_val_predict`` on the review's folds), ranked by the probability of the
    given label;
``review``
    ``pipeline.review.run.review_labels`` with the default settings (or those given);
``variant``
    the same with the other neural preset(s) (``--neural-presets``);
``<review> without group agreement``
    its probabilities ranked by cleanlab alone, without weighing the group mates'
    labels (``pipeline.review.agreement``; for information);
``part: <model>``
    each model of the review alone, scored the same way (for information);
``quality: <method>``
    the review's probabilities scored by another cleanlab method (for information).

Also: how many rows cleanlab's ``find_label_issues`` flags and how many of them are
flips, the out-of-sample accuracy against the given (noisy) labels, and seconds.
Everything is measured once per seed (the folds and the neural training; anchor and
review share the folds), then averaged over the seeds: one seed's precision@k moves
by a few hundredths with the folds alone. Prints Markdown tables and writes
``benchmarks/results/<output>.json`` and ``.md``::

    python benchmarks/label_review.py                  # 3 seeds, both neural presets
    python benchmarks/label_review.py --neural-presets accurate --seeds 42

``--before <results.json>`` adds a before/after table: the mean rows of an earlier run
(e.g. of an older ``pipeline/review.py``, run from a ``git worktree`` of its commit,
where this script also runs: without ``pipeline.review.folds`` it uses the stratified
k-fold over rows of those reviews), side by side with this run's, matched by ranking
name.

``--flip-stories N`` measures another kind of error on the same file: the probe's flips
are undone and instead every row of N stories (of 2 to 6 rows, drawn with a fixed
seed) gets one random other class. That is how data labelled per story goes wrong (no
story of the UCI data has two categories): a story mate in a training fold then vouches
for the wrong label, and only folds that hold a story out whole can catch it::

    python benchmarks/label_review.py --flip-stories 80 --output label_review_stories
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter

from flags import at_least_one  # noqa: E402

from pipeline.data import load_dataset, read_table  # noqa: E402
from pipeline.review.ranking import class_indices, score_labels  # noqa: E402
from pipeline.review.run import review_labels  # noqa: E402
from pipeline.review.settings import NEURAL_PRESETS, QUALITY_METHODS, ReviewSettings  # noqa: E402

try:
    from pipeline.review.folds import FOLD_SCHEMES, assign_folds, describe_groups, fold_groups
except ImportError:  # a pipeline from before fold groups (REVIEW_VERSION 1): rows folds
    FOLD_SCHEMES = {}

RESULTS = ROOT / "benchmarks" / "results"
PROBE = ROOT / "tests" / "fixtures" / "uci_flipped.csv"
#: Seed of the stories ``--flip-stories`` flips, and their sizes.
STORY_FLIP_SEED, STORY_FLIP_SIZES = 5, (2, 6)
#: The column ``story_flipped`` keeps the true labels in (not a column the review reads).
FLIPPED_FROM = "TRUE_CATEGORY"


def story_flipped(frame: pd.DataFrame, flips: list[dict[str, str]], stories: int) -> pd.DataFrame:
    """The probe ``frame`` (UCI columns, strings) with its ``flips`` (``{"ID",
    "original", ...}``) undone and every row of ``stories`` stories of 2 to 6 rows
    flipped to one random other class instead.

    Returns a copy of ``frame``: ``CATEGORY`` as flipped, and the true labels in a
    column :data:`FLIPPED_FROM` (the flipped rows are where the two differ).
    """
    frame = frame.copy()
    original = {flip["ID"]: flip["original"] for flip in flips}
    frame["CATEGORY"] = [original.get(i, c) for i, c in zip(frame["ID"], frame["CATEGORY"])]
    frame[FLIPPED_FROM] = frame["CATEGORY"]
    rng = np.random.default_rng(STORY_FLIP_SEED)
    sizes = frame.loc[frame["STORY"] != "", "STORY"].value_counts()
    smallest, largest = STORY_FLIP_SIZES
    candidates = np.sort(sizes[(sizes >= smallest) & (sizes <= largest)].index.to_numpy())
    classes = sorted(frame["CATEGORY"].unique())
    for story in np.sort(rng.choice(candidates, stories, replace=False)):
        rows = frame.index[frame["STORY"] == story]
        given = frame.loc[rows[0], "CATEGORY"]
        frame.loc[rows, "CATEGORY"] = rng.choice([c for c in classes if c != given])
    return frame


def ranking_metrics(quality: np.ndarray, is_flip: np.ndarray) -> dict[str, float]:
    """precision@k and recall@2k of ranking rows by ``quality``, lowest first."""
    order = np.argsort(quality, kind="mergesort")
    k = int(is_flip.sum())
    return {
        "precision_at_k": round(float(is_flip[order[:k]].mean()), 4),
        "recall_at_2k": round(float(is_flip[order[: 2 * k]].sum() / k), 4),
    }


def row(
    name: str,
    quality: np.ndarray,
    is_flip: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    seconds: float | None,
    issues: np.ndarray | None = None,
) -> dict[str, Any]:
    """One line of the table."""
    measured = {"ranking": name, **ranking_metrics(quality, is_flip)}
    if issues is not None:
        measured["flagged"] = int(issues.sum())
        measured["flagged_flips"] = int((issues & is_flip).sum())
    measured["accuracy"] = round(float((probabilities.argmax(axis=1) == labels).mean()), 4)
    measured["seconds"] = None if seconds is None else round(seconds, 1)
    return measured


def anchor(
    texts: list[str], labels: np.ndarray, groups: np.ndarray, folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """The anchor's self-confidence per row, its probabilities and its seconds, on the
    review's folds of ``groups`` (group ids per row)."""
    from sklearn.model_selection import cross_val_predict

    from pipeline.training.baseline import baseline_pipeline

    started = time.perf_counter()
    if groups is None:  # before fold groups
        from sklearn.model_selection import StratifiedKFold

        splits = StratifiedKFold(folds, shuffle=True, random_state=seed)
    else:
        splits = _grouped_splits(labels, groups, folds, seed)
    probabilities = cross_val_predict(
        baseline_pipeline(), texts, labels, cv=splits, method="predict_proba"
    )
    seconds = time.perf_counter() - started
    return probabilities[np.arange(len(labels)), labels], probabilities, seconds


def _grouped_splits(
    labels: np.ndarray, groups: np.ndarray, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The review's folds as (training rows, held-out rows), empty folds left out."""
    fold_of = assign_folds(labels, groups, folds, seed)
    return [
        (np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold))
        for fold in range(folds)
        if (fold_of == fold).any()
    ]


def review_rows(
    dataset: Any,
    settings: ReviewSettings,
    labels: np.ndarray,
    is_flip: np.ndarray,
    tag: str = "review",
) -> list[dict[str, Any]]:
    """The review's row (named ``tag``), then its parts' and the other quality methods'."""
    review = review_labels(dataset, settings)
    frame, summary = review.frame, review.summary
    probabilities = frame[[f"p_{code}" for code in dataset.classes]].to_numpy()
    neural = f", {settings.neural_preset}" if "neural" in review.part_probabilities else ""
    label = f"{tag} ({settings.models}{neural}, {settings.quality_method})"
    rows = [
        row(
            label,
            frame["label_quality"].to_numpy(),
            is_flip,
            labels,
            probabilities,
            summary["seconds"],
            frame["is_label_issue"].to_numpy(),
        )
    ]
    if "group_mates" in frame:  # reviews since REVIEW_VERSION 3 weigh the group mates
        from pipeline.review.agreement import GroupAgreement

        agreement = GroupAgreement(
            frame["group_mates"].to_numpy(), frame["agreeing_mates"].to_numpy()
        )
        quality, issues = score_labels(labels, probabilities, settings.quality_method)
        name = f"{tag} without group agreement"
        rows.append(row(name, quality, is_flip, labels, probabilities, None, issues))
    else:
        agreement = None
    if len(review.part_probabilities) > 1:
        for part, part_probabilities in review.part_probabilities.items():
            quality, issues = score_labels(
                labels, part_probabilities, settings.quality_method, agreement
            )
            seconds = summary["part_seconds"][part]
            name = f"part: {part}" + (f" ({settings.neural_preset})" if part == "neural" else "")
            rows.append(row(name, quality, is_flip, labels, part_probabilities, seconds, issues))
    for method in QUALITY_METHODS:
        if method != settings.quality_method:
            quality, _ = score_labels(labels, probabilities, method, agreement)
            name = f"quality: {method} ({settings.models}{neural})"
            rows.append(row(name, quality, is_flip, labels, probabilities, None))
    return rows


def mean_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per ranking, its numbers averaged over the seeds."""
    means = []
    for name in dict.fromkeys(r["ranking"] for r in rows):
        same = [r for r in rows if r["ranking"] == name]
        mean = {"ranking": name}
        for key, value in same[0].items():
            if key in {"ranking", "seed"}:
                continue
            values = [r[key] for r in same]
            mean[key] = None if value is None else float(np.mean(values))
        means.append(mean)
    return means


def table(rows: list[dict[str, Any]], k: int) -> str:
    """The Markdown table of ``rows``."""
    head = (
        f"| ranking | precision@k (k={k}) | recall@2k | flagged (flips among them) "
        "| out-of-sample accuracy | seconds |\n| --- | --- | --- | --- | --- | --- |\n"
    )
    lines = []
    for r in rows:
        flagged = f"{r['flagged']:,.0f} ({r['flagged_flips']:.0f})" if "flagged" in r else "-"
        seconds = "-" if r["seconds"] is None else f"{r['seconds']:.1f}"
        lines.append(
            f"| {r['ranking']} | {r['precision_at_k']:.3f} | {r['recall_at_2k']:.3f} "
            f"| {flagged} | {r['accuracy']:.4f} | {seconds} |"
        )
    return head + "\n".join(lines) + "\n"


def fold_line(described: dict[str, Any] | None) -> str:
    """One sentence on how the folds were drawn (``describe_groups``; ``None``: a run
    from before fold groups, stratified k-fold over rows)."""
    if described is None:
        return "Folds: stratified k-fold over rows (a run from before fold groups)."
    line = f"Folds: {FOLD_SCHEMES[described['scheme']]}"
    if described["scheme"] == "grouped":
        line += (
            f"; {described['groups']:,} groups, {described['grouped_rows']:,} rows in a "
            f"group of two or more, the largest {described['largest_group']:,} rows"
        )
    return line + "."


def before_after(before: dict[str, Any], after: list[dict[str, Any]], k: int) -> str:
    """The Markdown table of the mean rows of ``before`` (a results JSON) and ``after``
    side by side, for the rankings both have."""
    earlier = {r["ranking"]: r for r in before["mean"]}
    head = (
        f"| ranking | precision@k (k={k}) before | after | recall@2k before | after "
        "| out-of-sample accuracy before | after |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n"
    )
    lines = []
    for r in after:
        if r["ranking"] in earlier:
            b = earlier[r["ranking"]]
            lines.append(
                f"| {r['ranking']} | {b['precision_at_k']:.3f} | {r['precision_at_k']:.3f} "
                f"| {b['recall_at_2k']:.3f} | {r['recall_at_2k']:.3f} "
                f"| {b['accuracy']:.4f} | {r['accuracy']:.4f} |"
            )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", type=Path, default=PROBE, help="CSV with a .flips.json")
    defaults = ReviewSettings()
    parser.add_argument("--folds", type=int, default=defaults.folds)
    parser.add_argument("--seeds", type=int, nargs="+", default=[defaults.seed, 7, 123])
    parser.add_argument("--models", default=defaults.models)
    parser.add_argument(
        "--neural-presets",
        nargs="+",
        choices=list(NEURAL_PRESETS),
        default=list(NEURAL_PRESETS),
        help="one review each; the first is named review, the others variant",
    )
    parser.add_argument("--quality-method", default=defaults.quality_method)
    parser.add_argument("--epochs", type=at_least_one, default=defaults.epochs)
    parser.add_argument("--output", default="label_review", help="file name under results/")
    parser.add_argument(
        "--before", type=Path, help="results JSON of an earlier run: adds a before/after table"
    )
    parser.add_argument(
        "--flip-stories",
        type=int,
        default=0,
        metavar="N",
        help="undo the probe's flips and flip every row of N stories instead",
    )
    args = parser.parse_args()
    before = json.loads(args.before.read_text(encoding="utf-8")) if args.before else None

    flips = json.loads(args.probe.with_suffix(".flips.json").read_text(encoding="utf-8"))
    raw = read_table(args.probe)
    if args.flip_stories:
        frame = story_flipped(raw.frame, flips["flips"], args.flip_stories)
        is_flip = (frame["CATEGORY"] != frame[FLIPPED_FROM]).to_numpy()
        raw = dataclasses.replace(raw, frame=frame.drop(columns=FLIPPED_FROM))
    else:
        is_flip = raw.frame["ID"].isin({flip["ID"] for flip in flips["flips"]}).to_numpy()
    dataset = load_dataset(raw)
    assert len(dataset.frame) == len(raw.frame), "every probe row needs a label"
    labels = class_indices(dataset)
    k = int(is_flip.sum())
    groups = fold_groups(dataset.frame) if FOLD_SCHEMES else None
    folds_used = describe_groups(groups) if groups is not None else None
    print(fold_line(folds_used), flush=True)

    rows = []
    for seed in args.seeds:
        quality, probabilities, seconds = anchor(
            dataset.frame["text"].tolist(), labels, groups, args.folds, seed
        )
        name = f"anchor ({args.folds}-fold TF-IDF + LR, self-confidence)"
        measured = [row(name, quality, is_flip, labels, probabilities, seconds)]
        for number, preset in enumerate(args.neural_presets):
            settings = ReviewSettings(
                folds=args.folds,
                seed=seed,
                models=args.models,
                neural_preset=preset,
                quality_method=args.quality_method,
                epochs=args.epochs,
            ).validate()
            names = {one["ranking"] for one in measured}  # the TF-IDF part once a seed
            measured += [
                one
                for one in review_rows(
                    dataset, settings, labels, is_flip, "variant" if number else "review"
                )
                if one["ranking"] not in names
            ]
        for one in measured:
            rows.append({"seed": seed, **one})
            print(json.dumps(rows[-1]), flush=True)

    markdown = f"{fold_line(folds_used)}\n\n"
    if before is not None:
        compared = before_after(before, mean_rows(rows), k)
        markdown += (
            f"Before ({fold_line(before.get('fold_groups'))} `{before['command']}`) and "
            f"after (this run), means over the seeds:\n\n{compared}\n"
        )
    markdown += f"Mean over seeds {', '.join(map(str, args.seeds))}:\n\n" + table(
        mean_rows(rows), k
    )
    for seed in args.seeds:
        markdown += f"\nSeed {seed}:\n\n" + table([r for r in rows if r["seed"] == seed], k)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    command = " ".join(["python benchmarks/label_review.py", *sys.argv[1:]])
    probe = {"file": args.probe.name, "rows": len(raw.frame), "flipped": k}
    if args.flip_stories:
        probe["flipped_stories"] = args.flip_stories
    print(markdown)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "command": command,
                "probe": probe,
                "fold_groups": folds_used,
                "before": None
                if before is None
                else {key: before.get(key) for key in ("command", "fold_groups", "mean")},
                "mean": mean_rows(rows),
                "rows": rows,
            },
            indent=2,
        )
    )
    flipped = f"{k} flipped" + (
        f" (every row of {args.flip_stories} stories)" if args.flip_stories else ""
    )
    (RESULTS / f"{args.output}.md").write_text(
        f"`{command}` on {machine}; probe {probe['file']}: {probe['rows']:,} rows, "
        f"{flipped}\n\n{markdown}"
    )


if __name__ == "__main__":
    main()
