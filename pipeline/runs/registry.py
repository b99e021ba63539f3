"""Saved runs on disk: atomic save, list, load, delete, export and import.

A run lives in ``<runs_dir>/<run_id>/``::

    model.keras    end-to-end model: raw strings in, class probabilities out
    config.json    ExperimentConfig.to_dict() + parent_run_id + resolved settings
    labels.json    {"classes": [code, ...] in output order, "names": {code: name}}
    history.json   [{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}]
    metrics.json   test metrics, per-class report, confusion matrix, baseline
    data.json      data fingerprint, row counts through cleaning, split sizes
    run.json       schema version, status ("complete" | "stopped"), origin
                   ("trained" | "imported"), dates, duration, device, versions
    test_predictions.json   optional: every test row's position in the dataset, true and
                   predicted label, confidence (:class:`~pipeline.runs.record.RowPredictions`)
    training_state.h5   optional: the optimizer's state, read only to continue the run
    logs/          optional: TensorBoard event files (``logs/train``, ``logs/validation``)

``model.keras`` holds no optimizer state (runs saved before that still load; see
:mod:`pipeline.training.state` for the design): it is all that predictions, the
download and a run archive need. ``training_state.h5`` and ``logs/`` are never
required, never make a run damaged, and never travel in an archive
(:meth:`RunRegistry.export_zip` writes the model and the documents only), so archives
stay lean; an imported run has neither, and continuing it starts a fresh optimizer.
``tensorboard --logdir runs`` shows every run's curves by run id.
``test_predictions.json`` is optional too (runs saved before it was kept have none, and
load as they are): it is read only on demand (:meth:`SavedRun.test_predictions`, for test
results per slice of the data, see :mod:`pipeline.evaluation.slices`), and it travels in an archive
when the run has it.

Every JSON document is parsed and checked by :mod:`pipeline.runs.record` on save,
on load and on import. A run is written into a hidden temporary folder and
swapped into place with one atomic rename, so a crash never leaves a
half-written folder that looks like a run, and never loses the run it replaces.
A folder named like a run whose files are missing, malformed or whose model is
not a Keras archive is listed as *damaged*, with the reason, and can be deleted.

Nothing here imports TensorFlow except :meth:`RunRegistry.load_model` and the
model check in :meth:`RunRegistry.import_zip`. Nothing is pickled: JSON and ``.keras`` only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import errno
import hashlib
import io
import json
import os
import shutil
import uuid
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.sessions.access import ADMINISTRATOR, Action, Principal, can
from pipeline.core.errors import (
    RunAccessError,
    RunImportError,
    RunInUseError,
    RunNotFoundError,
    RunRecordError,
)
from pipeline.runs.record import (
    RUN_ID_PATTERN,
    DataRecord,
    Labels,
    Metrics,
    RowPredictions,
    RunConfig,
    RunInfo,
    RunRecord,
)

if TYPE_CHECKING:
    import keras

RUNS_DIR_ENV = "HEADLINE_LAB_RUNS_DIR"
MODEL_FILE = "model.keras"
JSON_FILES = ("config.json", "labels.json", "history.json", "metrics.json", "data.json", "run.json")
RUN_FILES = (MODEL_FILE, *JSON_FILES)
#: Optional: every test row's prediction (runs saved before it have none).
PREDICTIONS_FILE = "test_predictions.json"
#: What a run archive may hold besides ``RUN_FILES``.
OPTIONAL_ARCHIVE_FILES = (PREDICTIONS_FILE,)
#: Optional: the optimizer's state, for continuing the run (never exported).
TRAINING_STATE_FILE = "training_state.h5"
#: Optional folder of TensorBoard event files (never exported).
LOGS_DIR = "logs"
#: Largest run archive accepted by :meth:`RunRegistry.import_zip` (uncompressed).
MAX_IMPORT_BYTES = 300 * 1024 * 1024
#: Largest JSON document read from a run folder or an archive.
MAX_JSON_BYTES = 50 * 1024 * 1024
#: What a ``.keras`` archive must hold to be worth loading (checked without TensorFlow).
_KERAS_MEMBERS = ("config.json", "model.weights.h5")


def default_runs_dir() -> Path:
    """``$HEADLINE_LAB_RUNS_DIR`` if set, else ``./runs``."""
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")


@dataclass(frozen=True)
class RunSummary:
    """One row of the runs table; a damaged run has ``problem`` set and little else."""

    run_id: str
    created_at: str
    preset: str
    family: str
    dataset: str
    accuracy: float | None
    macro_f1: float | None
    epochs: int
    duration_s: float
    status: str
    origin: str
    parent_run_id: str | None
    problem: str | None = None
    owner: str | None = None

    @property
    def damaged(self) -> bool:
        return self.problem is not None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SavedRun:
    """Everything a saved run holds except the model itself (see ``load_model``)."""

    path: Path
    record: RunRecord

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def config(self) -> RunConfig:
        return self.record.config

    @property
    def labels(self) -> Labels:
        return self.record.labels

    @property
    def history(self) -> tuple[dict[str, Any], ...]:
        return self.record.history

    @property
    def metrics(self) -> Metrics:
        return self.record.metrics

    @property
    def data(self) -> DataRecord:
        return self.record.data

    @property
    def run(self) -> RunInfo:
        return self.record.run

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def training_state_path(self) -> Path:
        """The optimizer state continuing the run reads (it may not exist: older and
        imported runs have none)."""
        return self.path / TRAINING_STATE_FILE

    @property
    def logs_path(self) -> Path:
        """The run's TensorBoard logs folder (it may not exist)."""
        return self.path / LOGS_DIR

    @property
    def predictions_path(self) -> Path:
        """The run's per-row test predictions (it may not exist: older runs have none)."""
        return self.path / PREDICTIONS_FILE

    def test_predictions(self) -> RowPredictions | None:
        """The run's per-row test predictions, read and checked now.

        Returns
        -------
        RowPredictions or None
            ``None`` when the run has none (saved before they were kept).

        Raises
        ------
        RunRecordError
            The file is unreadable, or malformed, or disagrees with the run's documents.
        """
        if not self.predictions_path.is_file():
            return None
        try:
            return RowPredictions.parse(_read_json(self.predictions_path), self.record)
        except RunRecordError as exc:
            raise RunRecordError(
                f"Run {self.run_id}'s {PREDICTIONS_FILE} is damaged ({str(exc).rstrip('.')}); "
                "train the run again to score its test rows afresh."
            ) from exc

    @property
    def complete(self) -> bool:
        return self.run.status == "complete"

    def summary(self) -> RunSummary:
        """The :class:`RunSummary` of this run."""
        return RunSummary(
            run_id=self.run_id,
            created_at=self.run.created_at,
            preset=self.config.preset,
            family=self.config.family,
            dataset=self.run.dataset,
            accuracy=self.metrics.test_accuracy,
            macro_f1=self.metrics.macro_f1,
            epochs=len(self.history),
            duration_s=self.run.duration_s,
            status=self.run.status,
            origin=self.run.origin,
            parent_run_id=self.config.parent_run_id,
            owner=self.run.owner,
        )


def damaged_summary(run_id: str, problem: str, owner: str | None = None) -> RunSummary:
    """The runs-table row of a run folder that cannot be read."""
    return RunSummary(
        run_id=run_id,
        created_at="",
        preset="",
        family="",
        dataset="",
        accuracy=None,
        macro_f1=None,
        epochs=0,
        duration_s=0.0,
        status="damaged",
        origin="",
        parent_run_id=None,
        problem=problem,
        owner=owner,
    )


class RunRegistry:
    """The runs under one folder (created on first save), as ``principal`` may see them.

    Every call that reads or changes runs asks :func:`pipeline.sessions.access.can` for
    ``principal`` (default: the administrator, which the CLI is): a run it may not see
    answers exactly as a run that is not there (:class:`RunNotFoundError`, whose message
    never names the server's folder); a run it may see but not change raises
    :class:`RunAccessError`.
    """

    def __init__(
        self, root: str | Path | None = None, *, principal: Principal = ADMINISTRATOR
    ) -> None:
        self.root = Path(root) if root is not None else default_runs_dir()
        self.principal = principal

    def as_principal(self, principal: Principal) -> RunRegistry:
        """The same runs folder, as ``principal`` sees it."""
        return RunRegistry(self.root, principal=principal)

    def path_of(self, run_id: str) -> Path:
        """Folder of ``run_id`` (whether or not it exists)."""
        if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
            raise RunNotFoundError(f"{run_id!r} is not a run id (16 hexadecimal characters).")
        return self.root / run_id

    def exists(self, run_id: str) -> bool:
        """A folder for ``run_id`` is there (a good run or a damaged one)."""
        return self.path_of(run_id).is_dir()

    def save(
        self,
        record: RunRecord,
        write_model: Callable[[Path], None],
        *,
        write_training_state: Callable[[Path], None] | None = None,
        logs: Path | None = None,
        predictions: RowPredictions | None = None,
    ) -> SavedRun:
        """Write a run atomically and return it as saved.

        ``record`` is checked as it would be on load. ``write_model(path)`` writes
        ``model.keras``; ``write_training_state(path)``, when given, writes
        ``training_state.h5``; ``logs``, when it is a folder (one from
        :meth:`new_logs_folder`), is moved in as the run's ``logs/``; ``predictions``,
        when given, are checked against ``record`` and written as
        ``test_predictions.json``. All of it goes
        into a hidden folder that one rename swaps into place. A complete run
        replaces the run with its id; a stopped one never replaces a complete run:
        it is saved beside it under an id of its own (see :func:`sibling_run_id`),
        which the returned run carries.
        """
        record = RunRecord.parse(record.documents())  # what is saved must load
        if predictions is not None:
            predictions = RowPredictions.parse(predictions.to_json(), record)
        target = self.path_of(record.run_id)
        if record.run.status != "complete" and self._is_complete(record.run_id):
            sibling = sibling_run_id(record.run_id, record.run.created_at)
            record = dataclasses.replace(
                record, run=dataclasses.replace(record.run, run_id=sibling)
            )
            target = self.path_of(sibling)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".tmp-{record.run_id}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            write_model(staging / MODEL_FILE)
            if write_training_state is not None:
                write_training_state(staging / TRAINING_STATE_FILE)
            if logs is not None and logs.is_dir():
                os.replace(logs, staging / LOGS_DIR)
            for name, payload in record.documents().items():
                _write_json(staging / name, payload)
            if predictions is not None:
                _write_compact_json(staging / PREDICTIONS_FILE, predictions.to_json())
            _fsync_folder(staging)
            _swap_into_place(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return SavedRun(target, record)

    def new_logs_folder(self, run_id: str) -> Path:
        """A fresh hidden folder path under the runs folder (not created) where a
        training of ``run_id`` writes its TensorBoard logs until :meth:`save` moves
        them into the run. Hidden, so no listing takes it for a run; the caller
        removes it when the training ends unsaved."""
        self.path_of(run_id)  # checks the id
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f".logs-{run_id}-{uuid.uuid4().hex[:8]}"

    def list_runs(self) -> list[RunSummary]:
        """Every run folder, newest first; damaged ones (``problem`` set) last. Never raises
        for a bad folder: a folder not named like a run is not one and is skipped."""
        if not self.root.is_dir():
            return []
        self._recover_moved_aside()
        good, damaged = [], []
        for folder in sorted(self.root.iterdir()):
            if not RUN_ID_PATTERN.match(folder.name) or not folder.is_dir():
                continue
            try:
                good.append(self.get(folder.name).summary())
            except RunRecordError as exc:
                damaged.append(damaged_summary(folder.name, str(exc), _owner_of(folder)))
            except RunNotFoundError:
                continue  # deleted while we looked, or not this principal's to see
        good.sort(key=lambda run: run.created_at, reverse=True)
        return good + damaged

    def get(self, run_id: str) -> SavedRun:
        """Load and check a run's documents.

        :class:`RunNotFoundError` if there is no such run; :class:`RunRecordError`
        (whose message says what is wrong and to delete it) if it is damaged.
        """
        folder = self.path_of(run_id)
        if not folder.is_dir():
            raise _not_found(run_id)
        try:
            problem = _folder_problem(folder)
            if problem is None:
                documents = {name: _read_json(folder / name) for name in JSON_FILES}
                record = RunRecord.parse(documents)
                if record.run_id != run_id:
                    problem = f"run.json names run {record.run_id}, not {run_id}"
        except RunRecordError as exc:
            problem = str(exc)
        owner = _owner_of(folder) if problem is not None else record.run.owner
        if not can(self.principal, Action.SHOW, _Owned(owner)):
            raise _not_found(run_id)
        if problem is not None:
            raise RunRecordError(
                f"Run {run_id} is damaged ({problem.rstrip('.')}); delete it and train it again."
            )
        return SavedRun(folder, record)

    def run_info(self, run_id: str) -> RunInfo:
        """Just the run's ``run.json``, checked (cheap: the other documents are not read);
        :class:`RunNotFoundError` or :class:`RunRecordError` as :meth:`get`."""
        path = self.path_of(run_id) / "run.json"
        if not path.is_file():
            raise _not_found(run_id)
        try:
            info = RunInfo.parse(_read_json(path))
        except RunRecordError as exc:
            if not can(self.principal, Action.SHOW, _Owned(_owner_of(path.parent))):
                raise _not_found(run_id) from None
            raise RunRecordError(
                f"Run {run_id} is damaged ({str(exc).rstrip('.')}); delete it and train it again."
            ) from exc
        if not can(self.principal, Action.SHOW, info):
            raise _not_found(run_id)
        return info

    def find_complete(self, run_id: str) -> SavedRun | None:
        """The run if this server trained it to the end and it is sound, else ``None``.

        This is the cache look-up of a training: imported runs never answer it.
        """
        try:
            saved = self.get(run_id)
        except (RunNotFoundError, RunRecordError):
            return None
        return saved if saved.complete and saved.run.origin == "trained" else None

    def delete(self, run_id: str) -> None:
        """Remove a run's folder (a damaged one too): renamed away first, so a crash
        part way never leaves half a run that looks like one.

        A visitor deletes only what :func:`~pipeline.sessions.access.can` allows it
        (:class:`RunAccessError` otherwise), and never a sound run another session has
        open as its active run (:class:`RunInUseError`); the administrator deletes any run,
        and a session that had it open is told so the next time it looks.
        """
        folder = self.path_of(run_id)
        if not folder.is_dir():
            raise _not_found(run_id)
        owner = _owner_of(folder)
        if not can(self.principal, Action.SHOW, _Owned(owner)):
            raise _not_found(run_id)
        if not can(self.principal, Action.DELETE, _Owned(owner)):
            raise RunAccessError(
                f"Run {run_id} is shared: only the server's administrator deletes shared "
                "runs (python -m pipeline runs delete), or anyone on a server in team mode. "
                "You can delete the private runs you trained or imported."
            )
        if not self.principal.is_administrator and not self._is_damaged(run_id):
            # (a damaged run is of no use to anyone: whoever may delete it, may)
            from pipeline.sessions.book import SessionBook

            others = SessionBook(self.root).sessions_using(
                run_id, other_than=self.principal.session
            )
            if others:
                raise RunInUseError(
                    f"Run {run_id} is open in {others} other session"
                    f"{'' if others == 1 else 's'} as the active run, so it was not deleted; "
                    "try again once it is no longer in use."
                )
        trash = self.root / f".deleted-{run_id}-{uuid.uuid4().hex[:8]}"
        os.replace(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def load_model(self, run_id: str) -> keras.Model:
        """The run's end-to-end model, loaded with ``safe_mode=True``."""
        saved = self.get(run_id)
        try:
            return load_model_file(saved.model_path)
        except Exception as exc:  # any failure to load means the file is unusable
            raise RunRecordError(
                f"Run {run_id} is damaged (its model does not load: {type(exc).__name__}); "
                "delete it and train it again."
            ) from exc

    def export_zip(self, run_id: str) -> bytes:
        """The run's model and documents as a zip archive (flat, no folders).

        ``test_predictions.json`` goes with them when the run has it; ``training_state.h5``
        and ``logs/`` stay behind: an archive is for using and sharing the run, and the
        model in it holds no optimizer state.
        """
        saved = self.get(run_id)
        if not can(self.principal, Action.EXPORT, saved.run):
            raise _not_found(run_id)
        folder = saved.path
        optional = [name for name in OPTIONAL_ARCHIVE_FILES if (folder / name).is_file()]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in (*RUN_FILES, *optional):
                archive.write(folder / name, arcname=name)
        return buffer.getvalue()

    def import_zip(self, data: bytes) -> str:
        """Check a run archive made by :meth:`export_zip`, save it, return its new id.

        The archive must hold exactly the run files at its top level (and, optionally,
        ``test_predictions.json``, checked against the documents), stay under
        ``MAX_IMPORT_BYTES`` unpacked, carry documents that parse as a run and a model
        that loads with ``safe_mode=True`` and scores a headline into the run's classes,
        checked in a process of its own (:mod:`pipeline.runs.model_check`), never in this one.

        The run's id is this server's (:func:`imported_run_id`: a hash of the archive's
        documents and model, namespaced as imported, and of its new owner), never the
        archive's, so an archive can claim no id. Its owner is the principal's
        (``Principal.new_run_owner``: the importing session, or shared). It never
        replaces a run: importing what this principal already has raises
        :class:`RunImportError` naming that run; a clash with a run the principal may
        not see (only a hash collision could make one) is refused without an id.
        The run is saved as *imported*, so a training's cache look-up never returns it.
        Anything wrong raises :class:`RunImportError` and leaves the runs folder as it was.
        """
        from pipeline.runs.model_check import check_in_separate_process

        members = _read_archive(data)
        try:
            documents = {name: _parse_json(members[name], name) for name in JSON_FILES}
            record = RunRecord.parse(documents)
        except RunRecordError as exc:
            raise RunImportError(
                f"The archive is not a sound run ({str(exc).rstrip('.')}); export it again "
                "from Headline Lab."
            ) from exc
        owner = self.principal.new_run_owner
        run_id = imported_run_id(members, owner)
        record = dataclasses.replace(
            record,
            run=dataclasses.replace(record.run, run_id=run_id, origin="imported", owner=owner),
        )
        try:
            predictions = (
                RowPredictions.parse(
                    _parse_json(members[PREDICTIONS_FILE], PREDICTIONS_FILE), record
                )
                if PREDICTIONS_FILE in members
                else None
            )
        except RunRecordError as exc:
            raise RunImportError(
                f"The archive is not a sound run ({str(exc).rstrip('.')}); export it again "
                "from Headline Lab."
            ) from exc
        self._refuse_if_here(run_id)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".import-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            model = staging / MODEL_FILE
            model.write_bytes(members[MODEL_FILE])
            problem = _model_problem(model) or check_in_separate_process(
                model, len(record.labels.classes)
            )
            if problem is not None:
                raise RunImportError(
                    f"The archive's model.keras is not usable: {problem}; export it again "
                    "from Headline Lab."
                )
            self._refuse_if_here(run_id)  # imported by someone else meanwhile
            self.save(record, lambda path: shutil.copyfile(model, path), predictions=predictions)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return run_id

    def _refuse_if_here(self, run_id: str) -> None:
        """:class:`RunImportError` if a run holds ``run_id``: naming it only if the
        principal may see it."""
        if not self.exists(run_id):
            return
        try:
            self.run_info(run_id)
        except RunNotFoundError:
            raise RunImportError(
                "The archive was not imported; the saved runs are unchanged."
            ) from None
        except RunRecordError:
            pass  # damaged but visible: named below
        raise RunImportError(
            f"This archive's run is already here as run {run_id}; an import never replaces a run."
        )

    def _recover_moved_aside(self) -> None:
        """Put back a run a crash left moved aside by the non-atomic replacement."""
        for aside in self.root.glob(".old-*"):
            run_id = aside.name.split("-")[1]
            target = self.root / run_id
            if RUN_ID_PATTERN.match(run_id) and not target.exists():
                try:
                    os.replace(aside, target)
                except OSError:
                    continue  # another process got there first

    def _is_damaged(self, run_id: str) -> bool:
        try:
            self.get(run_id)
        except RunRecordError:
            return True
        except RunNotFoundError:
            return False
        return False

    def _is_complete(self, run_id: str) -> bool:
        try:
            return self.get(run_id).complete
        except (RunNotFoundError, RunRecordError):
            return False


def imported_run_id(members: dict[str, bytes], owner: str | None) -> str:
    """The id of a run imported from an archive with ``members`` (file name -> bytes)
    for ``owner``: a hash of every member and the owner, namespaced as imported. Two
    sessions importing one archive get two private runs; in team mode they get one."""
    digest = hashlib.sha256(b"headline-lab imported run\0")
    digest.update(json.dumps(owner).encode())
    for name in sorted(members):
        digest.update(f"\0{name}\0{len(members[name])}\0".encode())
        digest.update(members[name])
    return digest.hexdigest()[:16]


def sibling_run_id(run_id: str, created_at: str) -> str:
    """The id a stopped run gets when a complete run already holds ``run_id``."""
    return hashlib.sha256(f"{run_id}:{created_at}:stopped".encode()).hexdigest()[:16]


#: The owner of a damaged run whose run.json cannot say: no session's (so only the
#: administrator, or a session in team mode, sees it), never "shared".
UNKNOWN_OWNER = "unknown"


def _owner_of(folder: Path) -> str | None:
    """The owner named in a damaged run's run.json: ``None`` (shared), a session's id,
    or :data:`UNKNOWN_OWNER` when run.json cannot be read."""
    try:
        raw = json.loads((folder / "run.json").read_text("utf-8"))
        owner = raw.get("owner")
    except (OSError, ValueError, TypeError, AttributeError):
        return UNKNOWN_OWNER
    if owner is None or isinstance(owner, str):
        return owner
    return UNKNOWN_OWNER


@dataclass(frozen=True)
class _Owned:
    """Just an owner, for :func:`pipeline.sessions.access.can` where no record could be read."""

    owner: str | None


def _not_found(run_id: str) -> RunNotFoundError:
    """The one answer for a run that is not there and for one the principal may not
    see: the two must read the same (and never name the server's folder)."""
    return RunNotFoundError(f"No saved run {run_id} here; pick one from the Runs list.")


def _folder_problem(folder: Path) -> str | None:
    """What is missing from a run folder, or ``None`` (documents are checked apart)."""
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing:
        return f"{', '.join(missing)} missing"
    return _model_problem(folder / MODEL_FILE)


def _model_problem(path: Path) -> str | None:
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


def _read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise RunRecordError(f"{path.name} is over {MAX_JSON_BYTES // 2**20} MB")
        return _parse_json(path.read_bytes(), path.name)
    except OSError as exc:
        raise RunRecordError(f"{path.name} cannot be read ({exc.strerror or exc})") from exc


def _parse_json(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RunRecordError(f"{name} is not valid JSON ({exc})") from exc


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's files (those in its sub-folders too) to disk, so the rename
    that publishes them publishes data."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb+") as handle:
                os.fsync(handle.fileno())


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``);
    ``False`` where the system or the file system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}:
        return False
    raise OSError(code, os.strerror(code), str(second))


def _swap_into_place(staging: Path, target: Path) -> None:
    """Make ``staging`` the folder ``target`` in one step; the old folder, if any, ends in
    ``staging`` (removed by the caller). Where no atomic exchange exists, the old folder
    is moved aside first, and :meth:`RunRegistry.get` never sees a half state as a run."""
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        return
    aside = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
    os.replace(target, aside)
    os.replace(staging, target)
    os.replace(aside, staging)  # so the caller's clean-up removes it


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
        unexpected = sorted(set(names) - set(RUN_FILES) - set(OPTIONAL_ARCHIVE_FILES))
        if unexpected:
            raise RunImportError(
                f"The archive holds unexpected files ({', '.join(unexpected[:5])}); a run "
                f"archive holds only {', '.join(RUN_FILES + OPTIONAL_ARCHIVE_FILES)}."
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


def _write_compact_json(path: Path, payload: Any) -> None:
    """``payload`` as JSON on one line: indented, long lists would take a line per item."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
