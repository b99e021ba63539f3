"""Run ids: which saved run a (data, settings, parent) triple names. No TensorFlow.

Kept apart from :mod:`pipeline.train` so that a cache hit (the CLI's ``train`` on
data and settings trained before, or a job served at once) is answered without
importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.config import ExperimentConfig, config_hash
from pipeline.data import Dataset, fingerprint
from pipeline.registry import RunRegistry


def make_run_id(data_fingerprint: str, config: ExperimentConfig, parent_run_id: str | None) -> str:
    """The run id: a hash of the data fingerprint, every setting and the parent run."""
    return config_hash(
        {"data": data_fingerprint, "config": config.to_dict(), "parent": parent_run_id}
    )


def resolve_run(
    dataset: Dataset,
    config: ExperimentConfig,
    registry: RunRegistry,
    parent_run_id: str | None = None,
) -> tuple[ExperimentConfig, str]:
    """The settings a training will really use, and the id of the run it makes.

    Continuing a run keeps the parent's data and model settings and takes only
    ``config.train``. Raises :class:`RunNotFoundError` for an unknown parent and
    :class:`ConfigError` for a bad setting.
    """
    if parent_run_id:
        parent_config = ExperimentConfig.from_dict(registry.get(parent_run_id).config)
        config = replace(parent_config, train=config.train)
    config.validate()
    return config, make_run_id(fingerprint(dataset), config, parent_run_id)
