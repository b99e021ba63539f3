"""TensorBoard over saved runs, each named so that a person can tell them apart.

Every training writes its curves into its run folder (``<run>/logs/train`` and
``logs/validation``, see :mod:`pipeline.training.fit`). ``tensorboard --logdir runs`` would list
them by run id only; :func:`tensorboard_command` names each one
"family · dataset · date time · id" through TensorBoard's own ``--logdir_spec``
(``name:path`` pairs), so nothing is written or linked on disk. The command line runs
it as ``python -m pipeline runs tensorboard [RUN_ID ...]``; the Results page shows that
command for its run. No TensorFlow here.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.core.errors import HeadlineLabError
from pipeline.runs.files import LOGS_DIR
from pipeline.runs.registry import RunRegistry
from pipeline.runs.summary import RunSummary

#: ``--logdir_spec`` splits on commas and on the first colon of each part.
_SPEC_SEPARATORS = re.compile(r"[,:]+")


def readable_run_name(run: RunSummary) -> str:
    """How TensorBoard lists ``run``: "ngram_bag · uci-news-aggregator.csv.gz ·
    2026-12-04 19h09 · 0123abcd" (no comma or colon, which ``--logdir_spec`` reserves)."""
    created = run.created_at.replace("T", " ")[:16]
    date, _, time = created.partition(" ")
    when = f"{date} {time.replace(':', 'h')}".strip()
    parts = [run.family, run.dataset, when, run.run_id[:8]]
    return " · ".join(_SPEC_SEPARATORS.sub(" ", part).strip() for part in parts if part)


def logdir_spec(registry: RunRegistry, run_ids: Sequence[str] = ()) -> str:
    """``--logdir_spec`` for the runs ``run_ids`` (default: every run with logs that
    ``registry``'s principal may see). :class:`HeadlineLabError` if none has logs."""
    wanted = set(run_ids)
    runs = [
        run
        for run in registry.list_runs()
        if not run.damaged and (not wanted or run.run_id in wanted)
    ]
    missing = wanted - {run.run_id for run in runs}
    if missing:
        raise HeadlineLabError(
            f"No saved run {sorted(missing)[0]} here; list them with 'python -m pipeline runs'."
        )
    parts = [
        f"{readable_run_name(run)}:{(registry.path_of(run.run_id) / LOGS_DIR).resolve()}"
        for run in runs
        if (registry.path_of(run.run_id) / LOGS_DIR).is_dir()
    ]
    if not parts:
        raise HeadlineLabError(
            "No run here has TensorBoard logs (runs imported, or trained without the "
            "tensorboard package, have none); train one first."
        )
    return ",".join(parts)


def tensorboard_command(registry: RunRegistry, run_ids: Sequence[str] = ()) -> list[str]:
    """The command that opens TensorBoard on ``run_ids`` (default: every run), named by
    :func:`readable_run_name`; TensorBoard from this Python's environment."""
    return [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir_spec",
        logdir_spec(registry, run_ids),
    ]


def run_tensorboard_cli(run_id: str, runs_dir: Path | None) -> str:
    """The shell command, run from the project's folder, that opens TensorBoard on the
    run ``run_id`` of ``runs_dir`` (``None``, or the project's ``./runs``: no
    ``--runs-dir``), as the Results page shows it."""
    words = ["python", "-m", "pipeline", "runs", "tensorboard", run_id]
    if runs_dir is not None and Path(runs_dir).resolve() != Path("runs").resolve():
        words += ["--runs-dir", str(runs_dir)]
    return shlex.join(words)
