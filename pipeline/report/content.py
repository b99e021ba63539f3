"""What a run's report says, gathered from the saved run (and its dataset, for the slices):
plain values, no HTML. :func:`build_report` makes a :class:`RunReport`;
:mod:`pipeline.report.html` writes it out, :mod:`pipeline.report.model_card` words its
model card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipeline.core.config import SPLIT_LABELS
from pipeline.core.errors import DatasetError, NoRowPredictionsError, RunRecordError
from pipeline.core.names import unique_display_names
from pipeline.core.settings import declared
from pipeline.evaluation.confusions import ConfusedPair, confused_pairs
from pipeline.evaluation.paired import (
    METRIC_WORDS,
    PairedComparison,
    PairedDifference,
    paired_bootstrap,
)
from pipeline.evaluation.slice_columns import default_columns, sliceable_columns
from pipeline.evaluation.slice_scores import (
    MIN_SLICE_ROWS,
    TOP_VALUES,
    SliceRow,
    SliceTable,
    all_folded_note,
    slice_metrics,
)
from pipeline.evaluation.slices import join_test_rows
from pipeline.runs.history import EpochRow

if TYPE_CHECKING:
    from pipeline.data.dataset import Dataset
    from pipeline.runs.summary import SavedRun

#: The most confident mistakes a report lists.
MAX_MISTAKES = 20
#: The most confused pairs a report lists.
MAX_CONFUSED_PAIRS = 10
#: Time slices a report lists in its table (the worst ones); its chart shows them all.
MAX_TIME_ROWS = 10
NO_INTERVAL = (
    "No interval is available: this run was saved before paired intervals were kept, "
    "and without per-row test predictions to compute them from."
)


@dataclass(frozen=True)
class Fact:
    """One line of a facts table: what, and its value as text."""

    label: str
    value: str


@dataclass(frozen=True)
class ScoreRow:
    """One test metric: the model's, the baseline's and their paired difference."""

    metric: str
    model: float | None
    baseline: float | None
    difference: PairedDifference | None  # None: no interval


@dataclass(frozen=True)
class ClassRow:
    """One class through the preparation, and how the model did on it."""

    name: str
    loaded: int
    used: int | None
    test_rows: int | None
    precision: float | None
    recall: float | None
    f1: float | None
    thin: bool


@dataclass(frozen=True)
class SliceSection:
    """Accuracy per slice of one column: the table, and the rows its table lists."""

    title: str
    table: SliceTable
    listed: tuple[SliceRow, ...]


@dataclass(frozen=True)
class Mistake:
    """A misclassified test row: its text, true and predicted class, confidence."""

    text: str
    true: str
    predicted: str
    confidence: float


@dataclass(frozen=True)
class RunReport:
    """Everything a run's report shows, as plain values (see :func:`build_report`)."""

    run_id: str
    title: str
    generated_at: str
    facts: tuple[Fact, ...]
    data_settings: tuple[Fact, ...]
    scores: tuple[ScoreRow, ...]
    n_test: int
    interval_note: str
    notes: tuple[str, ...]
    history: tuple[EpochRow, ...]
    best_epoch: int | None
    classes: tuple[ClassRow, ...]
    confusion_names: tuple[str, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]
    confusions: tuple[ConfusedPair, ...]
    slices: tuple[SliceSection, ...]
    slices_note: str | None
    mistakes: tuple[Mistake, ...]
    mistakes_total: int
    split: str
    test_set: str
    duplicates_removed: int
    empty_removed: int
    dropped_classes: dict[str, int]
    dataset: str


def build_report(
    saved: SavedRun, dataset: Dataset | None = None, *, no_dataset_reason: str | None = None
) -> RunReport:
    """Gather a saved run's report.

    Parameters
    ----------
    saved : SavedRun
        The run (``RunRegistry.get``).
    dataset : Dataset, optional
        The data the run was trained on, for its slices (publisher, week, any column); it
        must have the run's fingerprint (:func:`pipeline.evaluation.slices.check_same_data`).
    no_dataset_reason : str, optional
        Why there is no ``dataset``: the report says it where the slices would be.

    Returns
    -------
    RunReport

    A damaged per-row predictions file, or a ``dataset`` that is not the run's, leaves
    the slices out with the reason where they would be; nothing about the data raises.
    """
    metrics, run, config = saved.metrics, saved.run, saved.config
    summary = saved.data.summary
    codes = list(saved.labels.classes)
    names = unique_display_names(sorted({*codes, *summary.class_counts_before}), saved.labels.names)
    comparison, interval_note = _comparison(saved)
    baseline = metrics.baseline
    scores = tuple(
        ScoreRow(
            METRIC_WORDS[key],
            model,
            base,
            comparison.differences().get(key) if comparison is not None else None,
        )
        for key, model, base in (
            ("accuracy", metrics.test_accuracy, baseline.test_accuracy if baseline else None),
            (
                "balanced_accuracy",
                metrics.balanced_accuracy,
                baseline.balanced_accuracy if baseline else None,
            ),
            ("macro_f1", metrics.macro_f1, baseline.macro_f1 if baseline else None),
        )
    )
    thin = metrics.thin_classes()
    test_counts = summary.split_class_counts.test
    classes = tuple(
        ClassRow(
            name=names[code],
            loaded=summary.class_counts_before.get(code, 0),
            used=summary.class_counts_after.get(code),
            test_rows=test_counts.get(code),
            precision=scores.precision if scores else None,
            recall=scores.recall if scores else None,
            f1=scores.f1 if scores else None,
            thin=code in thin,
        )
        for code in sorted(names, key=lambda c: (-summary.class_counts_before.get(c, 0), c))
        for scores in [metrics.per_class.get(code)]
    )
    matrix = metrics.confusion_matrix
    matrix_names = tuple(names.get(code, code) for code in matrix.labels)
    slices, slices_note = _slices(saved, dataset, no_dataset_reason)
    mistakes = tuple(
        Mistake(
            text=str(row.get("text", "")),
            true=names.get(str(row.get("true")), str(row.get("true"))),
            predicted=names.get(str(row.get("predicted")), str(row.get("predicted"))),
            confidence=float(row.get("confidence", 0.0)),
        )
        for row in metrics.misclassified[:MAX_MISTAKES]
    )
    data = config.experiment.data
    return RunReport(
        run_id=saved.run_id,
        title=f"{config.family} ({config.preset}) on {run.dataset}",
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        facts=_facts(saved, len(codes)),
        data_settings=tuple(
            Fact(spec.label, spec.label_of(getattr(data, name)))
            for name, spec in declared(data)
            if getattr(data, name) is not None
        ),
        scores=scores,
        n_test=metrics.n_test,
        interval_note=interval_note,
        notes=saved.caveats(),
        history=saved.history,
        best_epoch=run.best_epoch,
        classes=classes,
        confusion_names=matrix_names,
        confusion_matrix=matrix.matrix,
        confusions=tuple(confused_pairs(matrix.matrix, MAX_CONFUSED_PAIRS)),
        slices=slices,
        slices_note=slices_note,
        mistakes=mistakes,
        mistakes_total=sum(
            count for i, row in enumerate(matrix.matrix) for j, count in enumerate(row) if i != j
        ),
        split=SPLIT_LABELS.get(data.split, data.split),
        test_set=data.test_set,
        duplicates_removed=summary.duplicates_removed,
        empty_removed=summary.empty_removed,
        dropped_classes={names.get(c, c): n for c, n in summary.dropped_classes.items()},
        dataset=run.dataset,
    )


def _facts(saved: SavedRun, n_classes: int) -> tuple[Fact, ...]:
    run, config, summary = saved.run, saved.config, saved.data.summary
    splits = summary.split_sizes
    epochs = [row for row in saved.history if not row.partial]
    facts = [
        Fact("Run", run.run_id),
        Fact("Dataset", run.dataset),
        Fact("Rows", f"{summary.rows_loaded:,} loaded, {summary.rows_after_balance:,} used"),
        Fact(
            "Split",
            f"{splits.train:,} training, {splits.validation:,} validation, {splits.test:,} test",
        ),
        Fact("Classes", f"{n_classes:,}"),
        Fact("Model family", config.family),
        Fact("Preset", config.preset),
        Fact("Trained", run.created_at.replace("T", " ")[:16] + " UTC"),
        Fact("Device", run.device),
        Fact("Duration", f"{run.duration_s:,.0f} s"),
        Fact(
            "Epochs",
            f"{len(epochs)}" + (f", best {run.best_epoch}" if run.best_epoch is not None else ""),
        ),
        Fact("Status", run.status + (" (imported)" if run.origin == "imported" else "")),
    ]
    if config.parent_run_id:
        facts.append(Fact("Continues run", config.parent_run_id))
    versions = ", ".join(f"{name} {version}" for name, version in sorted(run.versions.items()))
    if versions:
        facts.append(Fact("Versions", versions))
    return tuple(facts)


def _comparison(saved: SavedRun) -> tuple[PairedComparison | None, str]:
    """The model minus the baseline on the same test rows, and how it was measured.

    From the per-row predictions when the run has the baseline's (every metric, balanced
    accuracy included), else the interval ``metrics.json`` kept, else none.
    """
    try:
        rows = saved.test_predictions() if saved.predictions_path.is_file() else None
    except RunRecordError:
        rows = None  # damaged: the interval metrics.json kept, if any (the slices say why)
    if rows is not None and rows.baseline is not None and len(rows.true) > 0:
        comparison = paired_bootstrap(
            rows.true, rows.baseline, rows.predicted, labels=list(saved.labels.classes)
        )
        return comparison, (
            f"Model minus baseline on the same {len(rows.true):,} test rows: paired bootstrap, "
            f"{comparison.resamples:,} resamples, 95 % intervals."
        )
    kept = saved.metrics.vs_baseline
    if kept is not None:
        return kept, (
            f"Model minus baseline on the same {saved.metrics.n_test:,} test rows: paired "
            "bootstrap, 95 % intervals (as saved with the run; balanced accuracy was not "
            "paired then)."
        )
    return None, NO_INTERVAL


def _slices(
    saved: SavedRun, dataset: Dataset | None, no_dataset_reason: str | None
) -> tuple[tuple[SliceSection, ...], str | None]:
    """Accuracy per publisher-like and time column of the run's data, or why there is none."""
    if not saved.predictions_path.is_file():
        return (), (
            "This run was saved before each test row's prediction was kept: its results "
            "cannot be split by publisher or time. Train it again to get them."
        )
    if dataset is None:
        return (), no_dataset_reason or "The run's data was not given, so it has no slices."
    try:
        rows = join_test_rows(saved, dataset)
    except (DatasetError, NoRowPredictionsError, RunRecordError) as exc:
        return (), f"Slices left out: {exc}"
    categorical, time = default_columns(sliceable_columns(dataset.other_columns))
    sections = []
    folded_note = None
    for column in (categorical, time):
        if column is None:
            continue
        table = slice_metrics(rows, column, top=TOP_VALUES, min_rows=MIN_SLICE_ROWS)
        if table.all_folded:  # one bar of every row says nothing: a sentence says why
            folded_note = all_folded_note(table, "the smallest slice on Results")
            continue
        if column.kind == "categorical":
            listed = tuple(table.slices)
            title = f"Test accuracy by {column.name}, worst first"
        else:
            listed = tuple(worst_slices(table.slices, MAX_TIME_ROWS))
            title = f"Test accuracy by {column.name} ({table.bins})"
        sections.append(SliceSection(title, table, listed))
    if not sections and not folded_note:
        return (), f"{dataset.name} has no publisher-like or time column to slice by."
    return tuple(sections), folded_note


def slice_phrase(table: SliceTable, row: SliceRow) -> str:
    """Which slice ``row`` is, in words: ``"PUBLISHER Forbes"``, ``"TIMESTAMP, week of
    2014-03-24"``, ``"SIZE in [3, 80)"``."""
    column = table.column.name
    if table.bins in ("week", "month", "year"):
        return f"{column}, {table.bins} of {row.value}"
    if table.bins == "quantiles":
        return f"{column} in {row.value}"
    return f"{column} {row.value}"


def worst_slices(rows: Sequence[SliceRow], limit: int) -> list[SliceRow]:
    """The ``limit`` slices with the lowest accuracy among those with enough rows to trust
    (not ``small``), then the small ones; ties: more rows first."""
    ranked = sorted(rows, key=lambda row: (row.small, row.accuracy, -row.rows, row.value))
    return ranked[:limit]


def failure_slices(report: RunReport) -> list[str]:
    """Slices whose whole 95 % interval lies below the run's overall accuracy, in words:
    the model's known weak spots in this data."""
    found = []
    for section in report.slices:
        overall = section.table.overall.accuracy
        for row in section.table.slices:
            if row.small or row.other or row.ci_high >= overall:
                continue
            found.append(
                f"{slice_phrase(section.table, row)}: accuracy {row.accuracy:.1%} on "
                f"{row.rows:,} test rows (95 % interval {row.ci_low:.1%} to {row.ci_high:.1%}), "
                f"against {overall:.1%} overall"
            )
    return found
