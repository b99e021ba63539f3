"""``python -m pipeline inspect``: the statistics of a dataset."""

from __future__ import annotations

import argparse
import json

from pipeline.cli.options import load_data
from pipeline.cli.output import name_column


def inspect_command(args: argparse.Namespace) -> int:
    """``inspect``: print the statistics of the dataset (JSON with ``--json``); returns 0."""
    from pipeline.data import default_dataset_stats, inspect_dataset

    dataset = load_data(args, tell_notes=False)  # the report lists them
    if args.data is None:  # the bundled file: its statistics come from its snapshot
        report = default_dataset_stats(args.top, dataset=dataset)
    else:
        report = inspect_dataset(dataset, top_n=args.top)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return 0
    print(f"{dataset.name}: {report.rows:,} rows, columns {', '.join(report.columns)}")
    for note in dataset.notes:
        print(f"note: {note}")
    duplicates = report.duplicates
    print(
        f"duplicated texts: {duplicates.duplicated_rows:,} rows share "
        f"{duplicates.distinct_duplicated_texts:,} texts"
    )
    for row in duplicates.top:
        labels = ", ".join(f"{k} {v}" for k, v in row.labels.items())
        print(f"  {row.count:>5} × {row.text[:70]!r} ({labels})")
    print("classes:")
    code = name_column([row.code for row in report.class_counts])
    name = name_column([row.name for row in report.class_counts])
    named = any(row.code != row.name for row in report.class_counts)  # UCI's b, e, m, t
    for row in report.class_counts:
        label = f"{code(row.code)} {name(row.name)}" if named else name(row.name)
        print(f"  {label} {row.count:>8,} {row.share:6.1%}")
    lengths = report.text_length_words.to_json()
    print("words per text: " + ", ".join(f"{k} {v:g}" for k, v in lengths.items()))
    return 0
