"""Every model family and the seed, on the datasets the default must win on, in one run.

For each (dataset, model) pair a fresh subprocess trains one run through
``pipeline.training.train.train_run`` (forced, in a temporary runs folder, so the TF-IDF
baseline is fitted too) and reports test accuracy, balanced accuracy and macro F1
beside the baseline's on the same rows, the test set's definition and size,
seconds per epoch, training samples per second, epochs run, whole-job wall time
(load -> saved, evaluated run) and peak RSS (the training process, and the
baseline's process beside it). Prints a markdown table and writes
``benchmarks/results/<output>.json`` and ``.md`` with the command and the machine.

    python benchmarks/models.py                       # every dataset and model (hours)
    python benchmarks/models.py --datasets random random_balanced --models fast accurate
    python benchmarks/models.py --speed               # seed vs fast, same rows, same epochs
    python benchmarks/models.py --tasks               # users' files: every task, 3 split seeds

``--tasks`` trains the default on every task of ``benchmarks/user_tasks.py`` (files
like the ones users bring, cut from the bundled data, and the bundled data's random
and story splits) on each of its split seeds, and prints per task and measure the
mean and the smallest difference to the baseline over the seeds, with each seed's
paired 95 % interval (``metrics.json``'s ``vs_baseline``).

Datasets (all cut from the bundled UCI file; ``_balanced`` means ``--test-set
balanced``, the seed notebook's test rows, for comparisons with it):

``random``, ``random_balanced``   every deduplicated row, the default settings
``story``, ``story_balanced``     the same, split grouped by story
``cap500``, ``cap2000``           at most 500 / 2,000 rows per class, random split
``publishers``                    the 25 most frequent publishers as labels
``cap15000``                      at most 15,000 rows per class (the ``--speed`` run)

Models: ``fast`` (the default preset), ``accurate``, ``seed`` (the notebook), and
every family by name with the default preset's other settings.
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

from flags import at_least_one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATASETS = (
    "random",
    "random_balanced",
    "story",
    "story_balanced",
    "cap500",
    "cap2000",
    "publishers",
    "cap15000",
)
FAMILIES = ("ngram_bag", "ngram_ensemble", "wide_deep", "cnn", "bigru", "lstm")
MODELS = ("fast", "accurate", "seed", *FAMILIES)
#: The data settings of each benchmark dataset cut from the bundled file.
_OVERRIDES: dict[str, dict[str, Any]] = {
    "random": {},
    "random_balanced": {"test_set": "balanced"},
    "story": {"split": "story"},
    "story_balanced": {"split": "story", "test_set": "balanced"},
    "cap500": {"balance": "cap", "cap_per_class": 500},
    "cap2000": {"balance": "cap", "cap_per_class": 2000},
    "cap15000": {"balance": "cap", "cap_per_class": 15000},
    "publishers": {},
}


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
    return load_default_dataset(), dict(_OVERRIDES[name])


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """Train one (dataset, model) pair in this process; the measured row."""
    from pipeline.core.presets import get_preset
    from pipeline.runs.registry import RunRegistry
    from pipeline.training.train import train_run

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        if spec.get("task"):
            from user_tasks import load_task

            dataset, overrides = load_task(spec["task"], Path(workdir))
            overrides["data_seed"] = spec["seed"]
        else:
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
        if spec.get("baseline_first"):
            _fit_baseline_first(dataset, config, runs)
            started = time.perf_counter()
        result = train_run(dataset, config, runs_dir=runs, force=True)
        saved = RunRegistry(runs).get(result.run_id)
        wall = time.perf_counter() - started
    metrics, baseline = saved.metrics, saved.metrics.baseline
    history = saved.history
    seconds = [row.seconds for row in history if row.seconds is not None]
    nan = float("nan")

    def rounded(value: float | None) -> float:
        return round(value, 4) if value is not None else nan

    return {
        "dataset": spec["dataset"],
        "seed": config.data.seed,
        "vs_baseline": metrics.vs_baseline.to_json() if metrics.vs_baseline else None,
        "blend_weight": metrics.blend.network_weight if metrics.blend else None,
        "prior_shift_tau": metrics.prior_shift.tau if metrics.prior_shift else None,
        "model": model,
        "family": config.model.family,
        "test_set": config.data.test_set,
        "test_rows": metrics.n_test,
        "test_accuracy": rounded(metrics.test_accuracy),
        "balanced_accuracy": rounded(metrics.balanced_accuracy),
        "macro_f1": rounded(metrics.macro_f1),
        "baseline_accuracy": rounded(baseline.test_accuracy if baseline else None),
        "baseline_balanced_accuracy": rounded(baseline.balanced_accuracy if baseline else None),
        "baseline_macro_f1": rounded(baseline.macro_f1 if baseline else None),
        "beats_baseline": baseline is not None
        and metrics.test_accuracy > baseline.test_accuracy
        and metrics.macro_f1 > (baseline.macro_f1 or 1.0),
        "epochs": len(history),
        "best_epoch": saved.run.best_epoch,
        "seconds_per_epoch": round(sum(seconds) / len(seconds), 2) if seconds else None,
        "samples_per_second": saved.run.samples_per_second,
        "train_rows": saved.data.summary.split_sizes.train,
        "job_seconds": round(wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "baseline_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "collapsed": metrics.collapsed,
    }


def _fit_baseline_first(dataset: Any, config: Any, runs: Path) -> None:
    """Fit and cache the baseline of ``config``'s data before the training starts, so
    that the training finds its score and no second process shares the CPU with it
    (the speed run times the training alone)."""
    import dataclasses
    import threading

    from pipeline.data import fingerprint
    from pipeline.data.prepare import prepare
    from pipeline.training.baseline import baseline_key, start_baseline, wait_for_baseline

    key = baseline_key(fingerprint(dataset), dataclasses.asdict(config.data))
    fit = start_baseline(prepare(dataset, config.data), runs / ".baselines", key)
    wait_for_baseline(fit, threading.Event())


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
        "| dataset | model | test set (rows) | accuracy | balanced acc | macro F1 | "
        "baseline acc | baseline bal. acc | baseline F1 | beats | epochs (best) | s/epoch | "
        "samples/s | job s | peak RSS MB (baseline) |\n"
        "|" + " --- |" * 15 + "\n"
    )
    lines = []
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['model']} | error: {r['error']} |")
            continue
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['test_set']} ({r['test_rows']:,}) "
            f"| {r['test_accuracy']:.4f} | {r['balanced_accuracy']:.4f} | {r['macro_f1']:.4f} "
            f"| {r['baseline_accuracy']:.4f} | {r['baseline_balanced_accuracy']:.4f} "
            f"| {r['baseline_macro_f1']:.4f} | {'yes' if r['beats_baseline'] else 'no'} "
            f"| {r['epochs']} ({r['best_epoch']}) | {r['seconds_per_epoch']} "
            f"| {r['samples_per_second'] or 0:,.0f} | {r['job_seconds']} "
            f"| {r['peak_rss_mb']:,} ({r['baseline_rss_mb']:,}) |"
        )
    return head + "\n".join(lines) + "\n"


def _speedups(rows: list[dict[str, Any]]) -> str:
    """Per dataset with both: how many times faster per epoch ``fast`` is than ``seed``."""
    lines = []
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        by_model = {r["model"]: r for r in rows if r["dataset"] == dataset and "error" not in r}
        if {"seed", "fast"} <= set(by_model):
            seed, fast = by_model["seed"], by_model["fast"]
            ratio = seed["seconds_per_epoch"] / fast["seconds_per_epoch"]
            lines.append(
                f"\n{dataset}: fast is {ratio:.1f}x the seed per epoch "
                f"({fast['seconds_per_epoch']} s vs {seed['seconds_per_epoch']} s, "
                f"{fast['samples_per_second']:,.0f} vs {seed['samples_per_second']:,.0f} samples/s)"
            )
    return "".join(lines) + ("\n" if lines else "")


def _task_table(rows: list[dict[str, Any]]) -> str:
    """Per task and measure: each seed's difference to the baseline (points) with its
    paired 95 % interval, then the mean and the smallest over the seeds."""
    head = (
        "| task | measure | model (mean) | baseline (mean) | difference per seed, points "
        "(95 % interval) | mean difference | min difference | ahead on every seed |\n"
        "|" + " --- |" * 8 + "\n"
    )
    lines = []
    for task in dict.fromkeys(row["dataset"] for row in rows):
        done = [r for r in rows if r["dataset"] == task and "error" not in r and r["vs_baseline"]]
        if not done:
            errors = [r.get("error") for r in rows if r["dataset"] == task]
            lines.append(f"| {task} | error: {errors} |")
            continue
        for measure, model_key, baseline_key in (
            ("accuracy", "test_accuracy", "baseline_accuracy"),
            ("macro_f1", "macro_f1", "baseline_macro_f1"),
        ):
            differences = [100 * r["vs_baseline"][measure]["difference"] for r in done]
            seeds = ", ".join(
                f"{r['seed']}: {100 * r['vs_baseline'][measure]['difference']:+.2f} "
                f"({100 * r['vs_baseline'][measure]['ci95_low']:+.2f} to "
                f"{100 * r['vs_baseline'][measure]['ci95_high']:+.2f})"
                for r in done
            )
            model_mean = sum(r[model_key] for r in done) / len(done)
            baseline_mean = sum(r[baseline_key] for r in done) / len(done)
            lines.append(
                f"| {task} | {measure.replace('_', ' ')} | {model_mean:.4f} "
                f"| {baseline_mean:.4f} | {seeds} | {sum(differences) / len(differences):+.2f} "
                f"| {min(differences):+.2f} | {'yes' if min(differences) > 0 else 'no'} |"
            )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--epochs", type=at_least_one, help="fixed epoch limit for every model")
    parser.add_argument(
        "--speed",
        action="store_true",
        help="seed vs fast on 15,000 rows per class, the same number of epochs (the seed's 10), "
        "each baseline fitted before its training is timed",
    )
    parser.add_argument(
        "--tasks",
        nargs="*",
        help="the default on users' files (benchmarks/user_tasks.py; all when none are "
        "named), on every split seed, with the paired intervals",
    )
    parser.add_argument("--output", default="models", help="file name under results/")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.path.insert(0, str(ROOT))
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from pipeline.core.memory import limit_malloc_arenas

        limit_malloc_arenas()  # as the CLI and the app's training process do
        print(json.dumps(run_one(json.loads(args.one))))
        return
    if args.tasks is not None:
        _run_tasks(args.tasks, args.output)
        return
    if args.speed:
        args.datasets, args.models, args.epochs = ["cap15000"], ["seed", "fast"], 10
    rows = []
    for dataset in args.datasets:
        for model in args.models:
            spec = {"dataset": dataset, "model": model, "epochs": args.epochs}
            if args.speed:  # every epoch runs: the same number of epochs for both,
                spec["patience"] = args.epochs  # with the CPU to the training alone
                spec["baseline_first"] = True
            row = _spawn(spec)
            rows.append(row)
            print(json.dumps(row), flush=True)
    _write(rows, _table(rows) + _speedups(rows), args.output)


def _run_tasks(names: list[str], output: str) -> None:
    """``--tasks``: every (task, split seed) in a process of its own, then the table."""
    from user_tasks import SPLIT_SEEDS, TASKS

    rows = []
    for task in names or list(TASKS):
        for seed in SPLIT_SEEDS:
            row = _spawn({"dataset": task, "task": task, "seed": seed, "model": "fast"})
            rows.append(row)
            print(json.dumps(row), flush=True)
    _write(rows, _task_table(rows), output)


def _write(rows: list[dict[str, Any]], table: str, output: str) -> None:
    """Print ``table``; write ``results/<output>.json`` (the rows) and ``.md``."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    command = "python benchmarks/models.py " + " ".join(sys.argv[1:])
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{output}.json").write_text(
        json.dumps({"machine": machine, "command": command, "rows": rows}, indent=2)
    )
    (RESULTS / f"{output}.md").write_text(f"`{command}` on {machine}\n\n{table}")


if __name__ == "__main__":
    main()
