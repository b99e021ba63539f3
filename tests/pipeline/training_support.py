"""Helpers for the pipeline tests' real trainings (their settings: ``tests.tiny_training``)."""

from __future__ import annotations


def predict_test_set(dataset, registry, run_id: str) -> tuple[list[str], list[str]]:
    """``(true, predicted)`` label codes of a saved run's test rows, found afresh.

    The test split is prepared again from ``dataset`` with the run's own data settings
    and scored by the saved end-to-end model, so metrics computed from these (with
    ``sklearn.metrics``) check the run's saved metrics independently of the training.
    """
    import numpy as np
    import tensorflow as tf

    from pipeline.data.prepare import prepare

    saved = registry.get(run_id)
    test = prepare(dataset, saved.config.experiment.data).test
    model = registry.load_model(run_id)
    probabilities = model.predict(tf.constant([[text] for text in test["text"]]), verbose=0)
    classes = list(saved.labels.classes)
    return test["label"].tolist(), [classes[i] for i in np.argmax(probabilities, axis=1)]


def majority_share(labels: list[str]) -> float:
    """The share of the most frequent label: what always guessing one class scores."""
    from collections import Counter

    return max(Counter(labels).values()) / len(labels)


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
