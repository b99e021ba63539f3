"""Saved runs on disk: atomic save, list, load, delete, export and import.

A run lives in ``<runs_dir>/<run_id>/``::

    model.keras    end-to-end model: raw strings in, class probabilities out
    config.json    ExperimentConfig.to_dict() + parent_run_id + resolved settings
    labels.json    {"classes": [code, ...] in output order, "names": {code: name}}
    history.json   [{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}]
    metrics.json   test metrics, per-class report, confusion matrix, baseline
    data.json      data fingerprint, row counts through cleaning, split sizes
    run.json       status ("complete" | "stopped"), dates, duration, device, versions

A run is written into a hidden temporary folder and moved into place with one
rename, so a crash never leaves a half-written folder that looks like a run.
Nothing here imports TensorFlow except :meth:`RunRegistry.load_model` and the
model check in :meth:`RunRegistry.import_zip`. Nothing is pickled: JSON and ``.keras`` only.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import uuid
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import RunImportError, RunNotFoundError

if TYPE_CHECKING:
    import keras

RUNS_DIR_ENV = "HEADLINE_LAB_RUNS_DIR"
MODEL_FILE = "model.keras"
JSON_FILES = ("config.json", "labels.json", "history.json", "metrics.json", "data.json", "run.json")
RUN_FILES = (MODEL_FILE, *JSON_FILES)
#: Largest run archive accepted by :meth:`RunRegistry.import_zip` (uncompressed).
MAX_IMPORT_BYTES = 300 * 1024 * 1024
_RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")


def default_runs_dir() -> Path:
    """``$HEADLINE_LAB_RUNS_DIR`` if set, else ``./runs``."""
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")


@dataclass(frozen=True)
class RunSummary:
    """One row of the runs table."""

    run_id: str
    created_at: str
    preset: str
    dataset: str
    accuracy: float | None
    macro_f1: float | None
    epochs: int
    duration_s: float
    status: str
    parent_run_id: str | None


@dataclass(frozen=True)
class SavedRun:
    """Everything a saved run holds except the model itself (see ``load_model``)."""

    run_id: str
    path: Path
    config: dict[str, Any]
    labels: dict[str, Any]
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    data: dict[str, Any]
    run: dict[str, Any]

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def complete(self) -> bool:
        return self.run.get("status") == "complete"

    def summary(self) -> RunSummary:
        """The :class:`RunSummary` of this run."""
        return RunSummary(
            run_id=self.run_id,
            created_at=self.run.get("created_at", ""),
            preset=self.config.get("preset", ""),
            dataset=self.run.get("dataset", ""),
            accuracy=self.metrics.get("test_accuracy"),
            macro_f1=self.metrics.get("macro_f1"),
            epochs=len(self.history),
            duration_s=float(self.run.get("duration_s", 0.0)),
            status=self.run.get("status", "unknown"),
            parent_run_id=self.config.get("parent_run_id"),
        )


class RunRegistry:
    """The runs under one folder (created on first save)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_runs_dir()

    def path_of(self, run_id: str) -> Path:
        """Folder of ``run_id`` (whether or not it exists)."""
        if not _RUN_ID_PATTERN.match(run_id):
            raise RunNotFoundError(f"{run_id!r} is not a run id (16 hexadecimal characters).")
        return self.root / run_id

    def exists(self, run_id: str) -> bool:
        return (self.path_of(run_id) / "run.json").is_file()

    def save(
        self,
        run_id: str,
        write_model: Callable[[Path], None],
        documents: dict[str, Any],
    ) -> Path:
        """Write a run atomically and return its folder.

        Parameters
        ----------
        run_id : str
            16 hex characters; an existing run with this id is replaced.
        write_model : callable
            Called with the path ``model.keras`` must be written to.
        documents : dict
            ``{"config.json": obj, ...}`` for every name in ``JSON_FILES``.
        """
        missing = set(JSON_FILES) - set(documents)
        if missing:
            raise ValueError(f"save() is missing documents: {sorted(missing)}")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".tmp-{run_id}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            write_model(staging / MODEL_FILE)
            for name in JSON_FILES:
                _write_json(staging / name, documents[name])
            self._move_into_place(staging, self.path_of(run_id))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.path_of(run_id)

    def list_runs(self) -> list[RunSummary]:
        """Summaries of every readable run, newest first."""
        if not self.root.is_dir():
            return []
        runs = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not (folder / "run.json").is_file():
                continue
            try:
                runs.append(self.get(folder.name).summary())
            except (RunNotFoundError, ValueError):
                continue  # a foreign or damaged folder is not a run
        return sorted(runs, key=lambda run: run.created_at, reverse=True)

    def get(self, run_id: str) -> SavedRun:
        """Load a run's JSON documents; :class:`RunNotFoundError` if absent or damaged."""
        folder = self.path_of(run_id)
        if not (folder / "run.json").is_file():
            raise RunNotFoundError(
                f"No saved run {run_id} in {self.root}; pick one from the Runs list."
            )
        try:
            docs = {name: json.loads((folder / name).read_text("utf-8")) for name in JSON_FILES}
        except (OSError, json.JSONDecodeError) as exc:
            raise RunNotFoundError(
                f"Run {run_id} is damaged ({exc}); delete it and train it again."
            ) from exc
        return SavedRun(
            run_id=run_id,
            path=folder,
            config=docs["config.json"],
            labels=docs["labels.json"],
            history=docs["history.json"],
            metrics=docs["metrics.json"],
            data=docs["data.json"],
            run=docs["run.json"],
        )

    def find_complete(self, run_id: str) -> SavedRun | None:
        """The run if it exists and finished (not stopped part way), else ``None``."""
        if not self.exists(run_id):
            return None
        try:
            saved = self.get(run_id)
        except RunNotFoundError:
            return None
        return saved if saved.complete and saved.model_path.is_file() else None

    def delete(self, run_id: str) -> None:
        """Remove a run's folder."""
        folder = self.path_of(run_id)
        if not folder.is_dir():
            raise RunNotFoundError(f"No saved run {run_id} to delete.")
        shutil.rmtree(folder)

    def load_model(self, run_id: str) -> keras.Model:
        """The run's end-to-end model, loaded with ``safe_mode=True``."""
        return load_model_file(self.get(run_id).model_path)

    def export_zip(self, run_id: str) -> bytes:
        """The run's files as a zip archive (flat, no folders)."""
        folder = self.get(run_id).path
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in RUN_FILES:
                archive.write(folder / name, arcname=name)
        return buffer.getvalue()

    def import_zip(self, data: bytes) -> str:
        """Validate a run archive made by :meth:`export_zip`, save it, return its id.

        The archive must hold exactly the run files at its top level, stay under
        ``MAX_IMPORT_BYTES`` unpacked, carry readable JSON and a model that loads
        with ``safe_mode=True``. Anything else raises :class:`RunImportError`.
        """
        members = _read_archive(data)
        try:
            documents = {name: json.loads(members[name].decode("utf-8")) for name in JSON_FILES}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunImportError(
                f"The archive's JSON files are not readable ({exc}); export the run again."
            ) from exc
        run_id = str(documents["run.json"].get("run_id", ""))
        if not _RUN_ID_PATTERN.match(run_id):
            raise RunImportError(
                "The archive's run.json has no valid run_id; it was not exported by Headline Lab."
            )
        staging = self.root / f".import-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:
            (staging / MODEL_FILE).write_bytes(members[MODEL_FILE])
            try:
                load_model_file(staging / MODEL_FILE)
            except Exception as exc:  # any failure to load means the model is unusable
                raise RunImportError(
                    "The archive's model.keras does not load safely "
                    f"({type(exc).__name__}); export it again from Headline Lab."
                ) from exc
            self.save(run_id, lambda path: shutil.copyfile(staging / MODEL_FILE, path), documents)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return run_id

    def _move_into_place(self, staging: Path, target: Path) -> None:
        old = None
        if target.exists():
            old = self.root / f".old-{target.name}-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def load_model_file(path: Path) -> keras.Model:
    """Load a ``.keras`` file with ``safe_mode=True`` (custom layers registered)."""
    import keras

    import pipeline.text  # noqa: F401  (registers the custom layers)

    with warnings.catch_warnings():
        # The nested classifier was compiled for training; its optimizer state is
        # not needed to predict and Keras warns that it skips it.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        return keras.saving.load_model(path, compile=False, safe_mode=True)


def _read_archive(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RunImportError(
            "The file is not a zip archive; upload a run exported from the Runs page."
        ) from exc
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(names) != len(set(names)):
            raise RunImportError(
                "The archive holds the same file twice; export the run again from Headline Lab."
            )
        unexpected = sorted(set(names) - set(RUN_FILES))
        if unexpected:
            raise RunImportError(
                f"The archive holds unexpected files ({', '.join(unexpected[:5])}); a run "
                f"archive holds only {', '.join(RUN_FILES)}."
            )
        missing = sorted(set(RUN_FILES) - set(names))
        if missing:
            raise RunImportError(
                f"The archive lacks {', '.join(missing)}; export the run again from Headline Lab."
            )
        total = sum(info.file_size for info in infos)
        if total > MAX_IMPORT_BYTES:
            raise RunImportError(
                f"The archive unpacks to {total / 2**20:.0f} MB, over the "
                f"{MAX_IMPORT_BYTES / 2**20:.0f} MB limit for a run."
            )
        try:
            return {info.filename: archive.read(info) for info in infos}
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise RunImportError(f"The archive is damaged ({exc}); export it again.") from exc


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
