"""The tiny real training every test folder starts from, declared once.

Imported as ``tests.tiny_training`` (``pythonpath = ["."]`` in ``pyproject.toml``) from
``tests/pipeline``, ``tests/app``, ``tests/e2e`` and ``tests/cluster``.

:data:`TINY_OVERRIDES` shrinks the fast preset (an n-gram bag) to train in seconds on
``tests/fixtures/uci_small.csv``. A test that needs something else says only what
differs, by name: ``tiny_config(family="cnn", epochs=1)`` for a config, and
``tiny_cli_flags(cap_per_class=60, epochs=1)`` for the same settings as
``python -m pipeline`` flags (the CLI, subprocess and browser tests). A change of
``None`` drops the setting, so the preset's own value is used (a flag not passed).
"""

from __future__ import annotations

from typing import Any

#: The preset the tiny trainings shrink.
TINY_PRESET = "fast"

#: 120 rows per class (480 on the four UCI classes), 2 epochs, batches of 32 and small
#: vocabularies and layers for every family.
TINY_OVERRIDES: dict[str, Any] = {
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

#: The word-sequence, LSTM and CNN sizes left at the preset's values (the fast preset's
#: n-gram bag reads none of them): for tests that never set them.
PRESET_SEQUENCE_SIZES: dict[str, Any] = dict.fromkeys(
    ("max_tokens", "embedding_dim", "units", "filters")
)

#: Every row of the fixture: the preset's class weights instead of a cap.
EVERY_ROW: dict[str, Any] = {"balance": None, "cap_per_class": None}

#: The runs the app and browser tests open: 40 rows per class (10 test rows each), a
#: 500-token vocabulary and 8-wide embeddings; the preset's LSTM units and CNN filters.
APP_RUN: dict[str, Any] = {
    "cap_per_class": 40,
    "max_tokens": 500,
    "embedding_dim": 8,
    "units": None,
    "ngram_tokens": 500,
    "ngram_dim": 8,
    "filters": None,
}


def tiny_settings(**changes: Any) -> dict[str, Any]:
    """:data:`TINY_OVERRIDES` with ``changes``; a change of ``None`` drops the setting."""
    settings = {**TINY_OVERRIDES, **changes}
    return {name: value for name, value in settings.items() if value is not None}


def tiny_config(preset: str = TINY_PRESET, **changes: Any):
    """``preset`` shrunk by :func:`tiny_settings` (``changes`` applied): an
    ``ExperimentConfig`` that trains in seconds on the small UCI fixture."""
    from pipeline.core.presets import get_preset

    return get_preset(preset, **tiny_settings(**changes))


def tiny_cli_flags(**changes: Any) -> list[str]:
    """:func:`tiny_settings` as ``python -m pipeline train`` (or ``sweep``) flags:
    ``["--cap-per-class", "120", ...]``; a setting dropped by ``None`` is not passed."""
    flags: list[str] = []
    for name, value in tiny_settings(**changes).items():
        flags += ["--" + name.replace("_", "-"), str(value)]
    return flags
