"""Training speed against fastText, the anchor a practitioner would reach for.

On the same rows of the bundled data (the default preset's preparation: every
deduplicated row, random split), side by side in one run on this machine:

- fastText (``fasttext-numpy2-wheel``, in ``requirements-dev.txt``): supervised, word
  bigrams, dim 50, 5 epochs, 2 threads, its default learning rate, on the training rows
  standardized as our encoder standardizes them; timed around ``train_supervised``
  (samples / s = rows x epochs / seconds);
- the default preset (``fast``), trained by ``train_run`` in a fresh process: samples / s
  over its epochs 2..n from the run's own epoch times (the first epoch traces the step
  function), beside its epochs and whole job. Twice, into the same runs folder: a first
  training, whose TF-IDF baseline is fitted in a process of its own beside the first
  epochs (sharing the two cores), then the same training again (``force``), which finds
  the baseline's score and the encoded splits in the runs folder's caches, so its epochs
  have the CPU to themselves, as fastText's do.

Both are scored on the same test rows (accuracy and macro F1). The figure to watch: our
samples / s against fastText's (target: at least a third).

    .venv/bin/python benchmarks/fasttext_speed.py

Writes ``benchmarks/results/fasttext_speed.json`` and ``.md``; prints the table.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_speed import ROOT, _python
from report import write_rows

EPOCHS = 5
_OURS = """
import json, sys, time
from pathlib import Path
from pipeline.core.presets import get_preset
from pipeline.data import load_default_dataset
from pipeline.runs.registry import RunRegistry
from pipeline.training.train import train_run
runs = Path(sys.argv[1])
started = time.perf_counter()
result = train_run(load_default_dataset(), get_preset("fast"), runs_dir=runs, force=True)
wall = time.perf_counter() - started
saved = RunRegistry(runs).get(result.run_id)
print(json.dumps({
    "seconds": [row.seconds for row in saved.history],
    "train_rows": saved.data.summary.split_sizes.train,
    "accuracy": saved.metrics.test_accuracy,
    "macro_f1": saved.metrics.macro_f1,
    "whole_job_s": wall,
}))
"""


def _ours(runs: Path, label: str) -> dict[str, object]:
    done = subprocess.run(
        [_python(), "-c", _OURS, str(runs)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    later = [s for s in measured["seconds"][1:] if s]
    per_epoch = statistics.mean(later)
    return {
        "model": label,
        "epochs": len(measured["seconds"]),
        "s / epoch": round(per_epoch, 2),
        "samples / s": round(measured["train_rows"] / per_epoch),
        "accuracy": round(measured["accuracy"], 4),
        "macro F1": round(measured["macro_f1"], 4),
        "whole job (s)": round(measured["whole_job_s"], 1),
    }


def _fasttext(folder: Path) -> dict[str, object]:
    import fasttext
    from sklearn.metrics import accuracy_score, f1_score

    from pipeline.core.presets import get_preset
    from pipeline.data import load_default_dataset
    from pipeline.data.prepare import prepare
    from pipeline.models.text import standardize

    prepared = prepare(load_default_dataset(), get_preset("fast").data)
    train, test = prepared.split("train"), prepared.split("test")
    lines = [
        f"__label__{label} {text}"
        for label, text in zip(train["label"], standardize(train["text"].tolist()), strict=True)
    ]
    path = folder / "train.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    model = fasttext.train_supervised(
        str(path), wordNgrams=2, dim=50, epoch=EPOCHS, thread=2, verbose=0
    )
    seconds = time.perf_counter() - started
    texts = standardize(test["text"].tolist())
    predicted = [labels[0].removeprefix("__label__") for labels in model.predict(texts)[0]]
    truth = test["label"].tolist()
    return {
        "model": "fastText (bigrams, dim 50, 2 threads)",
        "epochs": EPOCHS,
        "s / epoch": round(seconds / EPOCHS, 2),
        "samples / s": round(len(lines) * EPOCHS / seconds),
        "accuracy": round(accuracy_score(truth, predicted), 4),
        "macro F1": round(f1_score(truth, predicted, average="macro"), 4),
        "whole job (s)": round(seconds, 1),
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="fasttext-speed-") as tmp:
        anchor = _fasttext(Path(tmp))
        print(anchor, flush=True)
        runs = Path(tmp) / "runs"
        first = _ours(runs, "Headline Lab `fast` (n-gram bag, lazy AdamW), first training")
        print(first, flush=True)
        again = _ours(runs, "the same again on the same split (baseline and vectors cached)")
        print(again, flush=True)
    anchor["vs fastText (samples / s)"] = 1.0
    for ours in (first, again):
        ours["vs fastText (samples / s)"] = round(ours["samples / s"] / anchor["samples / s"], 3)
    write_rows([anchor, first, again], "fasttext_speed")


if __name__ == "__main__":
    main()
