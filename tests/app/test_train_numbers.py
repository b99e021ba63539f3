"""The Train page's live panel says accuracies as shares, as every other page does
(issue #31, item 8: "0.9573 in one place and 95.73 % in another")."""

from __future__ import annotations

from apptest_support import RUN_TIMEOUT
from streamlit.testing.v1 import AppTest


def _panel() -> None:
    from pipeline.jobs.job import JobSnapshot
    from pipeline.runs.history import EpochRow
    from ui.views.train_progress import draw_snapshot

    snap = JobSnapshot(
        job_id=1, label="default", status="running", phase="training", step="Epoch 3",
        step_done=10, step_total=100, step_unit="batches", epoch=3, epochs=100,
        logs={"loss": 0.41234, "accuracy": 0.95731}, history=(EpochRow(2, {"val_loss": 0.5}),),
        started_at=0.0,
    )  # fmt: skip
    draw_snapshot(None, snap)  # a running job's panel reads nothing from the manager


def test_accuracies_read_as_shares_and_losses_as_numbers() -> None:
    at = AppTest.from_function(_panel, default_timeout=RUN_TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert shown == {
        "loss": "0.4123",
        "accuracy": "95.73%",
        "val loss": "0.5000",
        "val accuracy": "–",  # not measured yet
    }
