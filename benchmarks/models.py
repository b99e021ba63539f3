"""Every model family and the seed, on the datasets the default must win on, in one run.

For each (dataset, model) pair a fresh subprocess trains one run through
``pipeline.train.train_run`` (forced, in a temporary runs folder) and reports test
accuracy and macro F1, the TF-IDF baseline's on the same split, seconds per
epoch, training samples per second, epochs run, whole-job wall time (load ->
saved, evaluated run with the baseline) and the subprocess's peak RSS. Prints a
markdown table and writes ``benchmarks/results/models.json`` and
``benchmarks/results/models.md``.

    python benchmarks/models.py                       # everything (about an hour here)
    python benchmarks/models.py --datasets cap500 cap2000 --models fast cnn
    python benchmarks/models.py --speed               # seed vs fast, same rows, same epochs

Datasets (all cut from the bundled UCI file):

``random``     every deduplicated row, the default settings (seed's balanced test set)
``story``      the same, split grouped by story
``cap500``     at most 500 rows per class, random split
``cap2000``    at most 2,000 rows per class, random split
``publishers`` the 25 most frequent publishers as labels (many, imbalanced classes)
``cap15000``   at most 15,000 rows per class (the ``--speed`` comparison)

Models: ``fast`` (the default preset), ``accurate`` (the n-gram ensemble),
``seed`` (the notebook), and every family by name with the default preset's other
settings (``ngram_ensemble`` is ``accurate``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATASETS = ("random", "story", "cap500", "cap2000", "publishers", "cap15000")
FAMILIES = ("ngram_bag", "ngram_ensemble", "wide_deep", "cnn", "bigru", "lstm")
MODELS = ("fast", "accurate", "seed", *FAMILIES)


def _dataset(name: str, workdir: Path) -> tuple[Any, dict[str, Any]]:
    """The dataset and the data-setting overrides of benchmark dataset ``name``."""
    from pipeline.data import load_dataset, load_default_dataset

    if name == "publishers":
        import pandas as pd

        frame = pd.read_csv(
            ROOT / "data" / "uci-news-aggregator.csv.gz", usecols=["TITLE", "PUBLISHER"]
        )
        top = frame["PUBLISHER"].value_counts().index[:25]
        path = workdir / "publishers.csv"
        frame[frame["PUBLISHER"].isin(top)].rename(
            columns={"TITLE": "text", "PUBLISHER": "label"}
        ).to_csv(path, index=False)
        return load_dataset(path, text_col="text", label_col="label"), {}
    overrides: dict[str, Any] = {
        "random": {},
        "story": {"split": "story"},
        "cap500": {"balance": "cap", "cap_per_class": 500},
        "cap2000": {"balance": "cap", "cap_per_class": 2000},
        "cap15000": {"balance": "cap", "cap_per_class": 15000},
    }[name]
    return load_default_dataset(), overrides


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """Train one (dataset, model) pair in this process; the measured row."""
    from pipeline.config import get_preset
    from pipeline.registry import RunRegistry
    from pipeline.train import train_run

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        dataset, overrides = _dataset(spec["dataset"], Path(workdir))
        model = spec["model"]
        preset = model if model in {"seed", "accurate"} else "fast"
        if model in FAMILIES:
            overrides["family"] = model
        if spec.get("epochs"):
            overrides["epochs"] = spec["epochs"]
        if spec.get("patience") is not None:
            overrides["patience"] = spec["patience"]
        config = get_preset(preset, **overrides)
        runs = Path(workdir) / "runs"
        result = train_run(dataset, config, runs_dir=runs, force=True)
        saved = RunRegistry(runs).get(result.run_id)
        wall = time.perf_counter() - started
    history = saved.history
    seconds = [row["seconds"] for row in history if "seconds" in row]
    baseline = saved.metrics.get("baseline", {})
    return {
        "dataset": spec["dataset"],
        "model": model,
        "family": config.model.family,
        "test_accuracy": round(saved.metrics["test_accuracy"], 4),
        "macro_f1": round(saved.metrics["macro_f1"], 4),
        "baseline_accuracy": round(baseline.get("test_accuracy", float("nan")), 4),
        "baseline_macro_f1": round(baseline.get("macro_f1", float("nan")), 4),
        "beats_baseline": saved.metrics["test_accuracy"] > baseline.get("test_accuracy", 1)
        and saved.metrics["macro_f1"] > baseline.get("macro_f1", 1),
        "epochs": len(history),
        "best_epoch": saved.run.get("best_epoch"),
        "seconds_per_epoch": round(sum(seconds) / len(seconds), 2) if seconds else None,
        "samples_per_second": saved.run.get("samples_per_second"),
        "train_rows": saved.data["split_sizes"]["train"],
        "job_seconds": round(wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "collapsed": saved.metrics.get("collapsed"),
    }


def _spawn(spec: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, __file__, "--one", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if done.returncode != 0:
        return {**spec, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| dataset | model | accuracy | macro F1 | baseline acc | baseline F1 | beats | "
        "epochs (best) | s/epoch | samples/s | job s | peak RSS MB |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    lines = []
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['model']} | error: {r['error']} |")
            continue
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['test_accuracy']:.4f} | {r['macro_f1']:.4f} "
            f"| {r['baseline_accuracy']:.4f} | {r['baseline_macro_f1']:.4f} "
            f"| {'yes' if r['beats_baseline'] else 'no'} | {r['epochs']} ({r['best_epoch']}) "
            f"| {r['seconds_per_epoch']} | {r['samples_per_second']:,.0f} | {r['job_seconds']} "
            f"| {r['peak_rss_mb']:,} |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--epochs", type=int, help="fixed epoch limit for every model")
    parser.add_argument(
        "--speed",
        action="store_true",
        help="seed vs fast on 15,000 rows per class, the same number of epochs (the seed's 10)",
    )
    parser.add_argument("--output", default="models", help="file name under results/")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(run_one(json.loads(args.one))))
        return
    if args.speed:
        args.datasets, args.models, args.epochs = ["cap15000"], ["seed", "fast"], 10
    rows = []
    for dataset in args.datasets:
        for model in args.models:
            spec = {"dataset": dataset, "model": model, "epochs": args.epochs}
            if args.speed:  # every epoch runs: the same number of epochs for both
                spec["patience"] = args.epochs
            row = _spawn(spec)
            rows.append(row)
            print(json.dumps(row), flush=True)
    table = _table(rows)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    command = "python benchmarks/models.py " + " ".join(sys.argv[1:])
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(
        json.dumps({"machine": machine, "command": command, "rows": rows}, indent=2)
    )
    (RESULTS / f"{args.output}.md").write_text(f"`{command}` on {machine}\n\n{table}")


if __name__ == "__main__":
    main()
