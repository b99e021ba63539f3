"""Lean model files: ``model.keras`` for inference, the optimizer state kept apart.

Design. A trained run's end-to-end model is what predictions, downloads and run
archives use, and Adam's state (two moments per weight) is twice the size of the
weights: kept inside ``model.keras``, it made the default run's file about 81 MB
of which two thirds served nothing but a later "continue training". So:

``model.keras``
    saved by :func:`inference_model`'s model: the lean classifier
    (:mod:`pipeline.models.lean`) and the encoder wrapped without the training compile,
    so the archive holds no optimizer variables and no compile settings. Predictions,
    exports and imports use it. The full classifier, wrapped the same way, is saved
    beside it as ``training_model.keras`` for continuing the run.
``training_state.h5``
    written by :func:`save_optimizer_state`: only the optimizer's variables
    (iteration count, learning rate, Adam's moments), as plain numeric HDF5
    datasets: the container of Keras' own weight files, read back only as numeric
    arrays checked for dtype and shape, never as objects. (JSON would triple 50 MB of
    float32 and parse slowly.) It stays in the run folder and only continuing the run
    reads it (:func:`restore_optimizer_state`); run archives leave it out.

Keras' ``model.save(path, include_optimizer=False)`` is no help here: Keras 3
ignores that flag for ``.keras`` files, and the optimizer belongs to the nested
classifier (or the ensemble's training model), not to the saved outer model.

A run without the file (saved before it existed, or imported) still continues:
with a fresh optimizer, which the continued run records
(``config.json`` ``resolved.optimizer_state``). The state saved is the one at the
end of the fit, while the weights saved are the best epoch's (Keras'
``restore_best_weights``); the moments of a few epochs later are still a far better
start than zeros, and the iteration count keeps Adam's bias correction in step.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import keras
import numpy as np

from pipeline.models.features import build_end_to_end_model

#: Marks a file written by :func:`save_optimizer_state` (an HDF5 attribute).
STATE_FORMAT = "headline-lab-optimizer-state"
STATE_VERSION = 1
_GROUP = "optimizer"


def inference_model(encoder: keras.Model, classifier: keras.Model) -> keras.Model:
    """The end-to-end model to save as ``model.keras``: no optimizer, no compile.

    ``classifier`` (compiled for training, or sharing layers with the model that
    was) is wrapped afresh as an uncompiled functional model of the same name and
    layers, so ``pipeline.models.features.split_end_to_end_model`` finds it as before.
    Returns raw strings ``(batch, 1)`` -> class probabilities.
    """
    lean = keras.Model(classifier.input, classifier.output, name=classifier.name)
    return build_end_to_end_model(encoder, lean)


def save_optimizer_state(model: keras.Model, path: Path) -> None:
    """Write the variables of ``model.optimizer`` (built by ``fit``) to ``path``.

    One dataset per variable, in the optimizer's order, each with its Keras path as
    an attribute (for reading only; matching is by order, shape and dtype).
    """
    optimizer = model.optimizer
    with h5py.File(path, "w") as handle:
        handle.attrs["format"] = STATE_FORMAT
        handle.attrs["version"] = STATE_VERSION
        group = handle.create_group(_GROUP)
        group.attrs["class_name"] = type(optimizer).__name__
        group.attrs["count"] = len(optimizer.variables)
        for index, variable in enumerate(optimizer.variables):
            data = group.create_dataset(str(index), data=keras.ops.convert_to_numpy(variable))
            data.attrs["path"] = variable.path


def has_optimizer_state(model: keras.Model) -> bool:
    """``model`` is compiled and its optimizer has variables to save (it has trained)."""
    optimizer = getattr(model, "optimizer", None)
    return optimizer is not None and optimizer.built and bool(optimizer.variables)


def restore_optimizer_state(model: keras.Model, path: Path) -> str | None:
    """Build ``model.optimizer`` for its trainable variables and load ``path`` into it.

    ``model`` is the compiled model about to be fitted (the same architecture as the
    one whose state was saved). Call it in the distribution strategy's scope.
    Returns ``None`` once restored, else why not (the file cannot be read, or holds
    another optimizer or other variables); then nothing was assigned and the
    optimizer starts fresh.
    """
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    try:
        values = _read_state(path, type(optimizer).__name__)
    except (OSError, KeyError, ValueError) as exc:
        return f"its optimizer state cannot be read ({exc})"
    if isinstance(values, str):
        return values
    variables = optimizer.variables
    if len(values) != len(variables):
        return (
            f"its optimizer state holds {len(values)} variables where this model's optimizer "
            f"has {len(variables)}"
        )
    for variable, value in zip(variables, values, strict=True):
        if tuple(value.shape) != tuple(variable.shape) or value.dtype != np.dtype(variable.dtype):
            return (
                f"its optimizer state does not fit this model ({variable.path}: saved "
                f"{value.dtype}{list(value.shape)}, wanted {variable.dtype}{list(variable.shape)})"
            )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)
    return None


def _read_state(path: Path, class_name: str) -> list[np.ndarray] | str:
    """The saved variables' values in order, or why the file is not for this optimizer."""
    with h5py.File(path, "r") as handle:
        if handle.attrs.get("format") != STATE_FORMAT:
            return "its training_state.h5 is not an optimizer state of Headline Lab"
        group = handle[_GROUP]
        saved_class = str(group.attrs.get("class_name", ""))
        if saved_class != class_name:
            return f"its optimizer was {saved_class or 'unknown'}, this training's is {class_name}"
        count = int(group.attrs["count"])
        values = []
        for index in range(count):
            data = group[str(index)]
            if not isinstance(data, h5py.Dataset) or data.dtype.kind not in "biuf":
                return f"its optimizer state's variable {index} is not numeric"
            values.append(np.asarray(data[()]))
        return values
