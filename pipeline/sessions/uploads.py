"""Uploaded files kept on disk, per session, within one declared total size.

The app never keeps an uploaded file's bytes in memory beyond the moment it saves them:
each upload is written into its session's folder (see :mod:`pipeline.sessions.book`)::

    <runs_dir>/.sessions/<session_id>/uploads/
        <sha256>        the file's bytes, named by their SHA-256 (no extension: every
                        reader recognises gzip and ZIP by their first bytes)
        <sha256>.json   {"name": the file's own name, "size": bytes, "saved_at": seconds}

A session's folder, uploads included, is removed when the session expires
(``pipeline.sessions.book.SessionBook.forget_expired``).

Bounds, and what gives way (a file's modification time is its last use: its save, or
:meth:`UploadArea.touch` while a session has it as its dataset):

- A session keeps at most :data:`MAX_UPLOADS_PER_SESSION` files and
  :data:`MAX_SESSION_UPLOAD_BYTES` bytes; a save first drops the session's own least
  recently used files to stay within both. A single file over the session's bytes is
  refused.
- All sessions' uploads together stay within :func:`upload_space_bytes`
  (:data:`MAX_UPLOAD_BYTES_TOTAL`, 4 GiB, or ``HEADLINE_LAB_UPLOAD_SPACE_MB``). When a save
  would pass it, other sessions' files give way, least recently used first: first those
  that are not their session's most recent upload, then a most recent upload unused for
  :data:`IN_USE_SECONDS` (an hour). A session's most recent upload used within the hour
  is never removed for someone else. If that does not make room, nothing is removed and
  the save is refused with :class:`~pipeline.core.errors.UploadSpaceError`.

A session whose file was removed finds it gone (:meth:`UploadArea.find` answers
``None``) and is asked to upload it again. Saves are serialised by a lock file under
``.sessions``, so every process and thread sees one consistent total. No Streamlit here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.atomic import is_temporary, write_bytes_atomically, write_json_atomically
from pipeline.core.errors import UploadSpaceError
from pipeline.sessions.book import session_folder, sessions_root

#: Default bound on every session's uploads together, in bytes (4 GiB).
MAX_UPLOAD_BYTES_TOTAL: int = 4 * 2**30
#: Overrides :data:`MAX_UPLOAD_BYTES_TOTAL`, in MB (MiB).
UPLOAD_SPACE_ENV = "HEADLINE_LAB_UPLOAD_SPACE_MB"
#: Files one session keeps (its current upload and the two before it).
MAX_UPLOADS_PER_SESSION: int = 3
#: Bytes one session's uploads may take together (a few uploads at the 200 MB limit).
MAX_SESSION_UPLOAD_BYTES: int = 1 * 2**30
#: A session's most recent upload used within this many seconds is never removed for
#: another session's save.
IN_USE_SECONDS: float = 3600.0
#: :meth:`UploadArea.touch` rewrites a file's time at most this often.
TOUCH_INTERVAL_SECONDS: float = 60.0
UPLOADS_DIR = "uploads"
_LOCK_FILE = ".uploads.lock"
#: A temporary file (:func:`~pipeline.core.atomic.is_temporary`) this old is left over
#: from a crash and is removed.
_STALE_PARTIAL_SECONDS = 3600.0
_THREAD_LOCK = threading.Lock()


def upload_space_bytes() -> int:
    """The total bound in bytes: ``$HEADLINE_LAB_UPLOAD_SPACE_MB`` MB, or
    :data:`MAX_UPLOAD_BYTES_TOTAL` when unset or not a positive number."""
    raw = os.environ.get(UPLOAD_SPACE_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else 0.0
    except ValueError:
        megabytes = 0.0
    return int(megabytes * 2**20) if megabytes > 0 else MAX_UPLOAD_BYTES_TOTAL


@dataclass(frozen=True)
class SavedUpload:
    """An upload on disk: its path, SHA-256 (hex), original file name and size in bytes."""

    path: Path
    digest: str
    name: str
    size: int


@dataclass(frozen=True)
class _Stored:
    session_id: str
    path: Path
    size: int
    used_at: float


class UploadArea:
    """The uploads of every session under ``<runs_dir>/.sessions``.

    ``total_bytes`` defaults to :func:`upload_space_bytes`; ``session_files``,
    ``session_bytes`` and ``in_use_seconds`` to the module's constants; ``clock``
    returns the time in Unix seconds (a test passes its own).
    """

    def __init__(
        self,
        runs_dir: Path,
        *,
        total_bytes: int | None = None,
        session_files: int = MAX_UPLOADS_PER_SESSION,
        session_bytes: int = MAX_SESSION_UPLOAD_BYTES,
        in_use_seconds: float = IN_USE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runs_dir = Path(runs_dir)
        self.total_bytes = upload_space_bytes() if total_bytes is None else total_bytes
        self.session_files = session_files
        self.session_bytes = session_bytes
        self.in_use_seconds = in_use_seconds
        self.clock = clock

    def folder(self, session_id: str) -> Path:
        """The session's upload folder (whether or not it exists); ``ValueError`` for a
        string that is not a session id."""
        return session_folder(self.runs_dir, session_id) / UPLOADS_DIR

    def save(self, session_id: str, name: str, data: bytes) -> SavedUpload:
        """Keep ``data`` (a file called ``name``) for the session; returns where it is.

        The same bytes already kept for this session are reused (and marked used now).
        Otherwise the file is written under a temporary name in the same folder,
        flushed to disk and renamed into place, after making room as the module's
        docstring says. Raises :class:`~pipeline.core.errors.UploadSpaceError` when it does
        not fit, and ``OSError`` when the disk fails (nothing half-written is left).
        """
        digest = hashlib.sha256(data).hexdigest()
        folder = self.folder(session_id)
        target = folder / digest
        size = len(data)
        with self._locked():
            if _size_of(target) == size:
                self._mark_used(target)
                _write_note(target, name, size, self.clock())
                return SavedUpload(target, digest, name, size)
            if size > min(self.session_bytes, self.total_bytes):
                limit = min(self.session_bytes, self.total_bytes)
                raise UploadSpaceError(
                    f"{name} is {_size(size)}, more than the server keeps for one visitor "
                    f"({_size(limit)}); try a smaller file."
                )
            stored = self._inventory()
            own_drop = self._own_to_drop(session_id, stored, size)
            others_drop = self._others_to_drop(session_id, stored, own_drop, size)
            for item in [*own_drop, *others_drop]:
                _remove(item.path)
            folder.mkdir(parents=True, exist_ok=True)
            write_bytes_atomically(target, data)
            self._mark_used(target)
            _write_note(target, name, size, self.clock())
        return SavedUpload(target, digest, name, size)

    def find(self, session_id: str, digest: str) -> Path | None:
        """The session's kept file with this SHA-256, or ``None`` once it is gone."""
        try:
            path = self.folder(session_id) / digest
        except ValueError:
            return None
        return path if path.is_file() else None

    def touch(self, path: Path) -> None:
        """Mark a kept file as used now (at most once a :data:`TOUCH_INTERVAL_SECONDS`);
        a file that is gone is no error."""
        try:
            if self.clock() - Path(path).stat().st_mtime >= TOUCH_INTERVAL_SECONDS:
                self._mark_used(Path(path))
        except OSError:
            pass

    def used_bytes(self) -> int:
        """Bytes every session's kept uploads take together."""
        return sum(item.size for item in self._inventory())

    def _own_to_drop(self, session_id: str, stored: list[_Stored], size: int) -> list[_Stored]:
        """The session's least recently used files that must go for one more of ``size``."""
        own = sorted(
            (item for item in stored if item.session_id == session_id),
            key=lambda item: item.used_at,
            reverse=True,
        )
        kept_bytes, drop = size, []
        for index, item in enumerate(own):
            if index + 1 < self.session_files and kept_bytes + item.size <= self.session_bytes:
                kept_bytes += item.size
            else:
                drop.append(item)
        return drop

    def _others_to_drop(
        self, session_id: str, stored: list[_Stored], own_drop: list[_Stored], size: int
    ) -> list[_Stored]:
        """Other sessions' files to remove so that ``size`` more fits in the total, in the
        order the module's docstring gives; raises when even all of them do not make room."""
        dropped = {item.path for item in own_drop}
        used = sum(item.size for item in stored if item.path not in dropped)
        excess = used + size - self.total_bytes
        if excess <= 0:
            return []
        newest: dict[str, _Stored] = {}
        for item in stored:
            if item.session_id not in newest or item.used_at > newest[item.session_id].used_at:
                newest[item.session_id] = item
        others = [item for item in stored if item.session_id != session_id]
        older = sorted(
            (item for item in others if newest[item.session_id] is not item),
            key=lambda item: item.used_at,
        )
        idle_before = self.clock() - self.in_use_seconds
        idle_current = sorted(
            (
                item
                for item in others
                if newest[item.session_id] is item and item.used_at < idle_before
            ),
            key=lambda item: item.used_at,
        )
        drop = []
        for item in [*older, *idle_current]:
            if excess <= 0:
                break
            drop.append(item)
            excess -= item.size
        if excess > 0:
            raise UploadSpaceError(
                f"The server's upload space is full ({_size(used)} of {_size(self.total_bytes)} "
                "used); try a smaller file or later."
            )
        return drop

    def _inventory(self) -> list[_Stored]:
        """Every kept upload of every session (and removes partial files left by a crash)."""
        found: list[_Stored] = []
        root = sessions_root(self.runs_dir)
        for path in root.glob(f"*/{UPLOADS_DIR}/*"):
            session_id = path.parent.parent.name
            if session_id.startswith(".") or path.name.endswith(".json"):
                continue
            try:
                info = path.stat()
            except OSError:
                continue
            if is_temporary(path):
                if self.clock() - info.st_mtime > _STALE_PARTIAL_SECONDS:
                    _remove(path)
                continue
            found.append(_Stored(session_id, path, info.st_size, info.st_mtime))
        return found

    def _mark_used(self, path: Path) -> None:
        now = self.clock()
        os.utime(path, (now, now))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One save at a time: a lock for this process's threads, and a lock file for
        other processes over the same runs folder."""
        root = sessions_root(self.runs_dir)
        root.mkdir(parents=True, exist_ok=True)
        with _THREAD_LOCK, (root / _LOCK_FILE).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _write_note(target: Path, name: str, size: int, now: float) -> None:
    """The small JSON beside a kept file: its own name, size and when it was saved."""
    with contextlib.suppress(OSError):  # the note only helps whoever looks at the folder
        write_json_atomically(
            target.with_name(f"{target.name}.json"),
            {"name": name, "size": size, "saved_at": now},
            indent=None,
            ensure_ascii=True,
            final_newline=False,
        )


def _remove(path: Path) -> None:
    """Remove a kept file and its note; one already gone is no error."""
    for item in (path, path.with_name(f"{path.name}.json")):
        with contextlib.suppress(OSError):
            item.unlink()


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _size(size: int) -> str:
    """``size`` bytes for a person: "3.9 GB", "180 MB" or "8 KB"."""
    if size >= 2**30:
        return f"{size / 2**30:,.1f} GB"
    if size >= 2**20:
        return f"{size / 2**20:,.0f} MB"
    return f"{max(size, 1) / 2**10:,.0f} KB"
