"""Writing a run's report: one self-contained HTML file (``report.html.j2`` rendered by
Jinja2 with autoescaping, the charts as inline SVG, no script, nothing loaded from
elsewhere; its Content-Security-Policy forbids both).

:func:`report_html` turns a saved run into the page's text; :func:`write_report` writes it
atomically. The command line (``python -m pipeline report``) and the Results page's
"Download report" button both call them.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from pipeline.core.atomic import write_text_atomically
from pipeline.core.errors import HeadlineLabError
from pipeline.report import charts
from pipeline.report.colors import TRAIN_COLOR
from pipeline.report.content import RunReport, build_report
from pipeline.report.model_card import ModelCard, model_card

if TYPE_CHECKING:
    from pipeline.data.dataset import Dataset
    from pipeline.runs.summary import SavedRun

TEMPLATE = "report.html.j2"
#: The media type and file name suffix of a report.
MEDIA_TYPE, SUFFIX = "text/html", ".html"
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def report_html(
    saved: SavedRun, dataset: Dataset | None = None, *, no_dataset_reason: str | None = None
) -> str:
    """The report of ``saved`` as one HTML document.

    ``dataset`` (the run's own data, for the slices) and ``no_dataset_reason`` are
    :func:`pipeline.report.content.build_report`'s; so are the errors raised.
    """
    report = build_report(saved, dataset, no_dataset_reason=no_dataset_reason)
    card = model_card(report, dedupe=saved.config.experiment.data.dedupe)
    return render(report, card)


def render(report: RunReport, card: ModelCard) -> str:
    """``report`` and its ``card`` as one HTML document, with its charts drawn."""
    drawn = {
        "curves": Markup(charts.training_curves(report.history, report.best_epoch))
        if report.history
        else None,
        "scores": Markup(
            charts.scores_against_baseline(
                [
                    charts.ScoreBar(row.metric, row.model, row.baseline)
                    for row in report.scores
                    if row.model is not None
                ]
            )
        ),
        "classes": Markup(
            charts.class_distribution(
                [row.name for row in report.classes],
                [row.loaded for row in report.classes],
                [row.used for row in report.classes],
            )
        ),
        "confusion": Markup(
            charts.confusion_matrix(report.confusion_names, report.confusion_matrix)
        ),
        "slices": [Markup(charts.slice_accuracy(section.table)) for section in report.slices],
    }
    thin = any(row.thin for row in report.classes)
    return _ENVIRONMENT.get_template(TEMPLATE).render(
        report=report,
        card=card,
        charts=drawn,
        train_color=TRAIN_COLOR,
        max_chart_classes=charts.MAX_CHART_CLASSES,
        flag_note="* fewer test rows than needed to trust its scores." if thin else "",
        share=_share,
        score=_score,
        count=_count,
        points=_points,
        points_between=_points_between,
        slice_name=charts.slice_name,
    )


def write_report(
    saved: SavedRun,
    output: Path,
    dataset: Dataset | None = None,
    *,
    no_dataset_reason: str | None = None,
) -> Path:
    """Write the report of ``saved`` to ``output`` (atomically: a failure leaves no half
    file) and return its path.

    Raises
    ------
    HeadlineLabError
        ``output``'s folder does not exist or is not writable, or ``output`` is a folder
        (checked before the report is made).
    """
    check_output(output)
    write_text_atomically(output, report_html(saved, dataset, no_dataset_reason=no_dataset_reason))
    return output


def check_output(output: Path) -> None:
    """Raise :class:`HeadlineLabError`, naming the fix, unless ``output`` can be written."""
    folder = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise HeadlineLabError(
            f"{output} is a folder; give a file name for the report, e.g. {output / 'report'}"
            f"{SUFFIX}."
        )
    if not folder.is_dir():
        raise HeadlineLabError(
            f"Cannot write the report to {output}: the folder {folder} does not exist. "
            "Create it, or choose another --output path."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise HeadlineLabError(
            f"Cannot write the report to {output}: the folder {folder} is not writable. "
            "Choose another --output path."
        )


def _share(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.2%}"


def _score(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3f}"


def _count(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _points(value: float) -> str:
    text = f"{value * 100:+.2f}"
    return "0.00" if text in {"+0.00", "-0.00"} else text


def _points_between(model: float | None, baseline: float | None) -> str:
    return "n/a" if model is None or baseline is None else _points(model - baseline)
