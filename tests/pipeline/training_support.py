"""Settings for tiny real trainings, shared by the pipeline tests."""

from __future__ import annotations

from pipeline.config import ExperimentConfig, get_preset


def tiny_config(preset: str = "fast", **overrides) -> ExperimentConfig:
    """A preset shrunk to train in seconds on the small UCI fixture."""
    settings = {
        "balance": "cap",
        "cap_per_class": 120,
        "epochs": 2,
        "batch_size": 32,
        "max_tokens": 2000,
        "embedding_dim": 16,
        "units": 8,
        "ngram_tokens": 5000,
        "ngram_dim": 16,
        "filters": 16,
    }
    settings.update(overrides)
    return get_preset(preset, **settings)
