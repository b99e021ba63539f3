"""Seed vs fast preset, side by side in one process, on the same sample.

Measures for each preset: seconds per training epoch, test accuracy after the
same number of epochs, and the playground's cost of one prediction through
``model.predict`` versus the ``Predictor``'s traced function. Prints a table and
writes ``benchmarks/results/training.json``. Ratios (seed / fast) are the
numbers to compare across machines; absolute seconds depend on the machine.

    python benchmarks/bench_training.py [--cap 4000] [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import get_preset  # noqa: E402
from pipeline.data import load_default_dataset  # noqa: E402
from pipeline.predict import Predictor  # noqa: E402
from pipeline.registry import RunRegistry  # noqa: E402
from pipeline.train import train_run  # noqa: E402

HEADLINE = "Regular fast food eating linked to fertility issues in women"


def _predict_latency(predictor: Predictor, repeats: int = 30) -> tuple[float, float]:
    """Median ms of one headline through model.predict and through the Predictor."""
    import numpy as np
    import tensorflow as tf

    model = predictor.model
    batch = tf.constant([[HEADLINE]])
    model.predict(batch, verbose=0)
    predictor.predict_one(HEADLINE)
    slow, fast = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict(batch, verbose=0)
        slow.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        predictor.predict_one(HEADLINE)
        fast.append((time.perf_counter() - started) * 1000)
    return float(np.median(slow)), float(np.median(fast))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=4000, help="rows per class in the sample")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    dataset = load_default_dataset()
    rows = []
    with tempfile.TemporaryDirectory() as runs_dir:
        registry = RunRegistry(runs_dir)
        for preset in ("seed", "fast"):
            config = get_preset(
                preset, balance="cap", cap_per_class=args.cap, epochs=args.epochs, patience=99
            )
            started = time.perf_counter()
            result = train_run(dataset, config, runs_dir=runs_dir, force=True)
            wall = time.perf_counter() - started
            saved = registry.get(result.run_id)
            predictor = Predictor.from_run(registry, result.run_id)
            predict_ms, traced_ms = _predict_latency(predictor)
            epoch_seconds = [row["seconds"] for row in saved.history]
            rows.append(
                {
                    "preset": preset,
                    "sequence_length": saved.config["resolved"]["sequence_length"],
                    "batch_size": config.train.batch_size,
                    "train_rows": saved.data["split_sizes"]["train"],
                    "seconds_per_epoch": sum(epoch_seconds) / len(epoch_seconds),
                    "wall_s": wall,
                    "test_accuracy": saved.metrics["test_accuracy"],
                    "baseline_accuracy": saved.metrics["baseline"]["test_accuracy"],
                    "model_predict_ms": predict_ms,
                    "predictor_ms": traced_ms,
                }
            )
    seed, fast = rows
    ratios = {
        "epoch_time_seed_over_fast": seed["seconds_per_epoch"] / fast["seconds_per_epoch"],
        "predict_over_predictor": fast["model_predict_ms"] / fast["predictor_ms"],
    }
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{'preset':<6}{'len':>5}{'batch':>7}{'s/epoch':>10}{'test acc':>10}"
        f"{'tfidf acc':>11}{'predict ms':>12}{'traced ms':>11}"
    )
    for row in rows:
        print(
            f"{row['preset']:<6}{row['sequence_length']:>5}{row['batch_size']:>7}"
            f"{row['seconds_per_epoch']:>10.1f}{row['test_accuracy']:>10.4f}"
            f"{row['baseline_accuracy']:>11.4f}{row['model_predict_ms']:>12.1f}"
            f"{row['predictor_ms']:>11.1f}"
        )
    print(
        f"epoch time seed/fast: {ratios['epoch_time_seed_over_fast']:.1f}x; "
        f"model.predict/Predictor: {ratios['predict_over_predictor']:.1f}x; "
        f"peak RSS {peak_mb:.0f} MB"
    )
    out = ROOT / "benchmarks" / "results" / "training.json"
    out.write_text(
        json.dumps(
            {"args": vars(args), "rows": rows, "ratios": ratios, "peak_rss_mb": peak_mb}, indent=2
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
