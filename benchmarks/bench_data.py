"""Data steps on the full bundled dataset: load, inspect, fingerprint, prepare.

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.core.config import DataConfig  # noqa: E402
from pipeline.data import fingerprint, inspect_dataset, load_default_dataset  # noqa: E402
from pipeline.data.prepare import prepare  # noqa: E402


def _time(step: Callable[[], object], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    dataset = load_default_dataset()
    steps: dict[str, Callable[[], object]] = {
        "load_default_dataset": load_default_dataset,
        "inspect_dataset": lambda: inspect_dataset(dataset),
        "fingerprint": lambda: fingerprint(dataset),
        "prepare (seed settings)": lambda: prepare(dataset, DataConfig()),
        "prepare (story split)": lambda: prepare(dataset, DataConfig(split="story")),
    }
    rows = []
    print(f"{len(dataset.frame):,} rows")
    print(f"{'step':<26}{'min s':>8}{'median s':>10}")
    for name, step in steps.items():
        seconds = _time(step, args.repeat)
        rows.append({"step": name, "min_s": min(seconds), "median_s": statistics.median(seconds)})
        print(f"{name:<26}{min(seconds):>8.2f}{statistics.median(seconds):>10.2f}")
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
