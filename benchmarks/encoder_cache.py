"""The encoder cache: a second training on the same data with other model settings.

Trains the default preset on the bundled data into an empty runs folder (the encoder is
built and cached), then the same with another dropout (the encoder and the encoded splits
come from ``runs/.encoders``), each in a fresh process as the CLI runs it, and reports
per training the seconds from the start of the ``vectorizing`` phase to the start of
``training``, the rows steps it reported there, and the whole job.

    .venv/bin/python benchmarks/encoder_cache.py [--preset fast]

Writes ``benchmarks/results/encoder_cache.json`` and ``.md``; prints the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_speed import ROOT, _python
from report import write_rows

_ONE = """
import json, sys, time
from pathlib import Path
from pipeline.core.presets import get_preset
from pipeline.data import load_default_dataset
from pipeline.training.train import train_run
preset, runs, dropout = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
marks, steps = {}, []
started = time.perf_counter()
def hear(event):
    now = time.perf_counter() - started
    if event.kind == "phase":
        marks.setdefault(event.phase, now)
    elif event.kind == "rows" and event.message not in steps:
        steps.append(event.message)
config = get_preset(preset, dropout=dropout)
result = train_run(load_default_dataset(), config, runs_dir=runs, on_progress=hear)
print(json.dumps({"vectorizing_s": marks["training"] - marks["vectorizing"],
                  "whole_job_s": time.perf_counter() - started, "steps": steps}))
"""


def _train(preset: str, runs: Path, dropout: float) -> dict[str, object]:
    done = subprocess.run(
        [_python(), "-c", _ONE, preset, str(runs), str(dropout)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="fast")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="encoder-cache-") as tmp:
        for label, dropout in (("first training (built)", 0.5), ("dropout 0.4 (cached)", 0.4)):
            measured = _train(args.preset, Path(tmp) / "runs", dropout)
            rows.append(
                {
                    "training": label,
                    "vectorizing to training (s)": round(measured["vectorizing_s"], 1),
                    "whole job (s)": round(measured["whole_job_s"], 1),
                    "steps reported": "; ".join(s for s in measured["steps"] if s != "Test set"),
                }
            )
            print(rows[-1], flush=True)
    write_rows(rows, "encoder_cache")


if __name__ == "__main__":
    main()
