"""Building the ``python -m pipeline`` argument parser: its commands, their flags and
the handler each command runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.cli.evaluate import evaluate_command
from pipeline.cli.inspect_data import inspect_command
from pipeline.cli.options import data_options, load_data, setting_overrides, training_options
from pipeline.cli.predict import predict_command
from pipeline.cli.report import DESCRIPTION as REPORT_DESCRIPTION
from pipeline.cli.report import report_command
from pipeline.cli.review import review_command
from pipeline.cli.runs import runs_command
from pipeline.cli.train import train_command
from pipeline.core.settings import declared


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m pipeline`` parser: every command and its flags, each command's
    handler set as ``args.handler``."""
    parser = argparse.ArgumentParser(
        prog="python -m pipeline", description="Headline Lab: headline classification."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser("inspect", help="statistics of a dataset")
    data_options(inspect)
    inspect.add_argument("--top", type=int, default=10, help="rows in the top-N tables")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(handler=inspect_command)

    train = commands.add_parser("train", help="train (or fetch from the cache) a run")
    data_options(train)
    training_options(train)
    train.add_argument("--runs-dir", type=Path, default=None, help="default: ./runs")
    train.add_argument("--force", action="store_true", help="train even if cached")
    train.add_argument("--resume", metavar="RUN_ID", help="continue a saved run")
    train.add_argument(
        "--allow-other-data",
        action="store_true",
        help="with --resume: continue on data other than the run's own (its vocabulary stays)",
    )
    train.add_argument("--json", action="store_true", help="print the result as JSON")
    train.set_defaults(handler=train_command)

    evaluate = commands.add_parser("evaluate", help="test metrics of a saved run")
    evaluate.add_argument("run_id", nargs="?", help="default: the newest complete run")
    evaluate.add_argument("--runs-dir", type=Path, default=None)
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument(
        "--by",
        metavar="COLUMN",
        help="test accuracy per value of this column of the run's data (e.g. PUBLISHER, "
        "TIMESTAMP); the data is read as with --data",
    )
    data_options(evaluate)
    evaluate.add_argument(
        "--top", type=int, help="with --by: categorical values shown on their own (the rest: other)"
    )
    evaluate.add_argument(
        "--min-rows",
        type=int,
        help="with --by: fewest test rows of a slice worth reading (smaller categorical "
        "slices are folded into other, smaller bins are flagged)",
    )
    evaluate.set_defaults(handler=evaluate_command)

    report = commands.add_parser(
        "report",
        help="write a run's report as one self-contained HTML file",
        description=REPORT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--run", dest="run_id", help="the run's id (default: the newest complete)")
    report.add_argument(
        "--output", type=Path, required=True, metavar="FILE.html", help="the file to write"
    )
    report.add_argument("--runs-dir", type=Path, default=None, help="default: ./runs")
    data_options(report)
    report.set_defaults(handler=report_command)

    from pipeline.core.cluster import ENGINES  # names only: Ray is imported by --engine ray alone

    predict = commands.add_parser("predict", help="classify headlines with a saved run")
    predict.add_argument("texts", nargs="*", help="headlines to classify")
    predict.add_argument("--run", dest="run_id", help="default: the newest complete run")
    predict.add_argument(
        "--file",
        type=Path,
        help="a .csv, .csv.gz or .parquet file, or a folder of them, to classify",
    )
    predict.add_argument("--text-col", help="the file's text column")
    predict.add_argument(
        "--output",
        type=Path,
        help="with --file: score every row into this .parquet, .csv or .csv.gz file "
        "(the file's columns plus the prediction, a note and one probability per class)",
    )
    predict.add_argument("--explain", action="store_true", help="word importance")
    predict.add_argument("--runs-dir", type=Path, default=None)
    predict.add_argument("--json", action="store_true")
    predict.add_argument(
        "--engine",
        choices=ENGINES,
        default=ENGINES[0],
        help="with --file and --output: stream the file through this process (local, the "
        "fastest on one machine) or score it on Ray Data (ray: a local Ray, or --address)",
    )
    predict.add_argument(
        "--address",
        help="with --engine ray: the Ray cluster to join (auto, host:port or "
        "ray://host:10001); default: start a local Ray",
    )
    predict.set_defaults(handler=predict_command)

    runs = commands.add_parser(
        "runs", help="list, delete, export or import saved runs; open TensorBoard on them"
    )
    runs.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "delete", "export", "import", "tensorboard"],
    )
    runs.add_argument(
        "target",
        nargs="?",
        help="run id (delete/export; tensorboard: one run, default every run) or zip (import)",
    )
    runs.add_argument("--output", type=Path, help="zip to write (export)")
    runs.add_argument(
        "--print", action="store_true", help="tensorboard: print the command, do not run it"
    )
    runs.add_argument("--runs-dir", type=Path, default=None)
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler=runs_command)

    review = commands.add_parser(
        "review",
        help="find rows whose label is probably wrong (k-fold, confident learning)",
        description="Score every labelled row with models that never saw it (k-fold "
        "cross-validation), rank the labels with cleanlab and write the file back, most "
        "suspect rows first. Cached per (data, settings) under <runs-dir>/.reviews/.",
    )
    review.add_argument(
        "--data",
        metavar="FILE",
        help="CSV, CSV.gz or newsCorpora.csv (default: the bundled UCI data, 422,937 rows: "
        "expect most of an hour on a 2-core CPU with the default settings; --neural-preset "
        "fast or --models tfidf are quicker)",
    )
    review.add_argument("--text-col", help="text column of a non-UCI file")
    review.add_argument("--label-col", help="label column of a non-UCI file")
    review.add_argument(
        "--output",
        type=Path,
        metavar="CSV",
        help="CSV to write: every row of the file with its own columns plus given_label, "
        "suggested_label, label_quality, is_label_issue, group_mates, agreeing_mates and "
        "p_<label> probabilities, classes "
        "named as in the file's label column; lowest label quality first (rows without a "
        "label last)",
    )
    _review_options(review)
    review.add_argument("--runs-dir", type=Path, default=None, help="cache folder's parent")
    review.add_argument("--force", action="store_true", help="review again even if cached")
    review.add_argument("--top", type=int, default=10, help="suspects listed in the summary")
    review.add_argument("--json", action="store_true", help="print the summary as JSON")
    review.set_defaults(handler=review_command)

    from pipeline.sweep.runner import add_sweep_parser  # no Ray: the sweep imports it when it runs

    add_sweep_parser(
        commands,
        data_options=data_options,
        training_options=training_options,
        load_dataset=load_data,
        setting_overrides=setting_overrides,
    )
    return parser


def _review_options(parser: argparse.ArgumentParser) -> None:
    """One flag per declared review setting (``pipeline.review.settings.ReviewSettings``)."""
    from pipeline.review.settings import ReviewSettings

    group = parser.add_argument_group("review settings")
    for name, spec in declared(ReviewSettings):
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=f"review_{name}",
            metavar=spec.kind.upper()
            if spec.kind != "choice"
            else "{" + ",".join(spec.choices) + "}",
            help=f"{spec.label}: {spec.help} ({spec.allowed()}; default "
            f"{getattr(ReviewSettings(), name)})".replace("%", "%%"),
        )
