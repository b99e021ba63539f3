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


def zip_members(members: dict[str, bytes]) -> bytes:
    """A zip archive holding ``members`` (name -> bytes), as a run archive would."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def unzip_members(data: bytes) -> dict[str, bytes]:
    """The members of a zip archive, name -> bytes."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
