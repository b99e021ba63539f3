"""The vocabularies and the encoded splits of a training, kept for the next one.

A training's ``vectorizing`` phase adapts the encoder's vocabularies on the training
rows and runs every split through it. A second training on the same data, with the same
cleaning and split and the same encoder settings, would rebuild exactly the same thing:
other model settings (learning rate, dropout, embedding sizes, epochs, a family reading
the same inputs) do not touch it. So the encoder and the ids it gave each split are kept
in ``<runs_dir>/.encoders/<key>/``:

``encoder.keras``
    the encoder model, its vocabularies inside (loaded with ``safe_mode=True``);
``ids.h5``
    the encoder's int32 ids of every row of ``train``, ``validation`` and ``test``: one
    HDF5 group per split, one plain integer dataset per encoder output (read back only
    as integer arrays, as ``training_state.h5`` is).

The key (:func:`encoder_key`) is the data's fingerprint, the data settings, the model
settings the encoder reads for the family's inputs and the Keras version. At most
:data:`MAX_ENTRIES` are kept, the least recently used removed first. A cache that cannot
be read or written only costs the work it would have saved: a training never fails on it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import keras
import numpy as np

from pipeline.core.atomic import fsync_folder, swap_into_place
from pipeline.core.config import ModelConfig, config_hash
from pipeline.models import family_inputs
from pipeline.runs.model_file import load_model_file, save_model_file

_LOG = logging.getLogger(__name__)
#: Bump when what is cached, or how an encoder is built, changes.
ENCODER_CACHE_VERSION = 2  # 2: Chinese and Japanese characters split (split_cjk)
#: Entries kept (the default run on the bundled data: about 60 MB; ``accurate``'s
#: character n-grams: about 560 MB).
MAX_ENTRIES = 2
SPLITS = ("train", "validation", "test")
#: The model settings each encoder output is built from (all of them read the length).
_SETTINGS_OF_INPUT = {
    "words": ("max_tokens", "tokenizer", "padding"),
    "ngrams": ("ngram_tokens",),
    "chars": ("char_tokens",),
}
_ENCODER_FILE = "encoder.keras"
_IDS_FILE = "ids.h5"
#: The step a training reports when its encoding came from the cache.
CACHED_STEP = "Vocabulary and vectors reused from the cache"


def encoder_key(data_fingerprint: str, data_settings: dict[str, Any], model: ModelConfig) -> str:
    """The cache key of the encoder ``model``'s family builds on this data and split."""
    inputs = sorted(family_inputs(model.family))
    settings = {"sequence_length": model.sequence_length}
    for name in inputs:
        settings.update({field: getattr(model, field) for field in _SETTINGS_OF_INPUT[name]})
    return config_hash(
        {
            "data": data_fingerprint,
            "split": data_settings,
            "inputs": inputs,
            "settings": settings,
            "version": ENCODER_CACHE_VERSION,
            "keras": keras.__version__,  # another Keras may vectorize otherwise
        }
    )


@dataclass(frozen=True)
class CachedEncoding:
    """An encoder and its ids of every split: ``ids[split][output]`` is ``(rows, length)``."""

    encoder: keras.Model
    ids: dict[str, dict[str, np.ndarray]]


class EncoderCache:
    """The encodings kept under ``root`` (``<runs_dir>/.encoders``)."""

    def __init__(self, root: Path, max_entries: int = MAX_ENTRIES) -> None:
        self.root = Path(root)
        self.max_entries = max_entries

    def load(self, key: str, rows: dict[str, int]) -> CachedEncoding | None:
        """The encoding kept under ``key`` when there is one whose splits have ``rows``
        rows each (``{"train": n, ...}``); ``None`` otherwise."""
        folder = self.root / key
        if not folder.is_dir():
            return None
        try:
            encoder = load_model_file(folder / _ENCODER_FILE)
            ids = _read_ids(folder / _IDS_FILE, list(encoder.output))
            if any(len(v) != rows[split] for split in SPLITS for v in ids[split].values()):
                return None
            os.utime(folder)  # recently used: evicted last
        except Exception as exc:  # a damaged or half-evicted entry is a miss
            _LOG.warning("Encoder cache entry %s not used: %s", key, exc)
            return None
        return CachedEncoding(encoder, ids)

    def save(self, key: str, encoding: CachedEncoding) -> None:
        """Keep ``encoding`` under ``key`` (written aside, then swapped into place), then
        drop the least recently used entries beyond :attr:`max_entries`."""
        staging = self.root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
        try:
            staging.mkdir(parents=True)
            save_model_file(encoding.encoder, staging / _ENCODER_FILE)
            with h5py.File(staging / _IDS_FILE, "w") as handle:
                for split in SPLITS:
                    group = handle.create_group(split)
                    for name, values in encoding.ids[split].items():
                        group.create_dataset(name, data=values)
            fsync_folder(staging)
            swap_into_place(staging, self.root / key)  # another training's copy ends in staging
        except OSError as exc:
            _LOG.info("Encoder cache entry %s not kept: %s", key, exc)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._evict()

    def _evict(self) -> None:
        try:
            entries = [path for path in self.root.iterdir() if not path.name.startswith(".")]
        except OSError:
            return
        entries.sort(key=_last_used, reverse=True)
        for stale in entries[self.max_entries :]:
            shutil.rmtree(stale, ignore_errors=True)


def _read_ids(path: Path, outputs: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Every split's integer id arrays of ``outputs`` from ``path``; ``ValueError`` for a
    dataset that is missing or not integers."""
    with h5py.File(path, "r") as handle:
        ids: dict[str, dict[str, np.ndarray]] = {}
        for split in SPLITS:
            ids[split] = {}
            for name in outputs:
                data = handle[split][name]
                if not isinstance(data, h5py.Dataset) or data.dtype.kind not in "iu":
                    raise ValueError(f"{split}/{name} is not an integer array")
                ids[split][name] = np.asarray(data[()])
    return ids


def _last_used(path: Path) -> float:
    with contextlib.suppress(OSError):
        return path.stat().st_mtime
    return time.time()
