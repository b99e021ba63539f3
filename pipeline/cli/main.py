"""Command line: ``python -m pipeline inspect|train|evaluate|predict|review|runs|sweep``.

Every command reads the bundled UCI data unless ``--data`` names another file,
prints a readable report (or JSON with ``--json``), and on bad input prints one
line ``error: ...`` to stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shlex
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.config import (
    DEFAULT_PRESET,
    PRESET_DESCRIPTIONS,
    PRESETS,
    SECTIONS,
    get_preset,
)
from pipeline.core.errors import HeadlineLabError
from pipeline.core.memory import limit_malloc_arenas
from pipeline.core.progress import describe_epoch_limit, seconds_left
from pipeline.core.settings import declared
from pipeline.runs.record import MIN_TEST_ROWS_PER_CLASS

if TYPE_CHECKING:
    from pipeline.runs.registry import SavedRun

EXIT_BAD_INPUT = 2
EXIT_UNEXPECTED = 1
EXIT_INTERRUPTED = 130
#: Set to print the traceback of an unexpected error (for a bug report).
DEBUG_ENV = "HEADLINE_LAB_DEBUG"
# TensorFlow's C++ start-up chatter (CPU features, no CUDA driver) is noise on a CLI.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the process exit status."""
    limit_malloc_arenas()  # before TensorFlow's threads allocate (pipeline.core.memory)
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except HeadlineLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a folder not writable, a disk full, a file gone
        print(f"error: {_describe_os_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the promise: one line, never a traceback
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        print(
            f"error: '{args.command}' failed unexpectedly ({type(exc).__name__}: "
            f"{str(exc)[:200]}). This is a bug in Headline Lab: run it again with "
            f"{DEBUG_ENV}=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


def _describe_os_error(exc: OSError) -> str:
    """An OSError in words, with what to do about the usual ones."""
    where = f" ({exc.filename})" if exc.filename else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    hints = {
        errno.EACCES: "check that the folder is writable, or pick another with --runs-dir",
        errno.EROFS: "the file system is read-only; pick another folder with --runs-dir",
        errno.ENOSPC: "free some disk space, or pick another folder with --runs-dir",
        errno.EFBIG: "raise this system's file-size limit (ulimit -f) or pick another --runs-dir",
        errno.ENOENT: "check the path",
    }
    hint = hints.get(exc.errno or 0, "check the path and the disk")
    return f"{reason}{where}; {hint}."


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline", description="Headline Lab: headline classification."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser("inspect", help="statistics of a dataset")
    _data_options(inspect)
    inspect.add_argument("--top", type=int, default=10, help="rows in the top-N tables")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(handler=_inspect)

    train = commands.add_parser("train", help="train (or fetch from the cache) a run")
    _data_options(train)
    _training_options(train)
    train.add_argument("--runs-dir", type=Path, default=None, help="default: ./runs")
    train.add_argument("--force", action="store_true", help="train even if cached")
    train.add_argument("--resume", metavar="RUN_ID", help="continue a saved run")
    train.add_argument(
        "--allow-other-data",
        action="store_true",
        help="with --resume: continue on data other than the run's own (its vocabulary stays)",
    )
    train.add_argument("--json", action="store_true", help="print the result as JSON")
    train.set_defaults(handler=_train)

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
    _data_options(evaluate)
    evaluate.add_argument(
        "--top", type=int, help="with --by: categorical values shown on their own (the rest: other)"
    )
    evaluate.add_argument(
        "--min-rows",
        type=int,
        help="with --by: fewest test rows of a slice worth reading (smaller categorical "
        "slices are folded into other, smaller bins are flagged)",
    )
    evaluate.set_defaults(handler=_evaluate)

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
    predict.set_defaults(handler=_predict)

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
    runs.set_defaults(handler=_runs)

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
        "suggested_label, label_quality, is_label_issue and p_<label> probabilities, classes "
        "named as in the file's label column; lowest label quality first (rows without a "
        "label last)",
    )
    _review_options(review)
    review.add_argument("--runs-dir", type=Path, default=None, help="cache folder's parent")
    review.add_argument("--force", action="store_true", help="review again even if cached")
    review.add_argument("--top", type=int, default=10, help="suspects listed in the summary")
    review.add_argument("--json", action="store_true", help="print the summary as JSON")
    review.set_defaults(handler=_review)

    from pipeline.sweep.runner import add_sweep_parser  # no Ray: the sweep imports it when it runs

    add_sweep_parser(
        commands,
        data_options=_data_options,
        training_options=_training_options,
        load_dataset=_load,
        setting_overrides=_setting_overrides,
    )
    return parser


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="CSV, CSV.gz or newsCorpora.csv (default: bundled UCI)")
    parser.add_argument("--text-col", help="text column of a non-UCI file")
    parser.add_argument("--label-col", help="label column of a non-UCI file")


def _training_options(parser: argparse.ArgumentParser) -> None:
    """One flag per declared setting (``pipeline.core.config``), plus ``--preset`` and
    ``--seed``."""
    group = parser.add_argument_group("settings (default: the preset's)")
    group.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=DEFAULT_PRESET,
        help="; ".join(f"{name}: {text}" for name, text in PRESET_DESCRIPTIONS.items()).replace(
            "%", "%%"
        ),
    )
    group.add_argument("--group-by", choices=["story"], help="same as --split story")
    group.add_argument("--seed", help="seed of both the data split and the training")
    for section_name, section in SECTIONS.items():
        for name, spec in declared(section):
            flag = name if name != "seed" else f"{section_name}_seed"
            group.add_argument(
                "--" + flag.replace("_", "-"),
                dest=f"setting_{flag}",
                metavar=spec.kind.upper()
                if spec.kind != "choice"
                else "{" + ",".join(spec.choices) + "}",
                # argparse %-formats help strings: a literal % must be written %%
                help=f"{spec.label}: {spec.help} ({spec.allowed()})".replace("%", "%%"),
            )


def _load(args: argparse.Namespace) -> Any:
    from pipeline.data import load_dataset, load_default_dataset

    if args.data is None:
        return load_default_dataset()
    return load_dataset(Path(args.data), text_col=args.text_col, label_col=args.label_col)


def _inspect(args: argparse.Namespace) -> int:
    from pipeline.data import default_dataset_stats, inspect_dataset

    dataset = _load(args)
    if args.data is None:  # the bundled file: its statistics come from its snapshot
        report = default_dataset_stats(args.top, dataset=dataset)
    else:
        report = inspect_dataset(dataset, top_n=args.top)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"{dataset.name}: {report['rows']:,} rows, columns {', '.join(report['columns'])}")
    for note in dataset.notes:
        print(f"note: {note}")
    duplicates = report["duplicates"]
    print(
        f"duplicated texts: {duplicates['duplicated_rows']:,} rows share "
        f"{duplicates['distinct_duplicated_texts']:,} texts"
    )
    for row in duplicates["top"]:
        labels = ", ".join(f"{k} {v}" for k, v in row["labels"].items())
        print(f"  {row['count']:>5} × {row['text'][:70]!r} ({labels})")
    print("classes:")
    for row in report["class_counts"]:
        print(f"  {row['code']:>12} {row['name']:<16} {row['count']:>8,} {row['share']:6.1%}")
    lengths = report["text_length_words"]
    print("words per text: " + ", ".join(f"{k} {v:g}" for k, v in lengths.items()))
    return 0


def _train(args: argparse.Namespace) -> int:
    overrides = _setting_overrides(args)
    config = get_preset(args.preset, **overrides)  # checked before TensorFlow loads
    dataset = _load(args)
    # Checked before TensorFlow loads; a cache hit is answered without it.
    from pipeline.runs.ids import resolve_run
    from pipeline.runs.registry import RunRegistry

    registry = RunRegistry(args.runs_dir)
    _, run_id = resolve_run(
        dataset, config, registry, args.resume, allow_other_data=args.allow_other_data
    )
    cached = None if args.force else registry.find_complete(run_id)
    if cached is not None:
        return _report_run(args, _CachedResult(run_id, cached.path))
    from pipeline.training.train import TrainingStopped, train_run

    bar = _ProgressBar(enabled=not args.json, patience=config.train.patience)
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = train_run(
                dataset,
                config,
                runs_dir=args.runs_dir,
                on_progress=bar.update,
                stop_event=stop,
                force=args.force,
                parent_run_id=args.resume,
                allow_other_data=args.allow_other_data,
            )
        except BaseException as exc:  # re-raised on the main thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="train")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        print("\nstopping after this batch (best epoch kept)…", file=sys.stderr)
        stop.set()
        worker.join()
    bar.close()
    if "error" in outcome:
        if isinstance(outcome["error"], TrainingStopped):
            print(f"error: {outcome['error']}", file=sys.stderr)
            return 130
        raise outcome["error"]
    return _report_run(args, outcome["result"])


class _CachedResult:
    """A :class:`pipeline.training.train.TrainResult` look-alike for a run found in the cache."""

    def __init__(self, run_id: str, run_dir: Path) -> None:
        self.run_id, self.run_dir = run_id, run_dir
        self.from_cache, self.stopped = True, False


def _setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, as strings for ``get_preset`` to check."""
    overrides = {
        key.removeprefix("setting_"): value
        for key, value in vars(args).items()
        if key.startswith("setting_") and value is not None
    }
    if args.group_by:
        overrides["split"] = "story"
    if args.seed is not None:
        overrides.setdefault("data_seed", args.seed)
        overrides.setdefault("train_seed", args.seed)
    return overrides


def _report_run(args: argparse.Namespace, result: Any) -> int:
    from pipeline.runs.registry import RunRegistry

    saved = RunRegistry(args.runs_dir).get(result.run_id)
    payload = {
        "run_id": result.run_id,
        "run_dir": str(result.run_dir),
        "from_cache": result.from_cache,
        "stopped": result.stopped,
        **_headline_metrics(saved),
    }
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    origin = (
        "loaded from cache (same data and settings)"
        if result.from_cache
        else ("stopped; best epoch kept" if result.stopped else "trained")
    )
    print(f"run {result.run_id}: {origin}")
    _print_metrics(saved)
    print(f"saved in {result.run_dir}")
    return 0


def _headline_metrics(saved: SavedRun) -> dict[str, Any]:
    metrics = saved.metrics
    return {
        "test_accuracy": metrics.test_accuracy,
        "balanced_accuracy": metrics.balanced_accuracy,
        "test_loss": metrics.test_loss,
        "macro_f1": metrics.macro_f1,
        "test_set": saved.config.experiment.data.test_set,
        "test_rows": metrics.n_test,
        "baseline_accuracy": metrics.baseline.test_accuracy if metrics.baseline else None,
        # model minus baseline on the same test rows, 95 % paired bootstrap intervals
        "vs_baseline": metrics.vs_baseline.to_json() if metrics.vs_baseline else None,
        "epochs": len(saved.history),
        "best_epoch": saved.run.best_epoch,
        "duration_s": saved.run.duration_s,
        "device": saved.run.device,
        "origin": saved.run.origin,
    }


def _print_metrics(saved: SavedRun) -> None:
    head = _headline_metrics(saved)
    loss = "-" if head["test_loss"] is None else f"{head['test_loss']:.4f}"
    baseline = "-" if head["baseline_accuracy"] is None else f"{head['baseline_accuracy']:.4f}"
    balanced = "-" if head["balanced_accuracy"] is None else f"{head['balanced_accuracy']:.4f}"
    print(
        f"test accuracy {head['test_accuracy']:.4f}, balanced accuracy {balanced}, "
        f"loss {loss}, macro F1 {head['macro_f1']:.4f} (baseline accuracy {baseline})"
    )
    print(f"test set: {head['test_set']}, {head['test_rows']:,} rows")
    if saved.metrics.vs_baseline is not None:
        for sentence in saved.metrics.vs_baseline.sentences():
            print(sentence)
    thin = saved.metrics.thin_classes()
    if thin:
        listing = ", ".join(f"{saved.labels.name(code)} ({n})" for code, n in thin.items())
        print(
            f"warning: fewer than {MIN_TEST_ROWS_PER_CLASS} test rows in {listing}: their "
            "scores are noisy; raise --test-size or use --test-set stratified"
        )
    print(
        f"{head['epochs']} epochs (best {head['best_epoch']}), "
        f"{head['duration_s']:.0f} s on {head['device']}"
    )
    print(f"{'class':<18}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for row in saved.metrics.per_class.values():
        print(
            f"{row.name[:18]:<18}{row.precision:>10.3f}{row.recall:>10.3f}"
            f"{row.f1:>10.3f}{row.support:>10,}"
        )


def _newest_complete(registry: Any) -> str:
    from pipeline.core.errors import RunNotFoundError

    for run in registry.list_runs():
        if run.status == "complete":
            return run.run_id
    raise RunNotFoundError(
        f"No complete run in {registry.root}; train one first: python -m pipeline train"
    )


def _evaluate(args: argparse.Namespace) -> int:
    from pipeline.runs.registry import RunRegistry

    registry = RunRegistry(args.runs_dir)
    saved = registry.get(args.run_id or _newest_complete(registry))
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
                    **_headline_metrics(saved),
                    "per_class": saved.metrics.to_json()["per_class"],
                    "confusion_matrix": saved.metrics.to_json()["confusion_matrix"],
                },
                indent=2,
            )
        )
        return 0
    print(f"run {saved.run_id} ({saved.config.preset}, {saved.run.dataset})")
    _print_metrics(saved)
    return 0


def _evaluate_slices(args: argparse.Namespace, saved: SavedRun) -> int:
    """``evaluate --by COLUMN``: the run's test results per slice of a column of its data."""
    from pipeline.evaluation.slice_scores import MIN_SLICE_ROWS, TOP_VALUES
    from pipeline.evaluation.slices import run_slices

    table = run_slices(
        saved,
        _load(args),
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


def _predict(args: argparse.Namespace) -> int:
    from pipeline.core.errors import PredictionError
    from pipeline.runs.registry import RunRegistry

    if args.address is not None and args.engine != "ray":
        raise PredictionError("--address is for --engine ray: add --engine ray, or leave it out.")
    registry = RunRegistry(args.runs_dir)
    if args.file is not None and args.output is not None:
        return _score_file(args, registry)
    if args.engine == "ray":
        raise PredictionError(
            "--engine ray scores a file: give --file and --output (a .parquet, .csv or "
            ".csv.gz file)."
        )
    from pipeline.scoring.predictor import Predictor

    predictor = Predictor.from_run(registry, args.run_id or _newest_complete(registry))
    texts = list(args.texts)
    if args.file is not None:
        from pipeline.data import read_table
        from pipeline.scoring.files import only_text_column

        table = read_table(args.file)
        column = args.text_col or only_text_column(table.frame.columns)
        if column not in table.frame.columns:
            raise PredictionError(
                f"Column {column!r} is not in {args.file.name}; columns: "
                f"{', '.join(map(str, table.frame.columns))}. Pass --text-col."
            )
        texts += table.frame[column].tolist()
    if not texts:
        raise PredictionError("Give headlines to classify, or --file with a CSV of them.")
    frame = predictor.predict(texts)
    if args.output is not None:
        frame.to_csv(args.output, index=False)
    if args.json:
        rows = frame.to_dict(orient="records")
        if args.explain:
            for row in rows:
                row["words"] = [
                    (w.word, round(w.importance, 4)) for w in predictor.word_importance(row["text"])
                ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for row in frame.itertuples():
        print(f"{row.label_name or '(no words)':<16} {row.confidence:6.1%}  {row.text}")
        if args.explain and row.label:
            words = predictor.word_importance(row.text)
            print("    " + " ".join(f"{w.word}({w.importance:+.2f})" for w in words))
    return 0


def _score_file(args: argparse.Namespace, registry: Any) -> int:
    """``predict --file IN --output OUT``: every row of IN scored into OUT, in bounded
    memory (pipeline.scoring.files), on this process or on Ray; prints a summary line."""
    from pipeline.core.errors import PredictionError
    from pipeline.scoring.files import open_source, output_format

    if args.texts or args.explain:
        raise PredictionError(
            "With --file and --output every row of the file is scored into the output: "
            "leave out the headlines on the command line and --explain."
        )
    output_format(args.output)
    source = open_source(args.file, args.text_col)
    run_id = args.run_id or _newest_complete(registry)
    if args.engine == "ray":  # Ray Data draws its own progress bars
        from pipeline.scoring.ray_scoring import score_on_ray

        summary = score_on_ray(registry, run_id, source, args.output, address=args.address)
    else:
        from pipeline.scoring.files import score_file
        from pipeline.scoring.predictor import Predictor

        predictor = Predictor.from_run(registry, run_id)
        summary = score_file(predictor, source, args.output, on_progress=_scoring_progress())
    print(json.dumps(summary.to_json()) if args.json else summary.describe())
    return 0


def _scoring_progress() -> Any:
    """A progress callback for :func:`pipeline.scoring.files.score_file` that prints rows done
    and rows/s on stderr, at most once a second."""
    last = 0.0

    def show(progress: Any) -> None:
        nonlocal last
        if progress.seconds - last >= 1.0:
            last = progress.seconds
            print(
                f"scored {progress.rows:,} rows ({progress.rows_per_second:,.0f} rows/s)",
                file=sys.stderr,
                flush=True,
            )

    return show


def _runs(args: argparse.Namespace) -> int:
    from pipeline.core.errors import HeadlineLabError
    from pipeline.runs.registry import RunRegistry

    registry = RunRegistry(args.runs_dir)
    if args.action == "list":
        runs = registry.list_runs()
        if args.json:
            print(json.dumps([run.to_json() for run in runs], indent=2))
        elif not runs:
            print(f"no runs in {registry.root}")
        for run in runs if not args.json else []:
            if run.damaged:
                print(f"{run.run_id}  DAMAGED: {run.problem}")
                continue
            accuracy = "-" if run.accuracy is None else f"{run.accuracy:.4f}"
            origin = "  (imported)" if run.origin == "imported" else ""
            print(
                f"{run.run_id}  {run.created_at}  {run.preset:<5} {run.family:<8} "
                f"{run.status:<8} acc {accuracy}  {run.epochs:>3} ep  "
                f"{run.duration_s:7.0f} s  {run.dataset}{origin}"
            )
        return 0
    if args.action == "tensorboard":
        from pipeline.runs.tensorboard import tensorboard_command

        command = tensorboard_command(registry, [args.target] if args.target else [])
        if args.print:
            print(shlex.join(command))
            return 0
        os.execv(command[0], command)  # TensorBoard takes over this process
    if not args.target:
        raise HeadlineLabError(f"'runs {args.action}' needs a run id or a zip file.")
    if args.action == "delete":
        registry.delete(args.target)
        print(f"deleted {args.target}")
    elif args.action == "export":
        output = args.output or Path(f"headline-lab-run-{args.target}.zip")
        output.write_bytes(registry.export_zip(args.target))
        print(f"wrote {output}")
    else:
        path = Path(args.target)
        if not path.is_file():
            raise HeadlineLabError(f"No file {path}; give the path of a run zip to import.")
        print(f"imported {registry.import_zip(path.read_bytes())}")
    return 0


def _review_options(parser: argparse.ArgumentParser) -> None:
    """One flag per declared review setting (``pipeline.review.label_review.ReviewSettings``)."""
    from pipeline.review.label_review import ReviewSettings

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


def _review(args: argparse.Namespace) -> int:
    from pipeline.review.label_review import ReviewSettings

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
    from pipeline.data import DEFAULT_DATA_PATH, load_dataset, read_table

    raw = read_table(Path(args.data) if args.data else DEFAULT_DATA_PATH)
    dataset = load_dataset(raw, text_col=args.text_col, label_col=args.label_col)
    from pipeline.review.label_review import reviewed_table, run_review

    progress = _ReviewProgressLine(enabled=not args.json)
    review = run_review(
        dataset, settings, runs_dir=args.runs_dir, on_progress=progress.update, force=args.force
    )
    progress.close()
    table = reviewed_table(raw.frame, dataset, review)
    if args.output is not None:
        table.to_csv(args.output, index=False)
    summary = {
        **review.summary,
        "rows": len(table),
        "reviewed_rows": review.summary["rows"],
        "unreviewed_rows": len(table) - review.summary["rows"],
        "output": None if args.output is None else str(args.output),
    }
    suspects = table.head(max(0, min(args.top, review.summary["rows"])))
    text_col = dataset.text_col
    if args.json:
        summary["suspects"] = [
            {
                "text": row[text_col],
                "given_label": row["given_label"],
                "suggested_label": row["suggested_label"],
                "label_quality": float(row["label_quality"]),
            }
            for _, row in suspects.iterrows()
        ]
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    _print_review(summary, suspects, text_col)
    return 0


def _print_review(summary: dict[str, Any], suspects: Any, text_col: str) -> None:
    names = summary["label_names"]
    how = "loaded from cache" if summary["from_cache"] else f"{summary['seconds']:.0f} s"
    settings = summary["settings"]
    neural = f" ({settings['neural_preset']} neural)" if settings["models"] != "tfidf" else ""
    print(
        f"{summary['dataset']}: {summary['rows']:,} rows, {summary['reviewed_rows']:,} reviewed "
        f"by {summary['folds']}-fold {settings['models']}{neural} ({how})"
    )
    share = summary["issues"] / max(summary["reviewed_rows"], 1)
    print(
        f"out-of-sample accuracy {summary['out_of_sample_accuracy']:.4f}; "
        f"{summary['issues']:,} rows flagged as label issues ({share:.1%})"
    )
    for row in summary["per_class"].values():
        print(f"  {row['name'][:18]:<18} {row['rows']:>8,} rows {row['issues']:>7,} flagged")
    print(f"top {len(suspects)} suspects (lowest label quality first):")
    for _, row in suspects.iterrows():
        given = names.get(row["given_label"], row["given_label"])
        suggested = names.get(row["suggested_label"], row["suggested_label"])
        print(f"  {row['label_quality']:.4f}  {given} -> {suggested}: {str(row[text_col])[:80]}")
    if summary["unreviewed_rows"]:
        print(
            f"note: {summary['unreviewed_rows']:,} rows without a label were not reviewed; "
            "they come last, their label quality empty"
        )
    if summary["output"]:
        print(f"wrote {summary['output']} ({summary['rows']:,} rows, most suspect first)")


class _ReviewProgressLine:
    """The review's progress on one stderr line: fold, model, epoch."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = ""

    def update(self, progress: Any) -> None:
        if self.enabled and progress.message != self.last:
            self.last = progress.message
            sys.stderr.write(f"\r{progress.message[:100]:<100}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()


class _ProgressBar:
    """A one-line text progress bar on stderr, redrawn at most 10 times a second.

    It shows the step the training is in (rows vectorized, batches of the epoch
    or of its validation, test rows scored) and the time left for that step only:
    how many epochs run is up to early stopping.
    """

    WIDTH = 24

    def __init__(self, enabled: bool, patience: int | None = None) -> None:
        self.enabled = enabled
        self.patience = patience
        self.last = 0.0
        self.step = ""
        self.step_started = time.perf_counter()

    def update(self, event: Any) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if event.kind in {"end", "phase"}:
            sys.stderr.write(f"\r{event.message:<100}\n")
            self.step = ""
            return
        if event.kind == "rows":
            step, unit = event.message, "rows"
            done, total = event.done, event.total
        else:
            validating = event.kind == "validation"
            step = f"{'validating ' if validating else ''}epoch {event.epoch}"
            unit, done, total = "batches", event.batch, event.batches
        if step != self.step:
            self.step, self.step_started = step, now
        elif event.kind != "epoch" and done < total and now - self.last < 0.1:
            return
        self.last = now
        fraction = event.step_fraction
        filled = int(self.WIDTH * fraction)
        left = seconds_left(self.step_started, fraction, now)
        line = f"\r{step} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:,}/{total:,} {unit}"
        if event.kind in {"batch", "epoch"}:
            line += " " + " ".join(f"{k} {v:.4f}" for k, v in event.logs.items())
        if left is not None and fraction < 1.0:
            line += f" | {left:4.0f} s left in this step"
        sys.stderr.write(line[:160].ljust(100))
        if event.kind == "epoch":
            limit = describe_epoch_limit(event.epoch, event.epochs, self.patience)
            sys.stderr.write(f"\n  {limit}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
