"""Run archives: a run's model and documents as one flat zip, written, read and checked.

:meth:`~pipeline.runs.registry.RunRegistry.export_zip` packs a run folder with
:func:`write_archive`; :meth:`~pipeline.runs.registry.RunRegistry.import_zip` unpacks an
archive with :func:`read_archive` (every member checked: the run files, nothing else, under
:data:`MAX_IMPORT_BYTES`; :class:`~pipeline.core.errors.RunImportError` otherwise), parses
its documents (:func:`archive_record`, :func:`archive_predictions`) and gives the run
this server's id, :func:`imported_run_id`, never the archive's. Nothing is unpacked to
disk here.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from pipeline.core.errors import RunImportError, RunRecordError
from pipeline.runs.files import JSON_FILES, PREDICTIONS_FILE, RUN_FILES, parse_json
from pipeline.runs.record import RunRecord
from pipeline.runs.results import RowPredictions

#: What a run archive may hold besides ``RUN_FILES``.
OPTIONAL_ARCHIVE_FILES = (PREDICTIONS_FILE,)
#: Largest run archive accepted by :meth:`~pipeline.runs.registry.RunRegistry.import_zip`
#: (uncompressed).
MAX_IMPORT_BYTES = 300 * 1024 * 1024


def write_archive(folder: Path) -> bytes:
    """The run in ``folder``: its model and documents as a zip archive (flat, no folders),
    with the optional files it has (:data:`OPTIONAL_ARCHIVE_FILES`)."""
    optional = [name for name in OPTIONAL_ARCHIVE_FILES if (folder / name).is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (*RUN_FILES, *optional):
            archive.write(folder / name, arcname=name)
    return buffer.getvalue()


def read_archive(data: bytes) -> dict[str, bytes]:
    """The members of the run archive ``data`` (file name -> bytes), checked: a zip of the
    run files, each once, optionally :data:`OPTIONAL_ARCHIVE_FILES`, nothing else, at most
    :data:`MAX_IMPORT_BYTES` unpacked; :class:`RunImportError` (saying what is wrong) otherwise."""
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


def archive_record(members: dict[str, bytes]) -> RunRecord:
    """The run record of an archive's ``members`` (from :func:`read_archive`), parsed and
    checked; :class:`RunImportError` saying what is wrong otherwise."""
    try:
        documents = {name: parse_json(members[name], name) for name in JSON_FILES}
        return RunRecord.parse(documents)
    except RunRecordError as exc:
        raise RunImportError(
            f"The archive is not a sound run ({str(exc).rstrip('.')}); export it again "
            "from Headline Lab."
        ) from exc


def archive_predictions(members: dict[str, bytes], record: RunRecord) -> RowPredictions | None:
    """The archive's ``test_predictions.json``, checked against ``record`` (``None`` when
    it has none); :class:`RunImportError` saying what is wrong otherwise."""
    try:
        return (
            RowPredictions.parse(parse_json(members[PREDICTIONS_FILE], PREDICTIONS_FILE), record)
            if PREDICTIONS_FILE in members
            else None
        )
    except RunRecordError as exc:
        raise RunImportError(
            f"The archive is not a sound run ({str(exc).rstrip('.')}); export it again "
            "from Headline Lab."
        ) from exc


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
