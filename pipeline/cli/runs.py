"""``python -m pipeline runs``: list, delete, export or import saved runs; TensorBoard."""

from __future__ import annotations

import argparse
import json
import os
import shlex
from pathlib import Path


def runs_command(args: argparse.Namespace) -> int:
    """``runs``: list, delete, export or import saved runs, or open TensorBoard on them;
    returns 0."""
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
