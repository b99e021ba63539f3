"""Memory of a server that trains again and again: does it level off?

Runs 20 small trainings one after another through the app's own
``pipeline.jobs.manager.JobManager`` in this process (what the Streamlit server holds:
the job list, each job's dataset while it waits and runs), each on a fresh copy
of the data as an upload would be, with its own settings so nothing comes from
the cache. After each job it reads the resident memory (RSS) of this process
and of the training process, now and at its peak (``VmRSS`` / ``VmHWM`` in
``/proc``), and the number of jobs the manager still holds.

    .venv/bin/python benchmarks/app_memory.py [--jobs 20] [--output app_memory]

Writes ``benchmarks/results/<output>.json`` and ``.md``; prints the table. What to
look for: the server's RSS after the last jobs is close to its RSS after the
first few (finished jobs release their data), and the training process's RSS
stops growing once its first jobs have run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from flags import at_least_one  # noqa: E402
from report import write_rows  # noqa: E402

DATA = ROOT / "tests" / "fixtures" / "uci_small.csv"


def _memory_mb(pid: int | str = "self") -> tuple[float, float]:
    """(RSS now, peak RSS) of a process in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def _worker_pid(manager) -> int | None:
    processes = getattr(manager._trainer._pool, "_processes", None) or {}
    return next(iter(processes), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=at_least_one, default=20)
    parser.add_argument("--output", default="app_memory")
    args = parser.parse_args()

    from pipeline.core.presets import get_preset
    from pipeline.data import load_dataset
    from pipeline.jobs.manager import JobManager

    rows = []
    with tempfile.TemporaryDirectory(prefix="app-memory-") as tmp:
        manager = JobManager(Path(tmp) / "runs")
        try:
            for index in range(args.jobs):
                dataset = load_dataset(DATA.read_bytes(), name=f"upload-{index}.csv")
                config = get_preset(
                    "fast",
                    balance="cap",
                    cap_per_class=120,
                    epochs=2,
                    batch_size=32,
                    ngram_tokens=5000,
                    ngram_dim=16,
                    train_seed=index,  # another run each time: nothing from the cache
                )
                started = time.perf_counter()
                job = manager.submit(dataset, config, session=f"visitor-{index % 5}")
                del dataset
                state = manager.wait(job.job_id, timeout=600)
                seconds = time.perf_counter() - started
                server_now, server_peak = _memory_mb()
                worker = _worker_pid(manager)
                worker_now, worker_peak = _memory_mb(worker) if worker else (0.0, 0.0)
                rows.append(
                    {
                        "job": index + 1,
                        "status": state.status,
                        "seconds": round(seconds, 1),
                        "server_rss_mb": round(server_now),
                        "server_peak_mb": round(server_peak),
                        "worker_rss_mb": round(worker_now),
                        "worker_peak_mb": round(worker_peak),
                        "jobs_held": len(manager.jobs()),
                        "datasets_held": sum(job.dataset is not None for job in manager.jobs()),
                    }
                )
                print(rows[-1], flush=True)
        finally:
            manager.shutdown()

    write_rows(rows, args.output)


if __name__ == "__main__":
    main()
