"""``python -m pipeline sweep``: search model settings on Ray Tune, every trial a real run.

::

    python -m pipeline sweep --trials 8 [--families ngram_bag,cnn] [--time-budget 3600]
        [--address auto|host:6379|ray://host:10001] [the data options and settings of train]

Engine
    Ray only (``--engine ray``, the default and the one choice): Tune runs the trials,
    each a Ray actor with ``--cpus-per-trial`` CPUs (default 1), as many at once as the
    CPUs allow. Without ``--address`` a local Ray starts inside the command, sized to
    this machine; with one, the trials run on that cluster. Ray is an optional extra
    (``requirements-cluster.txt``); only this command imports it. A single run without
    Ray is ``python -m pipeline train``.
Space
    The searched settings are declared once in :data:`pipeline.sweep.space.SEARCHED`
    (family, learning rate, n-gram and word embedding widths, dropout, weight decay),
    each sampled from its own declaration: choices for a choice, a log scale for a rate
    or a width, steps of the declared step for a share. ``--families`` narrows the
    families; a searched setting given as a flag (``--dropout 0.3``) is held at that
    value; every other setting is the preset's, with the flags applied, the epoch limit
    included. ``--search-seed`` seeds the sampling: the same command samples the same
    trials.
Scheduler
    ASHA on validation loss (one report per epoch): a trial whose loss is in the worst
    part at an early epoch is stopped. A stopped trial ends like a press of Stop in the
    app: after its current batch, its best epoch kept, its run saved with status
    ``stopped``. ``--time-budget S`` stops every trial still running after S seconds
    (saved the same way when it finished an epoch). Each run also keeps Keras' own
    early stopping.
Cache
    Every trial is a real run in the runs folder (shown on the Runs and Results pages
    beside hand-made runs). A trial whose run is already complete there (same data,
    same settings: same run id) trains nothing: its saved epochs are replayed to the
    scheduler and it is listed as ``cached``, so running a sweep again costs seconds.
    A trial the scheduler stopped is not complete: a rerun trains it again (and the
    scheduler usually stops it at the same epoch). The TF-IDF baseline is fitted once,
    by the command, before the trials start.
Leaderboard
    The baseline on top for reference, then the trials by validation loss, with test
    accuracy and macro F1, epochs, status and seconds; ``--json`` prints it as JSON.
A real cluster
    The dataset travels from the command to the trials through Ray's object store
    (without the columns that only ``evaluate --by`` reads), but
    ``--runs-dir`` must be storage that every node and the command share (NFS, a mounted
    bucket): the trials write their runs there, and the command reads them back for the
    leaderboard. Every node needs this project's requirements installed (TensorFlow,
    Keras, ...); the ``pipeline`` package itself is shipped by :mod:`pipeline.core.cluster`.
    A trial reports its end only once its run is saved: after its last epoch, or when
    ASHA stopped it at a rung (:mod:`pipeline.sweep.scheduler`: a marker file in
    ``--runs-dir``'s ``.sweep-stops/`` that the trial acts on). A trial that the time
    budget stops as the sweep ends has the ten seconds Tune gives a stopping actor.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.core.config import ExperimentConfig
from pipeline.core.errors import ConfigError
from pipeline.core.presets import get_preset
from pipeline.sweep.leaderboard import Leaderboard, TrialRow, baseline_scores, ranked, trial_row
from pipeline.sweep.space import SEARCHED, declaration, family_choices, searched_names

#: ``--engine`` choices of a sweep: Ray only (see the module docstring).
SWEEP_ENGINES = ("ray",)
#: Where, in the runs folder, each sweep keeps its scheduler's stop markers (removed after).
STOPS_FOLDER = ".sweep-stops"
#: ASHA: epochs every trial runs before it can be stopped, and the share kept at each
#: rung (1 / this); both measured in epochs (one Tune iteration per epoch).
GRACE_EPOCHS = 2
REDUCTION_FACTOR = 3


def add_sweep_parser(
    commands: Any,
    *,
    data_options: Callable[[argparse.ArgumentParser], None],
    training_options: Callable[[argparse.ArgumentParser], None],
    load_dataset: Callable[[argparse.Namespace], Any],
    setting_overrides: Callable[[argparse.Namespace], dict[str, Any]],
) -> None:
    """Add the ``sweep`` command to ``commands`` (argparse sub-parsers).

    ``data_options`` and ``training_options`` add the flags ``train`` has;
    ``load_dataset`` and ``setting_overrides`` read them back (the CLI's own helpers).
    """
    sweep = commands.add_parser(
        "sweep",
        help="search model settings on Ray Tune (ASHA on validation loss); every trial a run",
        description=(__doc__ or "").split("\n\n")[0].replace("%", "%%"),
    )
    data_options(sweep)
    training_options(sweep)
    group = sweep.add_argument_group("sweep")
    group.add_argument(
        "--engine",
        choices=SWEEP_ENGINES,
        default="ray",
        help="a sweep runs on Ray Tune only (train runs one setting without Ray)",
    )
    group.add_argument(
        "--address",
        help="join this Ray cluster (auto, host:6379 or ray://host:10001); "
        "default: start a local Ray sized to this machine",
    )
    group.add_argument(
        "--trials", type=_positive(int), required=True, metavar="N", help="trials to sample"
    )
    group.add_argument(
        "--families",
        help="comma-separated model families to sample from (default: every family: "
        + ", ".join(declaration("family").choices)
        + ")",
    )
    group.add_argument(
        "--time-budget",
        type=_positive(float),
        metavar="S",
        help="stop every trial still running after S seconds (default: no limit)",
    )
    group.add_argument(
        "--search-seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the sampled settings (default 0)",
    )
    group.add_argument(
        "--cpus-per-trial",
        type=_positive(int),
        default=1,
        metavar="N",
        help="CPUs each trial gets (default 1)",
    )
    sweep.add_argument("--runs-dir", type=Path, default=None, help="default: ./runs")
    sweep.add_argument("--json", action="store_true", help="print the leaderboard as JSON")
    sweep.set_defaults(
        handler=partial(
            _sweep_command, load_dataset=load_dataset, setting_overrides=setting_overrides
        )
    )


def run_sweep(
    dataset: Any,
    base: ExperimentConfig,
    *,
    trials: int,
    families: list[str] | None = None,
    fixed: frozenset[str] = frozenset(),
    time_budget_s: float | None = None,
    address: str | None = None,
    runs_dir: str | Path | None = None,
    search_seed: int = 0,
    cpus_per_trial: int = 1,
) -> Leaderboard:
    """Run ``trials`` trials of the searched settings on Ray Tune; their leaderboard.

    Parameters
    ----------
    dataset : pipeline.data.Dataset
        The loaded data, shared by every trial.
    base : ExperimentConfig
        Every setting that is not sampled (the epoch limit is ASHA's ``max_t``).
    families : list of str, optional
        The families to sample from (default: all).
    fixed : frozenset of str
        Searched settings held at ``base``'s value.
    time_budget_s, address, runs_dir, search_seed, cpus_per_trial
        As the command's flags.

    Raises
    ------
    ConfigError, DatasetError
        Bad settings, or data that the data settings cannot split.
    pipeline.core.cluster.ClusterError
        Ray is missing or the cluster cannot be reached.
    """
    from pipeline.core.cluster import ClusterError, ray_session
    from pipeline.data import fingerprint
    from pipeline.data.prepare import prepare
    from pipeline.runs.registry import RunRegistry

    started = time.perf_counter()
    family_choices(families)  # checked before anything starts
    registry = RunRegistry(Path(runs_dir or RunRegistry().root).resolve())
    data_fingerprint = fingerprint(dataset)
    prepared = prepare(dataset, base.data)  # bad data settings fail here, before Ray
    with ray_session(address) as ray:
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus_per_trial > cpus:
            raise ClusterError(
                f"Each trial asks for {cpus_per_trial} CPUs but the Ray cluster has {cpus:g}; "
                "lower --cpus-per-trial."
            )
        baseline = _fit_baseline(prepared, base, registry.root, data_fingerprint)
        del prepared
        results = _tune(
            # the trials train on text and label only: the other columns stay here
            dataclasses.replace(dataset, other_columns=dataset.other_columns.iloc[:, :0]),
            base,
            trials=trials,
            families=families,
            fixed=fixed,
            time_budget_s=time_budget_s,
            runs_dir=registry.root,
            data_fingerprint=data_fingerprint,
            search_seed=search_seed,
            cpus_per_trial=cpus_per_trial,
        )
    from pipeline.runs.ids import make_run_id
    from pipeline.sweep.space import trial_config

    searched = searched_names(families, fixed)
    rows = []
    for sampled, metrics in results:
        config = trial_config(base, sampled)
        run_id = make_run_id(data_fingerprint, config, None)
        rows.append(
            trial_row(
                registry,
                run_id,
                config,
                searched,
                cached=bool(metrics.get("cached")),
                error=metrics.get("error"),
                reported_epoch=metrics.get("epoch"),
            )
        )
    return Leaderboard(
        dataset=dataset.name,
        searched=searched,
        baseline=baseline_scores(baseline),
        trials=ranked(rows),
        runs_dir=str(registry.root),
        seconds=round(time.perf_counter() - started, 1),
    )


def _tune(
    dataset: Any,
    base: ExperimentConfig,
    *,
    trials: int,
    families: list[str] | None,
    fixed: frozenset[str],
    time_budget_s: float | None,
    runs_dir: Path,
    data_fingerprint: str,
    search_seed: int,
    cpus_per_trial: int,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Run the trials on the connected Ray; ``(sampled settings, last result)`` of each."""
    from ray import tune
    from ray.tune.search.basic_variant import BasicVariantGenerator

    from pipeline.sweep.scheduler import SaveThenStopASHA
    from pipeline.sweep.space import tune_space
    from pipeline.sweep.trial import SweepTrial

    # The scheduler's stop markers: in the runs folder, which every node shares.
    (runs_dir / STOPS_FOLDER).mkdir(parents=True, exist_ok=True)
    stops = tempfile.TemporaryDirectory(prefix="sweep-", dir=runs_dir / STOPS_FOLDER)
    trainable = tune.with_resources(
        tune.with_parameters(
            SweepTrial,
            dataset=dataset,
            base=base,
            data_fingerprint=data_fingerprint,
            runs_dir=str(runs_dir),  # absolute: Tune runs each trial in a folder of its own
            threads=cpus_per_trial,
            stop_dir=stops.name,
        ),
        {"cpu": cpus_per_trial},
    )
    epochs = base.train.epochs
    scheduler = SaveThenStopASHA(
        stop_dir=stops.name,
        max_t=epochs,
        grace_period=min(GRACE_EPOCHS, epochs),
        reduction_factor=REDUCTION_FACTOR,
    )
    # Tune's own files (trial results, experiment state) are scaffolding: the runs are
    # the record, so they go to a folder removed afterwards.
    with stops, tempfile.TemporaryDirectory(prefix="headline-lab-sweep-") as scratch:
        tuner = tune.Tuner(
            trainable,
            param_space=tune_space(families, fixed),
            tune_config=tune.TuneConfig(
                metric="val_loss",
                mode="min",
                num_samples=trials,
                scheduler=scheduler,
                search_alg=BasicVariantGenerator(random_state=search_seed),
                time_budget_s=time_budget_s,
                reuse_actors=True,  # a trial's actor keeps TensorFlow imported for the next
            ),
            run_config=tune.RunConfig(
                name="sweep",
                storage_path=scratch,
                verbose=1,
                checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False),
            ),
        )
        # Tune's progress goes to stderr: stdout is the leaderboard's (--json).
        with contextlib.redirect_stdout(sys.stderr):
            grid = tuner.fit()
    with contextlib.suppress(OSError):  # unless another sweep on this folder still runs
        (runs_dir / STOPS_FOLDER).rmdir()
    outcomes = []
    for result in grid:
        metrics = dict(result.metrics or {})
        if result.error is not None and "error" not in metrics:  # the trial's actor died
            metrics["error"] = f"{type(result.error).__name__}: {str(result.error)[:200]}"
        outcomes.append((dict(result.config or {}), metrics))
    return outcomes


def _fit_baseline(
    prepared: Any, base: ExperimentConfig, runs_root: Path, data_fingerprint: str
) -> dict[str, Any] | None:
    """The TF-IDF baseline's score on the sweep's split: from its cache, or fitted now
    and cached where every trial's training looks for it (so none fits it again)."""
    from pipeline.training.baseline import (
        BaselineFit,
        baseline_key,
        start_baseline,
        wait_for_baseline,
    )

    key = baseline_key(data_fingerprint, dataclasses.asdict(base.data))
    baseline = start_baseline(prepared, runs_root / ".baselines", key)
    if isinstance(baseline, BaselineFit):
        _note("fitting the TF-IDF baseline, once for every trial…")
    try:
        return wait_for_baseline(baseline, threading.Event())
    finally:
        if isinstance(baseline, BaselineFit):
            baseline.cancel()  # a no-op once it is done


def _sweep_command(
    args: argparse.Namespace,
    *,
    load_dataset: Callable[[argparse.Namespace], Any],
    setting_overrides: Callable[[argparse.Namespace], dict[str, Any]],
) -> int:
    """The ``sweep`` command: check the flags, load the data, sweep, print the leaderboard."""
    overrides = setting_overrides(args)
    base = get_preset(args.preset, **overrides)  # checked before the data loads
    families = None
    if args.families is not None:
        if "family" in overrides:
            raise ConfigError("Give --family (one family) or --families (several), not both.")
        families = family_choices([n.strip() for n in args.families.split(",") if n.strip()])
    elif "family" in overrides:  # one family: only the settings it uses are searched
        families = [base.model.family]
    fixed = frozenset(name for name in overrides if name in {item.name for item in SEARCHED})
    leaderboard = run_sweep(
        load_dataset(args),
        base,
        trials=args.trials,
        families=families,
        fixed=fixed,
        time_budget_s=args.time_budget,
        address=args.address,
        runs_dir=args.runs_dir,
        search_seed=args.search_seed,
        cpus_per_trial=args.cpus_per_trial,
    )
    if args.json:
        print(json.dumps(leaderboard.to_json(), indent=2))
    else:
        print_leaderboard(leaderboard)
    return 0


def print_leaderboard(board: Leaderboard) -> None:
    """The leaderboard as a table on stdout: the baseline first, then the trials."""
    print(
        f"sweep of {len(board.trials)} trials on {board.dataset} in {board.seconds:.0f} s; "
        f"searched: {', '.join(board.searched) or 'nothing'}"
    )
    print(
        f"{'rank':>4}  {'run id':<16}  {'family':<14}{'val loss':>9}{'test acc':>9}"
        f"{'macro F1':>9}{'epochs':>7}  {'status':<10}{'s':>6}  settings"
    )
    if board.baseline is not None:
        base = board.baseline
        print(
            f"{'-':>4}  {'baseline':<16}  {'tfidf':<14}{'-':>9}{_score(base['test_accuracy'])}"
            f"{_score(base['macro_f1'])}{'-':>7}  {'-':<10}{'-':>6}  {base['name']}"
        )
    for rank, row in enumerate(board.trials, start=1):
        print(_trial_line(rank, row))
    for row in board.trials:
        if row.note:
            print(f"note: {row.run_id}: {row.note}")
    print(f"runs saved in {board.runs_dir}: see them on the Runs and Results pages")


def _trial_line(rank: int, row: TrialRow) -> str:
    settings = ", ".join(
        f"{name}={declaration(name).label_of(value)}" for name, value in row.settings.items()
    )
    seconds = "-" if row.seconds is None else f"{row.seconds:.0f}"
    val_loss = "-" if row.val_loss is None else f"{row.val_loss:.4f}"
    return (
        f"{rank:>4}  {row.run_id:<16}  {row.family:<14}{val_loss:>9}{_score(row.test_accuracy)}"
        f"{_score(row.macro_f1)}{row.epochs:>7}  {row.status:<10}{seconds:>6}  {settings}"
    )


def _score(value: float | None) -> str:
    return f"{'-':>9}" if value is None else f"{value:>9.4f}"


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _positive(kind: type) -> Callable[[str], Any]:
    """An argparse type: ``kind`` above zero."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
        return value

    return parse
