"""``python -m pipeline evaluate``: the test metrics of a saved run, whole or by slice."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from pipeline.cli.options import load_data, newest_complete
from pipeline.cli.output import headline_metrics, print_metrics
from pipeline.core.errors import HeadlineLabError

if TYPE_CHECKING:
    from pipeline.runs.summary import SavedRun


def evaluate_command(args: argparse.Namespace) -> int:
    """``evaluate``: print the test metrics of a saved run, or with ``--by`` its test
    accuracy per slice of a column; returns 0."""
    from pipeline.runs.registry import RunRegistry

    registry = RunRegistry(args.runs_dir)
    saved = registry.get(args.run_id or newest_complete(registry))
    if args.by is not None:
        return _evaluate_slices(args, saved)
    slice_options = (args.data, args.text_col, args.label_col, args.top, args.min_rows)
    if any(option is not None for option in slice_options):
        raise HeadlineLabError(
            "--data, --text-col, --label-col, --top and --min-rows go with --by COLUMN; "
            "add --by, or leave them out."
        )
    if args.json:
        print(
            json.dumps(
                {
                    "run_id": saved.run_id,
                    **headline_metrics(saved),
                    "per_class": saved.metrics.to_json()["per_class"],
                    "confusion_matrix": saved.metrics.to_json()["confusion_matrix"],
                },
                indent=2,
            )
        )
        return 0
    print(f"run {saved.run_id} ({saved.config.preset}, {saved.run.dataset})")
    print_metrics(saved)
    return 0


def _evaluate_slices(args: argparse.Namespace, saved: SavedRun) -> int:
    """``evaluate --by COLUMN``: the run's test results per slice of a column of its data."""
    from pipeline.evaluation.slice_scores import MIN_SLICE_ROWS, TOP_VALUES, all_folded_note
    from pipeline.evaluation.slices import run_slices

    table = run_slices(
        saved,
        load_data(args),
        args.by,
        top=TOP_VALUES if args.top is None else args.top,
        min_rows=MIN_SLICE_ROWS if args.min_rows is None else args.min_rows,
    )
    if args.json:
        print(json.dumps({"run_id": saved.run_id, **table.to_json()}, indent=2))
        return 0
    column = table.column
    print(
        f"run {saved.run_id} ({saved.config.preset}, {saved.run.dataset}): test accuracy by "
        f"{column.name} ({column.describe()}; {_SLICE_BINS[table.bins]})"
    )
    print(f"{'value':<30}{'rows':>7}{'accuracy':>10}  {'95% CI':<13}{'errors':>7}{'macro F1':>10}")
    for row in (*table.slices, table.overall):
        _print_slice(row, table.min_rows)
    if column.kind == "categorical":
        print(
            f"shown: the {table.top} most frequent values with at least {table.min_rows} test "
            "rows, worst first; the others are folded into other"
        )
    if any(row.small for row in table.slices):
        print(f"* fewer than {table.min_rows} test rows: too few to trust")
    folded_note = all_folded_note(table, "--min-rows")
    if folded_note:
        print(f"note: {folded_note}")
    return 0


#: How ``evaluate --by`` names a table's bins.
_SLICE_BINS = {
    "values": "one slice per value",
    "quantiles": "quantile bins, [low, high)",
    "week": "weeks starting Monday, UTC",
    "month": "calendar months, UTC",
    "year": "calendar years, UTC",
}


def _print_slice(row: Any, min_rows: int) -> None:
    """One line of the ``evaluate --by`` table (``row``: a
    ``pipeline.evaluation.slice_scores.SliceRow``)."""
    value = f"{row.value} ({row.values:,} values)" if row.other else row.value
    value = (value if len(value) <= 27 else value[:26] + "…") + (" *" if row.small else "")
    f1 = "-" if row.macro_f1 is None else f"{row.macro_f1:.3f}"
    interval = f"{row.ci_low:.3f}–{row.ci_high:.3f}"
    print(f"{value:<30}{row.rows:>7,}{row.accuracy:>10.3f}  {interval:<13}{row.errors:>7,}{f1:>10}")
