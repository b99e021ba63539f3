"""Saved runs on disk: atomic save, list, load, delete, export and import.

A run lives in ``<runs_dir>/<run_id>/``: ``model.keras``, six JSON documents and optional
files (the list, their names and JSON reading and writing: :mod:`pipeline.runs.files`).

``model.keras`` holds no optimizer state (runs saved before that still load; see
:mod:`pipeline.training.state` for the design): it is all that predictions, the
download and a run archive need. ``training_state.h5`` and ``logs/`` are never
required, never make a run damaged, and never travel in an archive
(:meth:`RunRegistry.export_zip` writes the model and the documents only), so archives
stay lean; an imported run has neither, and continuing it starts a fresh optimizer.
``tensorboard --logdir runs`` shows every run's curves by run id.
``test_predictions.json`` is optional too (runs saved before it was kept have none, and
load as they are): it is read only on demand
(:meth:`~pipeline.runs.summary.SavedRun.test_predictions`, for test results per slice of
the data, see :mod:`pipeline.evaluation.slices`), and it travels in an archive when the
run has it (:mod:`pipeline.runs.archive`).

Every JSON document is parsed and checked by :mod:`pipeline.runs.record` on save,
on load and on import. A run is written into a hidden temporary folder and
swapped into place with one atomic rename (:mod:`pipeline.core.atomic`), so a crash never leaves a
half-written folder that looks like a run, and never loses the run it replaces.
A folder named like a run whose files are missing, malformed or whose model is
not a Keras archive is listed as *damaged*, with the reason, and can be deleted.

Nothing here imports TensorFlow except :meth:`RunRegistry.load_model` and the
model check in :meth:`RunRegistry.import_zip`. Nothing is pickled: JSON and ``.keras`` only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.atomic import (
    fsync_folder,
    restore_moved_aside,
    swap_into_place,
    write_json_atomically,
)
from pipeline.core.errors import (
    RunAccessError,
    RunImportError,
    RunInUseError,
    RunNotFoundError,
    RunRecordError,
)
from pipeline.runs.archive import (
    archive_predictions,
    archive_record,
    imported_run_id,
    read_archive,
    write_archive,
)
from pipeline.runs.files import (
    JSON_FILES,
    LOGS_DIR,
    MODEL_FILE,
    PREDICTIONS_FILE,
    RUN_FILES,
    TRAINING_MODEL_FILE,
    TRAINING_STATE_FILE,
    read_json,
)
from pipeline.runs.model_file import keras_archive_problem, load_model_file
from pipeline.runs.record import RUN_ID_PATTERN, RunInfo, RunRecord
from pipeline.runs.results import RowPredictions
from pipeline.runs.summary import RunSummary, SavedRun, damaged_summary
from pipeline.sessions.access import ADMINISTRATOR, Action, Principal, can

if TYPE_CHECKING:
    import keras

    from pipeline.runs.model_check import ModelChecker

RUNS_DIR_ENV = "HEADLINE_LAB_RUNS_DIR"


def default_runs_dir() -> Path:
    """``$HEADLINE_LAB_RUNS_DIR`` if set, else ``./runs``."""
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")


class RunRegistry:
    """The runs under one folder (created on first save), as ``principal`` may see them.

    Every call that reads or changes runs asks :func:`pipeline.sessions.access.can` for
    ``principal`` (default: the administrator, which the CLI is): a run it may not see
    answers exactly as a run that is not there (:class:`RunNotFoundError`, whose message
    never names the server's folder); a run it may see but not change raises
    :class:`RunAccessError`.
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        principal: Principal = ADMINISTRATOR,
        model_checker: ModelChecker | None = None,
    ) -> None:
        """The runs in ``root`` (default: :func:`default_runs_dir`) as ``principal`` may
        use them. ``model_checker`` checks imported models in a process it keeps (the
        app's); without one, each import starts a process of its own."""
        self.root = Path(root) if root is not None else default_runs_dir()
        self.principal = principal
        self.model_checker = model_checker

    def as_principal(self, principal: Principal) -> RunRegistry:
        """The same runs folder, as ``principal`` sees it."""
        return RunRegistry(self.root, principal=principal, model_checker=self.model_checker)

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
        write_training_model: Callable[[Path], None] | None = None,
        logs: Path | None = None,
        predictions: RowPredictions | None = None,
    ) -> SavedRun:
        """Write a run atomically and return it as saved.

        ``record`` is checked as it would be on load. ``write_model(path)`` writes
        ``model.keras``; ``write_training_state(path)``, when given, writes
        ``training_state.h5``; ``write_training_model(path)``, when given, writes
        ``training_model.keras`` (the full model a lean ``model.keras`` came from, which
        continuing the run trains on); ``logs``, when it is a folder (one from
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
            if write_training_model is not None:
                write_training_model(staging / TRAINING_MODEL_FILE)
            if logs is not None and logs.is_dir():
                os.replace(logs, staging / LOGS_DIR)
            for name, payload in record.documents().items():
                write_json_atomically(staging / name, payload)
            if predictions is not None:
                write_json_atomically(
                    staging / PREDICTIONS_FILE, predictions.to_json(), compact=True
                )
            fsync_folder(staging)
            swap_into_place(staging, target)
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
        # a run a crash left moved aside by swap_into_place's two-rename fallback
        restore_moved_aside(self.root, RUN_ID_PATTERN.match)
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
                documents = {name: read_json(folder / name) for name in JSON_FILES}
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
            info = RunInfo.parse(read_json(path))
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
        return self.load_saved_model(self.get(run_id))

    def load_saved_model(self, saved: SavedRun) -> keras.Model:
        """The end-to-end model of a run already read with :meth:`get` (its documents not
        read twice), loaded with ``safe_mode=True``."""
        return _load_run_model(saved.run_id, saved.model_path, "model")

    def load_training_model(self, run_id: str) -> keras.Model:
        """The end-to-end model continuing the run trains on: ``training_model.keras``
        (full precision) when the run has one, else ``model.keras`` (runs saved before
        lean models, and imported runs), loaded with ``safe_mode=True``."""
        path = self.get(run_id).training_model_path
        if not path.is_file():
            return self.load_model(run_id)
        return _load_run_model(run_id, path, TRAINING_MODEL_FILE)

    def export_zip(self, run_id: str) -> bytes:
        """The run's model and documents as a zip archive (flat, no folders).

        ``test_predictions.json`` goes with them when the run has it; ``training_state.h5``
        and ``logs/`` stay behind: an archive is for using and sharing the run, and the
        model in it holds no optimizer state.
        """
        saved = self.get(run_id)
        if not can(self.principal, Action.EXPORT, saved.run):
            raise _not_found(run_id)
        return write_archive(saved.path)

    def import_zip(self, data: bytes) -> str:
        """Check a run archive made by :meth:`export_zip`, save it, return its new id.

        The archive must hold exactly the run files at its top level (and, optionally,
        ``test_predictions.json``, checked against the documents), stay under
        ``MAX_IMPORT_BYTES`` unpacked, carry documents that parse as a run and a model
        that loads with ``safe_mode=True`` and scores a headline into the run's classes,
        checked in another process (:mod:`pipeline.runs.model_check`), never in this one.

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

        members = read_archive(data)
        record = archive_record(members)
        owner = self.principal.new_run_owner
        run_id = imported_run_id(members, owner)
        record = dataclasses.replace(
            record,
            run=dataclasses.replace(record.run, run_id=run_id, origin="imported", owner=owner),
        )
        predictions = archive_predictions(members, record)
        self._refuse_if_here(run_id)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".import-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            model = staging / MODEL_FILE
            model.write_bytes(members[MODEL_FILE])
            check = (
                self.model_checker.problem
                if self.model_checker is not None
                else check_in_separate_process
            )
            problem = keras_archive_problem(model) or check(model, len(record.labels.classes))
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
    return keras_archive_problem(folder / MODEL_FILE)


def _load_run_model(run_id: str, path: Path, what: str) -> keras.Model:
    """``path`` loaded with ``safe_mode=True``; a :class:`RunRecordError` saying the run
    is damaged (its ``what`` does not load) on any failure."""
    try:
        return load_model_file(path)
    except Exception as exc:  # any failure to load means the file is unusable
        raise RunRecordError(
            f"Run {run_id} is damaged (its {what} does not load: {type(exc).__name__}); "
            "delete it and train it again."
        ) from exc
