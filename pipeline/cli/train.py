"""``python -m pipeline train``: train a run, or fetch it from the cache, and report it."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from pipeline.cli.options import load_data, setting_overrides
from pipeline.cli.output import headline_metrics, print_metrics
from pipeline.cli.progress import TrainingProgress
from pipeline.core.presets import get_preset


def train_command(args: argparse.Namespace) -> int:
    """``train``: train a run (or find it in the cache) with a progress bar on stderr and
    print its report; returns 0, or 130 when stopped before its first epoch ended."""
    overrides = setting_overrides(args)
    config = get_preset(args.preset, **overrides)  # checked before TensorFlow loads
    dataset = load_data(args)
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

    bar = TrainingProgress(enabled=not args.json, patience=config.train.patience)
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


def _report_run(args: argparse.Namespace, result: Any) -> int:
    from pipeline.runs.registry import RunRegistry

    saved = RunRegistry(args.runs_dir).get(result.run_id)
    payload = {
        "run_id": result.run_id,
        "run_dir": str(result.run_dir),
        "from_cache": result.from_cache,
        "stopped": result.stopped,
        **headline_metrics(saved),
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
    print_metrics(saved)
    print(f"saved in {result.run_dir}")
    return 0
