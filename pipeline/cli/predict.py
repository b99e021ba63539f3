"""``python -m pipeline predict``: classify headlines, or score a file, with a saved run."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pipeline.cli.options import newest_complete
from pipeline.cli.progress import scoring_progress


def predict_command(args: argparse.Namespace) -> int:
    """``predict``: classify headlines (given, or read from ``--file``) with a saved run,
    or score a whole file into ``--output``; returns 0."""
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

    predictor = Predictor.from_run(registry, args.run_id or newest_complete(registry))
    texts = list(args.texts)
    if args.file is not None:
        from pipeline.data import read_table
        from pipeline.scoring.source import only_text_column

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
    from pipeline.scoring.output import output_format
    from pipeline.scoring.source import open_source

    if args.texts or args.explain:
        raise PredictionError(
            "With --file and --output every row of the file is scored into the output: "
            "leave out the headlines on the command line and --explain."
        )
    output_format(args.output)
    source = open_source(args.file, args.text_col)
    run_id = args.run_id or newest_complete(registry)
    if args.engine == "ray":  # Ray Data draws its own progress bars
        from pipeline.scoring.ray_scoring import score_on_ray

        summary = score_on_ray(registry, run_id, source, args.output, address=args.address)
    else:
        from pipeline.scoring.files import score_file
        from pipeline.scoring.predictor import Predictor

        predictor = Predictor.from_run(registry, run_id)
        progress = scoring_progress(enabled=not args.json)
        try:
            summary = score_file(predictor, source, args.output, on_progress=progress)
        finally:
            progress.close()
    print(json.dumps(summary.to_json()) if args.json else summary.describe())
    return 0
