"""Batch scoring of a big archive: the single process against a local Ray, rows/s and memory.

The archive is built once from the bundled data (``data/uci-news-aggregator.csv.gz``,
422,937 headlines, repeated and shuffled with a fixed seed to ``--rows`` rows, ids made
unique) and cached as ``<cache>/archive_<rows>.csv.gz``. The run is
``python -m pipeline train``'s default on the bundled data, trained once into the runs
folder (``--runs-dir``, default the CLI's) and reused from its cache afterwards.

Each engine scores the archive through the real CLI,
``python -m pipeline predict --file ARCHIVE --output OUT.parquet --engine E --json``, in
a fresh process, so each row of the table pays everything a user pays: Python and
TensorFlow start-up, the model load, and on Ray the local cluster's start and one actor
per core. Columns:

``seconds``
    wall time of the whole command; ``rows/s`` is rows over it;
``job seconds``
    the scoring job alone, as the command's summary reports it (reading, scoring and
    writing, after start-up);
``peak RSS MiB``
    the largest sum, over one sampling (every 0.2 s), of the resident memory of the
    command and all its descendants (on Ray: the raylet, the GCS, the workers and the
    actors); shared pages (TensorFlow's libraries, Ray's object store) count once per
    process that maps them, so ``peak PSS MiB`` (shared pages split among their users)
    is printed beside it.

Prints a Markdown table and writes ``benchmarks/results/<output>.json`` and ``.md``::

    python benchmarks/batch_scoring.py                 # 2,000,000 rows, both engines
    python benchmarks/batch_scoring.py --rows 50000    # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from flags import at_least_one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BUNDLED = ROOT / "data" / "uci-news-aggregator.csv.gz"
DEFAULT_CACHE = Path("/tmp/headline-lab-bench")
ENGINES = ("local", "ray")
SAMPLE_SECONDS = 0.2


def build_archive(rows: int, cache: Path, seed: int = 0) -> Path:
    """``<cache>/archive_<rows>.csv.gz``: the bundled rows repeated and shuffled to ``rows``
    rows, ids 1..rows; built once, then reused."""
    import numpy as np
    import pandas as pd

    target = cache / f"archive_{rows}.csv.gz"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    bundled = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    order = np.random.default_rng(seed).permutation(np.resize(np.arange(len(bundled)), rows))
    archive = bundled.iloc[order].reset_index(drop=True)
    archive["ID"] = np.arange(1, rows + 1).astype(str)
    partial = target.with_suffix(".partial")
    archive.to_csv(partial, index=False, compression={"method": "gzip", "compresslevel": 1})
    partial.replace(target)
    return target


def default_run(runs_dir: Path | None) -> str:
    """The id of ``python -m pipeline train``'s default run (trained now, or from the cache)."""
    extra = ["--runs-dir", str(runs_dir)] if runs_dir else []
    done = _cli("train", "--json", *extra)
    return json.loads(done.stdout)["run_id"]


def measure(engine: str, run_id: str, archive: Path, rows: int, runs_dir: Path | None) -> dict:
    """One row of the table: ``predict --engine engine`` on ``archive``, timed and sampled."""
    output = archive.with_name(f"scored_{engine}.parquet")
    command = [
        sys.executable,
        "-m",
        "pipeline",
        "predict",
        "--run",
        run_id,
        "--file",
        str(archive),
        "--output",
        str(output),
        "--engine",
        engine,
        "--json",
        *(["--runs-dir", str(runs_dir)] if runs_dir else []),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = _TreeMemory(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    sampler.stop()
    if process.returncode != 0:
        raise SystemExit(f"predict --engine {engine} failed:\n{stderr[-3000:]}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    output.unlink(missing_ok=True)
    assert summary["rows"] == rows, summary
    return {
        "engine": engine,
        "workers": summary["workers"],
        "rows": f"{rows:,}",
        "seconds": round(seconds, 1),
        "rows/s": f"{rows / seconds:,.0f}",
        "job seconds": round(summary["seconds"], 1),
        "job rows/s": f"{summary['rows_per_second']:,.0f}",
        "peak RSS MiB": round(sampler.peak_rss / 2**20),
        "peak PSS MiB": round(sampler.peak_pss / 2**20),
    }


class _TreeMemory:
    """Samples the resident memory of a process and all its descendants, in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = 0
        self.peak_pss = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.is_set():
            rss = pss = 0
            for pid in _tree(self.pid):
                rss += _field(f"/proc/{pid}/status", "VmRSS:")
                pss += _field(f"/proc/{pid}/smaps_rollup", "Pss:")
            self.peak_rss = max(self.peak_rss, rss * 1024)
            self.peak_pss = max(self.peak_pss, pss * 1024)
            self._done.wait(SAMPLE_SECONDS)


def _tree(root: int) -> set[int]:
    """``root`` and every live descendant, from ``/proc``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = _field(str(entry / "status"), "PPid:")
            parents[int(entry.name)] = ppid
    found = {root}
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return found


def _field(path: str, key: str) -> int:
    """The first number on ``path``'s line starting with ``key`` (0 when it is gone)."""
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"`python -m pipeline {' '.join(args)}` failed:\n{done.stderr[-3000:]}")
    return done


def table(rows: list[dict[str, Any]]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(row[key]) for key in header) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=at_least_one, default=2_000_000, help="rows of the archive")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated")
    parser.add_argument("--runs-dir", type=Path, default=None, help="default: the CLI's")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="archive folder")
    parser.add_argument("--output", default="batch_scoring", help="results file name")
    args = parser.parse_args()
    engines = [e for e in args.engines.split(",") if e]

    print(f"building or reusing the {args.rows:,}-row archive in {args.cache} ...", flush=True)
    archive = build_archive(args.rows, args.cache)
    print("training or reusing the default run ...", flush=True)
    run_id = default_run(args.runs_dir)
    rows = []
    for engine in engines:
        print(f"scoring with --engine {engine} ...", flush=True)
        rows.append(measure(engine, run_id, archive, args.rows, args.runs_dir))
        print(json.dumps(rows[-1]), flush=True)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    command = "python benchmarks/batch_scoring.py" + (
        f" --rows {args.rows}" if args.rows != 2_000_000 else ""
    )
    markdown = table(rows)
    print(markdown)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(
        json.dumps(
            {
                "command": command,
                "machine": machine,
                "archive": {"file": archive.name, "rows": args.rows, "from": BUNDLED.name},
                "run_id": run_id,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    (RESULTS / f"{args.output}.md").write_text(
        f"`{command}` on {machine}; archive {archive.name} ({args.rows:,} rows built from "
        f"{BUNDLED.name}), run {run_id} (`python -m pipeline train`'s default), output "
        "Parquet; each engine through the CLI in a fresh process, start-up included.\n\n"
        f"{markdown}\n"
    )


if __name__ == "__main__":
    main()
