"""The Results page's "Download report" button: the run's report as one self-contained HTML
file (:mod:`pipeline.report.html`, the same file ``python -m pipeline report`` writes).

The file is made when the button is clicked, not on every rerun (Streamlit's deferred
download: ``data`` is a callable, run on a thread of its own, and the click does not
rerun the page). The slices need the run's own rows: the active dataset is passed when
its fingerprint is the run's; otherwise the report says which file to load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from pipeline.core.errors import DatasetError, HeadlineLabError
from pipeline.evaluation.slices import check_same_data
from ui.core.data import load_source
from ui.core.state import get_dataset_source

if TYPE_CHECKING:
    from pipeline.data.dataset import Dataset
    from pipeline.runs.summary import SavedRun

LABEL = "Download report"
HELP = (
    "One HTML file for people without the app: what was trained, the scores beside the "
    "baseline with their intervals, the curves, the per-class table, the confusion "
    "matrix, the slices, the most confident mistakes and a model card. It opens in any "
    "browser, offline (from a mail attachment too): no script, nothing loaded from elsewhere."
)


def report_file_name(run_id: str) -> str:
    """The downloaded file's name: ``headline-lab-report-<run id>.html``."""
    return f"headline-lab-report-{run_id}.html"


def no_data_reason(saved: SavedRun, dataset: Dataset | None) -> str | None:
    """Why the report of ``saved`` has no slices with ``dataset`` active, or ``None`` when
    ``dataset`` is the run's own data (same fingerprint)."""
    trained_on = saved.data.dataset
    if dataset is None:
        return (
            f"Slices left out: the run's data ({trained_on}) was not loaded. Load it in the "
            "app's sidebar and download the report again."
        )
    try:
        check_same_data(saved, dataset)
    except DatasetError:
        return (
            f"Slices left out: the run was trained on {trained_on}, but {dataset.name} was "
            f"the active dataset. Load {trained_on} in the app's sidebar and download the "
            "report again."
        )
    return None


def report_maker(saved: SavedRun, dataset: Dataset | None) -> Callable[[], bytes]:
    """What the button calls on a click: the report's bytes (UTF-8 HTML), made then."""

    def make() -> bytes:
        from pipeline.report.html import report_html

        reason = no_data_reason(saved, dataset)
        return report_html(
            saved, dataset if reason is None else None, no_dataset_reason=reason
        ).encode("utf-8")

    return make


def run_dataset(saved: SavedRun) -> Dataset | None:
    """The active dataset, for the report's slices (checked against the run when the
    report is made), or ``None`` when the run kept no per-row predictions (nothing to
    slice) or the dataset does not load (the slices section says why)."""
    if not saved.predictions_path.is_file():
        return None
    try:
        return load_source(get_dataset_source())  # cached: the slices section loaded it
    except HeadlineLabError:
        return None


def draw_download_report(saved: SavedRun) -> None:
    """The "Download report" button of ``saved``, its slices from the active dataset when
    that is the run's own data."""
    from pipeline.report.html import MEDIA_TYPE

    st.download_button(
        LABEL,
        data=report_maker(saved, run_dataset(saved)),
        file_name=report_file_name(saved.run_id),
        mime=MEDIA_TYPE,
        on_click="ignore",
        icon=":material/download:",
        help=HELP,
        key="results.download_report",
    )
