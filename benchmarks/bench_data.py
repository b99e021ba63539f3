"""Data steps on the full bundled dataset: load, inspect, fingerprint, prepare; and the
paired intervals of two models on 100,000 test rows (the Results page's comparison).

Each step runs ``--repeat`` times; the table gives the fastest and the median
run, and the JSON goes to ``benchmarks/results/data.json``. The Data page's cold
cost is roughly load + inspect; cached, Streamlit serves both from st.cache_data.

    python benchmarks/bench_data.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flags import at_least_one  # noqa: E402

from pipeline.core.config import DataConfig  # noqa: E402
from pipeline.data import fingerprint, inspect_dataset, load_default_dataset  # noqa: E402
from pipeline.data.prepare import prepare  # noqa: E402
from pipeline.evaluation.paired import paired_bootstrap  # noqa: E402

#: Test rows of the paired-interval step: more than the bundled data's test sets hold.
PAIRED_ROWS = 100_000


def _time(step: Callable[[], object], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return seconds


def _paired_inputs(rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True labels of ``rows`` rows (4 classes) and two models' predictions, right 85 %
    and 86 % of the time."""
    rng = np.random.default_rng(2)
    true = rng.integers(0, 4, rows)
    a = np.where(rng.random(rows) < 0.85, true, rng.integers(0, 4, rows))
    b = np.where(rng.random(rows) < 0.86, true, rng.integers(0, 4, rows))
    return true, a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=at_least_one, default=3)
    args = parser.parse_args()

    dataset = load_default_dataset()
    paired = _paired_inputs(PAIRED_ROWS)
    steps: dict[str, Callable[[], object]] = {
        "load_default_dataset": load_default_dataset,
        "inspect_dataset": lambda: inspect_dataset(dataset),
        "fingerprint": lambda: fingerprint(dataset),
        "prepare (seed settings)": lambda: prepare(dataset, DataConfig()),
        "prepare (story split)": lambda: prepare(dataset, DataConfig(split="story")),
        f"paired intervals ({PAIRED_ROWS:,} rows)": lambda: paired_bootstrap(*paired),
    }
    rows = []
    print(f"{len(dataset.frame):,} rows")
    print(f"{'step':<34}{'min s':>8}{'median s':>10}")
    for name, step in steps.items():
        seconds = _time(step, args.repeat)
        rows.append({"step": name, "min_s": min(seconds), "median_s": statistics.median(seconds)})
        print(f"{name:<34}{min(seconds):>8.2f}{statistics.median(seconds):>10.2f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")
    out = ROOT / "benchmarks" / "results" / "data.json"
    out.write_text(
        json.dumps({"rows": len(dataset.frame), "steps": rows, "peak_rss_mb": peak_mb}, indent=2)
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
