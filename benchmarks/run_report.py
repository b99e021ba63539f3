"""The run report's size and time on the bundled data's default run (issue 34: under 5 MB).

Trains the default preset on the bundled data with the CLI (or uses ``--run`` from
``--runs-dir``), then makes its report twice, side by side:

- ``python -m pipeline report`` in a fresh process (what the command line costs, the
  bundled data read from its snapshot for the slices);
- :func:`pipeline.report.html.report_html` in this process with the dataset already
  loaded (what the Results page's "Download report" click costs: the page has the
  dataset in its cache).

Prints a markdown table; writes ``benchmarks/results/run_report.json`` and ``.md``.

    python benchmarks/run_report.py
    python benchmarks/run_report.py --runs-dir /tmp/report-runs --run RUN_ID   # reuse a run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import write_rows  # noqa: E402

#: The issue's limit on the default run's report.
MAX_BYTES = 5_000_000


def _train(runs: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "train", "--runs-dir", str(runs), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    return json.loads(done.stdout)["run_id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-dir", type=Path, help="keep the runs here (default: temporary)")
    parser.add_argument("--run", help="an existing default run in --runs-dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        runs = args.runs_dir or Path(scratch) / "runs"
        run_id = args.run or _train(runs)
        output = Path(scratch) / "report.html"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipeline", "report", "--run", run_id, "--runs-dir",
             str(runs), "--output", str(output)],
            cwd=ROOT, check=True, capture_output=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )  # fmt: skip
        cli_seconds = time.perf_counter() - started
        html = output.read_text(encoding="utf-8")

        from pipeline.data import load_default_dataset
        from pipeline.report.html import report_html
        from pipeline.runs.registry import RunRegistry

        saved = RunRegistry(runs).get(run_id)
        dataset = load_default_dataset()
        started = time.perf_counter()
        in_process = report_html(saved, dataset)
        app_seconds = time.perf_counter() - started
    size = len(html.encode("utf-8"))
    rows = [
        {
            "run": f"default ({saved.config.preset}, {saved.config.family}), bundled data",
            "test rows": f"{saved.metrics.n_test:,}",
            "report size (MB)": f"{size / 1e6:.2f}",
            "limit (MB)": f"{MAX_BYTES / 1e6:.0f}",
            "charts (svg)": len(re.findall(r"<figure[^>]*>\s*<svg", html)),
            "scripts": html.count("<script"),
            "CLI, fresh process (s)": f"{cli_seconds:.1f}",
            "in process, data loaded (s)": f"{app_seconds:.1f}",
            "same size in process": len(in_process.encode("utf-8")) == size,
        }
    ]
    write_rows(rows, "run_report")


if __name__ == "__main__":
    main()
