"""Lean model files: the saved ``model.keras`` against the full model it came from.

For each preset (``fast``, ``accurate``) on the bundled data (random split, balanced test
set: the figures the README quotes), and for ``python -m pipeline train`` with every
default (``default``: the fast preset on a stratified test set, whose blend keeps its
TF-IDF part), one run is trained with the CLI into a runs folder.
Its ``model.keras`` (the lean model: what predictions, exports, Ray and the app load) is
compared with its ``training_model.keras`` (the full-precision model, kept for continuing
the run; what ``model.keras`` was before lean models) on the same test rows:

- file size, and the size of the run's export archive;
- test accuracy and macro F1 of each, and the share of test rows where both give the
  same class (the lean model's answers are the run's ``test_predictions.json``; the full
  model's are computed here);
- load time: ``load_model_file`` and a first answer, in a fresh process with TensorFlow
  already imported (median of 5 processes), and ``Predictor.from_run`` there too.

Prints a markdown table; writes ``benchmarks/results/lean_models.json`` and ``.md``.

    python benchmarks/lean_models.py
    python benchmarks/lean_models.py --presets fast --runs-dir /tmp/lean-runs   # keep the runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PROCESSES = 5
#: The row of ``python -m pipeline train`` as it comes (a stratified test set: its blend
#: keeps the TF-IDF part, which the balanced test set's runs drop).
CLI_DEFAULT = "default"
_LOAD_SCRIPT = """
import json, sys, time
import tensorflow as tf
from pathlib import Path
from pipeline.runs.model_file import load_model_file
from pipeline.runs.registry import RunRegistry
from pipeline.scoring.predictor import Predictor
path, what = Path(sys.argv[1]), sys.argv[2]
started = time.perf_counter()
if what == "predictor":
    predictor = Predictor.from_run(RunRegistry(path.parent.parent), path.parent.name)
    loaded = time.perf_counter()
    predictor.predict(["Stocks rally as the Fed holds rates"])
else:
    model = load_model_file(path)
    loaded = time.perf_counter()
    model.predict(tf.constant([["Stocks rally as the Fed holds rates"]]), verbose=0)
print(json.dumps({"load_s": loaded - started, "first_answer_s": time.perf_counter() - started}))
"""


def _train(preset: str, runs: Path) -> str:
    """Train ``preset`` on the bundled data (balanced test set) with the CLI; the run id.
    :data:`CLI_DEFAULT` trains what ``python -m pipeline train`` trains, every setting its
    default (the fast preset, a stratified test set, class weights)."""
    flags = [] if preset == CLI_DEFAULT else ["--preset", preset, "--test-set", "balanced"]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "train", *flags, "--runs-dir", str(runs), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    return json.loads(done.stdout)["run_id"]


def _load_times(path: Path, what: str) -> dict[str, float]:
    """Median over :data:`PROCESSES` fresh processes of the load and first-answer times."""
    samples = []
    for _ in range(PROCESSES):
        done = subprocess.run(
            [sys.executable, "-c", _LOAD_SCRIPT, str(path), what],
            cwd=ROOT, capture_output=True, text=True, check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )  # fmt: skip
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: round(statistics.median(s[key] for s in samples), 3) for key in samples[0]}


def _full_model_scores(runs: Path, run_id: str) -> dict[str, float]:
    """The full model's accuracy and macro F1 on the run's test rows, and its agreement
    with the lean model's answers there."""
    import numpy as np
    import tensorflow as tf
    from sklearn.metrics import accuracy_score, f1_score

    from pipeline.data import load_default_dataset
    from pipeline.runs.registry import RunRegistry

    registry = RunRegistry(runs)
    saved = registry.get(run_id)
    rows = json.loads((saved.path / "test_predictions.json").read_text())
    texts = load_default_dataset().frame["text"].iloc[rows["row"]].tolist()
    model = registry.load_training_model(run_id)
    probabilities = np.concatenate(
        [
            model.predict(tf.constant([[t] for t in texts[i : i + 8192]]), verbose=0)
            for i in range(0, len(texts), 8192)
        ]
    )
    classes = np.array(saved.labels.classes)
    full = classes[probabilities.argmax(axis=1)]
    true, lean = np.array(rows["true"]), np.array(rows["predicted"])
    return {
        "full_accuracy": round(float(accuracy_score(true, full)), 4),
        "full_macro_f1": round(float(f1_score(true, full, average="macro")), 4),
        "lean_accuracy": round(float(accuracy_score(true, lean)), 4),
        "lean_macro_f1": round(float(f1_score(true, lean, average="macro")), 4),
        "agreement": round(float((full == lean).mean()), 4),
        "test_rows": len(true),
    }


def measure(preset: str, runs: Path) -> dict[str, Any]:
    """Train ``preset`` (or find its run in ``runs``) and measure both model files."""
    from pipeline.runs.registry import RunRegistry

    started = time.perf_counter()
    run_id = _train(preset, runs)
    folder = RunRegistry(runs).get(run_id).path
    row: dict[str, Any] = {"preset": preset, "run_id": run_id}
    row["train_s"] = round(time.perf_counter() - started, 1)
    row["lean_mb"] = round((folder / "model.keras").stat().st_size / 1e6, 2)
    row["full_mb"] = round((folder / "training_model.keras").stat().st_size / 1e6, 2)
    row["export_mb"] = round(len(RunRegistry(runs).export_zip(run_id)) / 1e6, 2)
    row.update(_full_model_scores(runs, run_id))
    row["lean_load"] = _load_times(folder / "model.keras", "model")
    row["full_load"] = _load_times(folder / "training_model.keras", "model")
    row["predictor"] = _load_times(folder / "model.keras", "predictor")
    return row


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| preset | model.keras MB (full -> lean) | export MB | accuracy (full -> lean) "
        "| macro F1 (full -> lean) | same class | load s (full -> lean) "
        "| first answer s (full -> lean) | Predictor load s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['preset']} | {r['full_mb']} -> **{r['lean_mb']}** | {r['export_mb']} "
            f"| {r['full_accuracy']:.4f} -> {r['lean_accuracy']:.4f} "
            f"| {r['full_macro_f1']:.4f} -> {r['lean_macro_f1']:.4f} "
            f"| {r['agreement'] * 100:.2f} % of {r['test_rows']:,} "
            f"| {r['full_load']['load_s']} -> {r['lean_load']['load_s']} "
            f"| {r['full_load']['first_answer_s']} -> {r['lean_load']['first_answer_s']} "
            f"| {r['predictor']['load_s']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", default=["fast", "accurate", CLI_DEFAULT])
    parser.add_argument("--runs-dir", type=Path, help="keep the runs here (default: a temp dir)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as workdir:
        runs = args.runs_dir or Path(workdir) / "runs"
        rows = []
        for preset in args.presets:
            rows.append(measure(preset, runs))
            print(json.dumps(rows[-1]), flush=True)
    text = table(rows)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    command = "python benchmarks/lean_models.py " + " ".join(sys.argv[1:])
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lean_models.json").write_text(
        json.dumps({"machine": machine, "command": command, "rows": rows}, indent=2)
    )
    (RESULTS / "lean_models.md").write_text(f"`{command}` on {machine}\n\n{table(rows)}")


if __name__ == "__main__":
    main()
