"""Training speed against fastText, the anchor a practitioner would reach for.

On the same rows of the bundled data (the default preset's preparation: every
deduplicated row, random split), side by side in one run on this machine:

- fastText (``fasttext-numpy2-wheel``, in ``requirements-dev.txt``): supervised, word
  bigrams, dim 50, 5 epochs, 2 threads, its default learning rate, on the training rows
  standardized as our encoder standardizes them; timed around ``train_supervised``
  (samples / s = rows x epochs / seconds), three times (before, between and after our
  two trainings), the median the anchor and each run's epoch listed beside it;
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


class _FastText:
    """fastText on the default's training rows (standardized as our encoder does), trained
    as often as :meth:`train` is called; each training timed, the first one scored."""

    def __init__(self, folder: Path) -> None:
        from pipeline.core.presets import get_preset
        from pipeline.data import load_default_dataset
        from pipeline.data.prepare import prepare
        from pipeline.models.text import standardize

        prepared = prepare(load_default_dataset(), get_preset("fast").data)
        train, test = prepared.split("train"), prepared.split("test")
        texts = standardize(train["text"].tolist())
        self.rows = len(texts)
        self.path = folder / "train.txt"
        self.path.write_text(
            "".join(
                f"__label__{label} {text}\n"
                for label, text in zip(train["label"], texts, strict=True)
            ),
            encoding="utf-8",
        )
        self.test_texts = standardize(test["text"].tolist())
        self.truth = test["label"].tolist()
        self.seconds: list[float] = []
        self.scores: tuple[float, float] | None = None

    def train(self) -> None:
        import fasttext
        from sklearn.metrics import accuracy_score, f1_score

        started = time.perf_counter()
        model = fasttext.train_supervised(
            str(self.path), wordNgrams=2, dim=50, epoch=EPOCHS, thread=2, verbose=0
        )
        self.seconds.append(time.perf_counter() - started)
        print(f"fastText: {self.seconds[-1] / EPOCHS:.2f} s / epoch", flush=True)
        if self.scores is None:
            found = model.predict(self.test_texts)[0]
            predicted = [labels[0].removeprefix("__label__") for labels in found]
            self.scores = (
                accuracy_score(self.truth, predicted),
                f1_score(self.truth, predicted, average="macro"),
            )

    def row(self) -> dict[str, object]:
        """The median training of those timed, with each one's seconds an epoch."""
        seconds = statistics.median(self.seconds)
        assert self.scores is not None, "train() first"
        accuracy, macro_f1 = self.scores
        runs = ", ".join(f"{s / EPOCHS:.2f}" for s in self.seconds)
        return {
            "model": f"fastText (bigrams, dim 50, 2 threads): median of {runs} s / epoch",
            "epochs": EPOCHS,
            "s / epoch": round(seconds / EPOCHS, 2),
            "samples / s": round(self.rows * EPOCHS / seconds),
            "accuracy": round(accuracy, 4),
            "macro F1": round(macro_f1, 4),
            "whole job (s)": round(seconds, 1),
        }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="fasttext-speed-") as tmp:
        anchor = _FastText(Path(tmp))
        # fastText before, between and after our two trainings: on a shared machine its
        # epoch alone varied from 0.46 to 1.03 s between runs, so its median is the anchor
        anchor.train()
        runs = Path(tmp) / "runs"
        first = _ours(runs, "Headline Lab `fast` (n-gram bag, lazy AdamW), first training")
        print(first, flush=True)
        anchor.train()
        again = _ours(runs, "the same again on the same split (baseline and vectors cached)")
        print(again, flush=True)
        anchor.train()
    reference = anchor.row()
    reference["vs fastText (samples / s)"] = 1.0
    for ours in (first, again):
        ours["vs fastText (samples / s)"] = round(ours["samples / s"] / reference["samples / s"], 3)
    write_rows([reference, first, again], "fasttext_speed")


if __name__ == "__main__":
    main()
