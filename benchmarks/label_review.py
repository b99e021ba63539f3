"""How many planted label flips a label review finds, side by side with the anchor.

The probe is ``tests/fixtures/uci_flipped.csv``: 8,000 UCI headlines, 240 of them
with their label flipped on purpose to a random other class (the flipped IDs are in
``uci_flipped.flips.json``; ``tests/fixtures/make_flipped.py`` cuts both). Each
ranking orders the rows from most to least suspect; with k = the number of flips:

``precision@k``
    share of flips among the k most suspect rows;
``recall@2k``
    share of the flips found among the 2k most suspect rows.

Rows of the table, all in one run on the same folds:

``anchor``
    5-fold TF-IDF + logistic regression (``pipeline.baseline.baseline_pipeline``,
    ``cross_val_predict``), ranked by the probability of the given label;
``review``
    ``pipeline.review.review_labels`` with the default settings (or those given);
``variant``
    the same with the other neural preset(s) (``--neural-presets``);
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
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter

from pipeline.data import load_dataset, read_table  # noqa: E402
from pipeline.review import (  # noqa: E402
    NEURAL_PRESETS,
    QUALITY_METHODS,
    ReviewSettings,
    class_indices,
    review_labels,
    score_labels,
)

RESULTS = ROOT / "benchmarks" / "results"
PROBE = ROOT / "tests" / "fixtures" / "uci_flipped.csv"


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
    texts: list[str], labels: np.ndarray, folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """The anchor's self-confidence per row, its probabilities and its seconds."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from pipeline.baseline import baseline_pipeline

    started = time.perf_counter()
    probabilities = cross_val_predict(
        baseline_pipeline(),
        texts,
        labels,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        method="predict_proba",
    )
    seconds = time.perf_counter() - started
    return probabilities[np.arange(len(labels)), labels], probabilities, seconds


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
    if len(review.part_probabilities) > 1:
        for part, part_probabilities in review.part_probabilities.items():
            quality, issues = score_labels(labels, part_probabilities, settings.quality_method)
            seconds = summary["part_seconds"][part]
            name = f"part: {part}" + (f" ({settings.neural_preset})" if part == "neural" else "")
            rows.append(row(name, quality, is_flip, labels, part_probabilities, seconds, issues))
    for method in QUALITY_METHODS:
        if method != settings.quality_method:
            quality, _ = score_labels(labels, probabilities, method)
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
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--output", default="label_review", help="file name under results/")
    args = parser.parse_args()

    flips = json.loads(args.probe.with_suffix(".flips.json").read_text(encoding="utf-8"))
    raw = read_table(args.probe)
    dataset = load_dataset(raw)
    assert len(dataset.frame) == len(raw.frame), "every probe row needs a label"
    is_flip = raw.frame["ID"].isin({flip["ID"] for flip in flips["flips"]}).to_numpy()
    labels = class_indices(dataset)
    k = int(is_flip.sum())

    rows = []
    for seed in args.seeds:
        quality, probabilities, seconds = anchor(
            dataset.frame["text"].tolist(), labels, args.folds, seed
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

    markdown = f"Mean over seeds {', '.join(map(str, args.seeds))}:\n\n" + table(mean_rows(rows), k)
    for seed in args.seeds:
        markdown += f"\nSeed {seed}:\n\n" + table([r for r in rows if r["seed"] == seed], k)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    command = " ".join(["python benchmarks/label_review.py", *sys.argv[1:]])
    probe = {"file": args.probe.name, "rows": len(raw.frame), "flipped": k}
    print(markdown)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "command": command,
                "probe": probe,
                "mean": mean_rows(rows),
                "rows": rows,
            },
            indent=2,
        )
    )
    (RESULTS / f"{args.output}.md").write_text(
        f"`{command}` on {machine}; probe {probe['file']}: {probe['rows']:,} rows, "
        f"{k} flipped\n\n{markdown}"
    )


if __name__ == "__main__":
    main()
