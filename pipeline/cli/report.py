"""``python -m pipeline report``: a saved run's report for stakeholders, as one
self-contained HTML file (:mod:`pipeline.report.html`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.cli.options import newest_complete
from pipeline.core.errors import DatasetError, HeadlineLabError

if TYPE_CHECKING:
    from pipeline.data.dataset import Dataset
    from pipeline.runs.summary import SavedRun

DESCRIPTION = """\
Write a saved run's report as one self-contained HTML file that opens anywhere, offline
(from a mail attachment too): no script, no network request, charts drawn as SVG inside
the file. It holds what was trained (data, settings, device, duration), the class
distribution before and after preparation, test accuracy, balanced accuracy and macro F1
beside the TF-IDF baseline's with the paired 95 % interval of each difference, the
training curves, the per-class table, the confusion matrix, test accuracy per publisher
and per week (worst first, with intervals), the 20 most confident mistakes, and a model
card (intended use, the data's limits, known failures).

The slices need the rows the run was trained on: a run on the bundled data finds them;
for a run on another file, pass it again with --data (and --text-col/--label-col as when
training). Without it the report says so and leaves the slices out.
"""


def report_command(args: argparse.Namespace) -> int:
    """``report``: write the run's report to ``--output``; prints its path, returns 0."""
    from pipeline.report.html import check_output, write_report
    from pipeline.runs.registry import RunRegistry

    output: Path = args.output
    check_output(output)  # before minutes of work, not after
    registry = RunRegistry(args.runs_dir)
    saved = registry.get(args.run_id or newest_complete(registry))
    dataset, reason = _run_data(args, saved)
    write_report(saved, output, dataset, no_dataset_reason=reason)
    print(f"wrote {output} (run {saved.run_id}, {output.stat().st_size / 1e6:.1f} MB)")
    return 0


def _run_data(args: argparse.Namespace, saved: SavedRun) -> tuple[Dataset | None, str | None]:
    """The run's own data for its slices, or ``None`` and why not.

    ``--data`` given: that file, which must be the run's (else an error naming the fix).
    Not given: the bundled data when the run was trained on it.
    """
    from pipeline.cli.options import load_data
    from pipeline.data.bundled import DEFAULT_DATA_PATH
    from pipeline.evaluation.slices import check_same_data

    if args.data is not None:
        dataset = load_data(args)
        check_same_data(saved, dataset)  # the user named it: not the run's is an error
        return dataset, None
    if args.text_col or args.label_col:
        raise HeadlineLabError("--text-col and --label-col go with --data FILE; add --data.")
    if saved.data.dataset != DEFAULT_DATA_PATH.name:
        return None, (
            f"Slices left out: the run was trained on {saved.data.dataset}. To include them, "
            "make the report again with --data naming that file."
        )
    dataset = load_data(args)
    try:
        check_same_data(saved, dataset)
    except DatasetError as exc:
        return None, f"Slices left out: {exc}"
    return dataset, None
