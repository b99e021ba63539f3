"""The command line's progress bars (``pipeline.cli.progress``): one ``tqdm`` bar per
step for training, label reviews and scoring, notes between them, nothing under
``--json``; and a real ``train`` run draws them on stderr while stdout stays JSON."""

from __future__ import annotations

import io
import json
import re

from pipeline.cli.progress import ReviewProgressBar, StepBar, TrainingProgress, scoring_progress
from pipeline.core.progress import ProgressEvent
from pipeline.review.progress import ReviewProgress
from pipeline.scoring.summary import ScoringProgress


def event(kind: str, **fields) -> ProgressEvent:
    base = {"epoch": 1, "epochs": 10, "batch": 0, "batches": 0, "logs": {}, "elapsed_s": 1.0}
    return ProgressEvent(kind=kind, **{**base, **fields})


def test_a_step_bar_draws_each_step_and_notes_between_them():
    out = io.StringIO()
    bar = StepBar(file=out)
    bar.show("Vectorizing", 50, 100, "rows")
    bar.show("Vectorizing", 100, 100, "rows")
    bar.note("phase: training")
    bar.show("epoch 1", 3, 4, "batches", "loss 0.5000")
    bar.close()
    text = out.getvalue()
    assert "Vectorizing" in text and "100/100" in text and " rows" in text
    assert "phase: training\n" in text
    assert "epoch 1" in text and "3/4" in text and "loss 0.5000" in text
    silent = io.StringIO()
    off = StepBar(enabled=False, file=silent)
    off.show("Vectorizing", 1, 2, "rows")
    off.note("nothing")
    off.close()
    assert silent.getvalue() == ""


def test_training_progress_shows_rows_batches_and_what_is_known_of_the_end():
    out = io.StringIO()
    progress = TrainingProgress(enabled=True, patience=2, file=out)
    progress.update(event("phase", message="Vectorizing the data"))
    progress.update(event("rows", message="Word vocabulary", done=4096, total=8192))
    progress.update(event("batch", batch=2, batches=5, logs={"loss": 1.25}))
    progress.update(event("validation", batch=1, batches=2))
    progress.update(event("epoch", batch=5, batches=5, logs={"loss": 0.9, "val_loss": 1.0}))
    progress.update(event("end", message="Done: 1 epoch."))
    progress.close()
    text = out.getvalue()
    assert "Vectorizing the data\n" in text
    assert "Word vocabulary" in text and "4096/8192" in text
    assert "epoch 1" in text and "2/5" in text and "loss 1.2500" in text
    assert "validating epoch 1" in text
    assert "5/5" in text and "loss 0.9000 val_loss 1.0000" in text
    assert "Epoch 1 of at most 10 (early stopping after 2 epochs without progress)" in text
    assert text.rstrip().endswith("Done: 1 epoch.")


def test_review_and_scoring_progress():
    out = io.StringIO()
    review = ReviewProgressBar(enabled=True, file=out)
    review.update(ReviewProgress("tfidf", 2, 5, "Fold 2 of 5: TF-IDF", 1.0))
    review.update(ReviewProgress("scoring", 5, 5, "Scoring the labels…", 2.0))
    review.update(ReviewProgress("done", 5, 5, "Done.", 3.0))
    review.close()
    text = out.getvalue()
    assert "label review" in text and "1/5" in text and "Fold 2 of 5: TF-IDF" in text
    assert "5/5" in text and text.rstrip().endswith("Done.")

    scored = io.StringIO()
    show = scoring_progress(file=scored)
    show(ScoringProgress(rows=2048, seconds=1.0))
    show(ScoringProgress(rows=4096, seconds=2.0))
    show.close()
    assert re.search(r"scoring: 4096 rows", scored.getvalue())


def test_train_prints_its_bars_on_stderr_and_json_alone_on_stdout(tmp_path):
    from tests.pipeline.test_cli import SMALL, cli
    from tests.tiny_training import tiny_cli_flags

    flags = ["--data", str(SMALL), *tiny_cli_flags()]
    shown = cli("train", *flags, runs_dir=tmp_path)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "Vectorizing" in shown.stderr and "epoch 1" in shown.stderr
    assert re.search(r"epoch 1: .*\d+/\d+ \[.* batches/s", shown.stderr)
    quiet = cli("train", *flags, "--json", "--force", runs_dir=tmp_path)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    json.loads(quiet.stdout)
    assert "batches/s" not in quiet.stderr
