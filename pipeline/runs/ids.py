"""Run ids: which saved run a (data, settings, parent) triple names. No TensorFlow.

Kept apart from :mod:`pipeline.training.train` so that a cache hit (the CLI's ``train`` on
data and settings trained before, or a job served at once) is answered without
importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.core.config import ExperimentConfig, config_hash
from pipeline.core.errors import RunNotFoundError, TrainingError
from pipeline.data import Dataset, fingerprint
from pipeline.runs.registry import RunRegistry
from pipeline.sessions.access import Action, can, strictest_owner


def make_run_id(
    data_fingerprint: str,
    config: ExperimentConfig,
    parent_run_id: str | None,
    owner: str | None = None,
) -> str:
    """The run id: a hash of the data fingerprint, every setting, the parent run and, for
    a private run, its owner (so two visitors never share a private run, cache included)."""
    payload = {"data": data_fingerprint, "config": config.to_dict(), "parent": parent_run_id}
    if owner is not None:
        payload["owner"] = owner
    return config_hash(payload)


def resolve_run(
    dataset: Dataset,
    config: ExperimentConfig,
    registry: RunRegistry,
    parent_run_id: str | None = None,
    *,
    allow_other_data: bool = False,
    owner: str | None = None,
) -> tuple[ExperimentConfig, str]:
    """The settings a training will really use, and the id of the run it makes.

    Continuing a run keeps the parent's data and model settings and takes only
    ``config.train``, and only on the data the parent was trained on (same
    fingerprint) unless ``allow_other_data`` (the parent's vocabulary is kept
    either way). Raises :class:`RunNotFoundError` for an unknown parent (or one the
    registry's principal may not continue), :class:`TrainingError` for other data and
    :class:`ConfigError` for a bad setting. ``owner`` (the data's owner: a private
    run's owner, see :func:`make_run_id`) is part of the id; continuing a private run
    makes a run private to the parent's owner (:func:`pipeline.sessions.access.strictest_owner`).
    """
    data_fingerprint = fingerprint(dataset)
    if parent_run_id:
        parent = registry.get(parent_run_id)
        if not can(registry.principal, Action.CONTINUE, parent.run):
            raise RunNotFoundError(f"No saved run {parent_run_id} here to continue.")
        owner = strictest_owner(parent.run.owner, owner)
        if parent.data.fingerprint != data_fingerprint and not allow_other_data:
            raise TrainingError(
                f"Run {parent_run_id} was trained on {parent.data.dataset} (data fingerprint "
                f"{parent.data.fingerprint}), but the data now is {dataset.name} (fingerprint "
                f"{data_fingerprint}). Continue it on the data it was trained on, or allow "
                "other data (the run's vocabulary stays the parent's: words new to it are "
                "unknown to the model)."
            )
        config = replace(parent.config.experiment, train=config.train)
    config.validate()
    return config, make_run_id(data_fingerprint, config, parent_run_id, owner)
