"""``python -m pipeline review``: rows whose label is probably wrong, by k-fold scoring."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.cli.options import load_data
from pipeline.cli.output import name_column
from pipeline.cli.progress import ReviewProgressBar
from pipeline.core.errors import HeadlineLabError

if TYPE_CHECKING:
    from pipeline.review.summary import ReviewSummary


def review_command(args: argparse.Namespace) -> int:
    """``review``: find the rows whose label is probably wrong, write the reviewed file
    with ``--output`` and print a summary (JSON with ``--json``); returns 0."""
    from pipeline.review.settings import ReviewSettings

    settings = ReviewSettings.from_dict(
        {
            key.removeprefix("review_"): value
            for key, value in vars(args).items()
            if key.startswith("review_")
        }
    )
    if args.output is not None and not args.output.parent.is_dir():
        raise HeadlineLabError(
            f"The folder of --output ({args.output.parent}) does not exist; create it or "
            "write the review elsewhere."
        )
    from pipeline.data import DEFAULT_DATA_PATH, read_table

    raw = read_table(Path(args.data) if args.data else DEFAULT_DATA_PATH)
    dataset = load_data(args, raw=raw)
    from pipeline.review.run import run_review
    from pipeline.review.table import reviewed_table

    progress = ReviewProgressBar(enabled=not args.json)
    review = run_review(
        dataset, settings, runs_dir=args.runs_dir, on_progress=progress.update, force=args.force
    )
    progress.close()
    table = reviewed_table(raw.frame, dataset, review)
    if args.output is not None:
        table.to_csv(args.output, index=False)
    reviewed = review.summary
    output = None if args.output is None else str(args.output)
    suspects = table.head(max(0, min(args.top, reviewed.reviewed_rows)))
    text_col = dataset.text_col
    if args.json:
        document = {
            **reviewed.to_json(),
            "rows": len(table),
            "reviewed_rows": reviewed.reviewed_rows,
            "unreviewed_rows": len(table) - reviewed.reviewed_rows,
            "caution": reviewed.caution(),
            "output": output,
            "suspects": [
                {
                    "text": row[text_col],
                    "given_label": row["given_label"],
                    "suggested_label": row["suggested_label"],
                    "label_quality": float(row["label_quality"]),
                    "group_mates": int(row["group_mates"]),
                    "agreeing_mates": int(row["agreeing_mates"]),
                }
                for _, row in suspects.iterrows()
            ],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    _print_review(reviewed, len(table), output, suspects, text_col)
    return 0


def _print_review(
    summary: ReviewSummary, rows: int, output: str | None, suspects: Any, text_col: str
) -> None:
    """The review in words: ``summary`` of a file of ``rows`` rows (those without a label
    were not reviewed), the reviewed file written to ``output``, the top ``suspects``."""
    how = "loaded from cache" if summary.from_cache else f"{summary.seconds or 0.0:.0f} s"
    settings = summary.settings
    neural = f" ({settings.neural_preset} neural)" if settings.models != "tfidf" else ""
    print(
        f"{summary.dataset}: {rows:,} rows, {summary.reviewed_rows:,} reviewed "
        f"by {summary.folds}-fold {settings.models}{neural} ({how})"
    )
    share = summary.issues / max(summary.reviewed_rows, 1)
    print(
        f"out-of-sample accuracy {summary.out_of_sample_accuracy:.4f}; "
        f"{summary.issues:,} rows flagged as label issues ({share:.1%})"
    )
    name = name_column([row.name for row in summary.per_class.values()])
    for row in summary.per_class.values():
        print(f"  {name(row.name)} {row.rows:>8,} rows {row.issues:>7,} flagged")
    print(f"top {len(suspects)} suspects (lowest label quality first):")
    for _, row in suspects.iterrows():
        given, suggested = summary.name(row["given_label"]), summary.name(row["suggested_label"])
        print(f"  {row['label_quality']:.4f}  {given} -> {suggested}: {str(row[text_col])[:80]}")
    if rows > summary.rows:
        print(
            f"note: {rows - summary.rows:,} rows without a label were not reviewed; "
            "they come last, their label quality empty"
        )
    for note in (summary.caution(), summary.unreviewed_note()):
        if note:
            print(f"note: {note}")
    if output:
        print(f"wrote {output} ({rows:,} rows, most suspect first)")
