"""Reading the configurations of runs saved by older versions of the project.

Settings renamed since runs were first saved are read under their new names, and a
setting added since takes the value that a run saved before it existed was trained
with (not today's default): :func:`upgrade_saved_settings`, called by
:meth:`pipeline.core.config.ExperimentConfig.from_dict`.
"""

from __future__ import annotations

from typing import Any

#: Settings renamed since runs were first saved: old name -> new name.
RENAMED_SETTINGS = {"lstm_units": "units"}

#: The optimizer of a run saved before ``optimizer`` existed: Adam, no weight decay.
_LEGACY_OPTIMIZER = {"optimizer": "adam", "weight_decay": 0.0}


def _legacy_test_set(data_settings: dict[str, Any]) -> str:
    """The test set of a run saved before ``test_set`` existed: class weights held out
    the seed's balanced test set then; every other balancing tested on its own rows."""
    return "balanced" if data_settings.get("balance") == "class_weights" else "stratified"


def upgrade_saved_settings(section: str, values: dict[str, Any]) -> dict[str, Any]:
    """One saved section's settings as today's names and settings.

    ``section`` is ``"data"``, ``"model"`` or ``"train"``; ``values`` its saved
    settings. Returns a new dict: renamed settings under their new names, and every
    setting added since the run was saved with the value it was trained with.
    """
    values = {RENAMED_SETTINGS.get(key, key): value for key, value in values.items()}
    if section == "data" and "test_set" not in values:
        values["test_set"] = _legacy_test_set(values)
    if section == "model" and "optimizer" not in values:
        values.update(_LEGACY_OPTIMIZER)
    if section == "model" and "blend" not in values:
        values["blend"] = "off"  # saved before the blend existed
    if section == "train" and "prior_shift" not in values:
        values["prior_shift"] = "off"  # saved before the shift existed
    return values
