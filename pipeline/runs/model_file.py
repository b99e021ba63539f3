"""A run's ``model.keras``: checked as a Keras archive without TensorFlow, and loaded.

:func:`keras_archive_problem` says why a file cannot be a Keras model archive (a zip
lacking what Keras needs) without importing TensorFlow; :func:`load_model_file` loads one
with ``safe_mode=True``, the project's custom layers registered. The registry loads a
run's model through it, and :mod:`pipeline.runs.model_check` checks an imported one in a
process of its own.
"""

from __future__ import annotations

import shutil
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

#: What a ``.keras`` archive must hold to be worth loading (checked without TensorFlow).
_KERAS_MEMBERS = ("config.json", "model.weights.h5")


def keras_archive_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a Keras model archive (checked without TensorFlow)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        return f"model.keras is not a Keras archive ({type(exc).__name__})"
    lacking = [name for name in _KERAS_MEMBERS if name not in names]
    if lacking:
        return f"model.keras lacks {', '.join(lacking)}"
    return None


def load_model_file(path: Path) -> keras.Model:
    """Load a ``.keras`` file with ``safe_mode=True`` (custom layers registered)."""
    import keras

    # Imported for their registered custom layers (the encoder's, the bags' and the
    # linear blend's).
    import pipeline.models.common
    import pipeline.models.linear
    import pipeline.models.text  # noqa: F401

    with warnings.catch_warnings():
        # Runs saved before model.keras was made lean hold the nested classifier's
        # optimizer state; it is not needed to predict and Keras warns that it skips it.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        return keras.saving.load_model(path, compile=False, safe_mode=True)


def save_model_file(model: keras.Model, path: Path) -> None:
    """Save ``model`` as a ``.keras`` file at ``path``, its members deflated.

    Keras stores its zip members uncompressed; a vocabulary of word pairs deflates to a
    third (600,000 n-grams: 7.6 MB -> 2.5 MB) and int8 tables by a sixth. Keras reads
    either kind of member.
    """
    stored = path.with_name(f".{path.stem}.stored.keras")  # Keras wants the suffix
    try:
        model.save(stored)
        with (
            zipfile.ZipFile(stored) as source,
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target,
        ):
            for info in source.infolist():
                with source.open(info) as member, target.open(info.filename, "w") as copy:
                    shutil.copyfileobj(member, copy, 1 << 20)
    finally:
        stored.unlink(missing_ok=True)
