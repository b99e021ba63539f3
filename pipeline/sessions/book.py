"""Session keys this server issued, and what it keeps of each session on disk.

A browser session of the app is named by a random key in the page's address
(``?session=...``). The server issues every key itself (:meth:`SessionBook.issue`)
and adopts a key from an address only if it issued it and the key has not expired
(:meth:`SessionBook.is_issued`): a link carrying a key its author made up starts a
new session, so nobody can plant a session on someone else (session fixation).

Only a hash of each key is stored (:func:`hash_key`, which is also the session's id,
the owner of its private runs). Each session has a folder::

    <runs_dir>/.sessions/<session_id>/
        session.json   {"issued_at", "last_seen" (Unix seconds), "active_run_id"}
        uploads/       the session's uploaded files (pipeline.sessions.uploads)

Because the hashes are on disk, issued keys survive a server restart. A key expires
after :func:`idle_seconds` without use (``HEADLINE_LAB_SESSION_IDLE_DAYS``, default
7 days); :meth:`SessionBook.forget_expired` then removes its folder, uploads included.

The book also answers whether a run is some other session's active run
(:meth:`SessionBook.sessions_using`), which :mod:`pipeline.runs.registry` asks before a
visitor deletes a run. No Streamlit here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.atomic import write_json_atomically

#: The hidden folder under the runs folder that holds the sessions' folders.
SESSIONS_DIR = ".sessions"
RECORD_FILE = "session.json"
#: Days a key stays valid after its session was last seen.
IDLE_DAYS_ENV = "HEADLINE_LAB_SESSION_IDLE_DAYS"
DEFAULT_IDLE_DAYS = 7.0
#: A session seen within this many seconds holds its active run: nobody else deletes it.
ACTIVE_RUN_HOLD_SECONDS = 24 * 3600
#: ``last_seen`` is rewritten at most this often when nothing else changed.
TOUCH_INTERVAL_SECONDS = 60
#: What a key looks like (``secrets.token_urlsafe(18)`` gives 24 such characters).
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SESSION_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")


def hash_key(key: str) -> str:
    """A session's id: 16 hex digits of its key's SHA-256 (what is stored, never the key)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def idle_seconds() -> float:
    """How long an unused key stays valid: ``$HEADLINE_LAB_SESSION_IDLE_DAYS`` days (7)."""
    raw = os.environ.get(IDLE_DAYS_ENV, "").strip()
    try:
        days = float(raw) if raw else DEFAULT_IDLE_DAYS
    except ValueError:
        days = DEFAULT_IDLE_DAYS
    return max(days, 0.0) * 86400


def sessions_root(runs_dir: Path) -> Path:
    """The folder of every session's folder."""
    return Path(runs_dir) / SESSIONS_DIR


def session_folder(runs_dir: Path, session_id: str) -> Path:
    """The folder of the session ``session_id`` (whether or not it exists)."""
    if not _SESSION_ID_PATTERN.match(session_id):
        raise ValueError(f"{session_id!r} is not a session id")
    return sessions_root(runs_dir) / session_id


@dataclass(frozen=True)
class SessionRecord:
    """What ``session.json`` holds."""

    issued_at: float
    last_seen: float
    active_run_id: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "issued_at": self.issued_at,
            "last_seen": self.last_seen,
            "active_run_id": self.active_run_id,
        }


class SessionBook:
    """The sessions this server issued, kept under ``<runs_dir>/.sessions``.

    ``clock`` returns the time in Unix seconds (a test passes its own); ``idle`` is
    the expiry in seconds (default :func:`idle_seconds`).
    """

    def __init__(
        self,
        runs_dir: Path,
        *,
        idle: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runs_dir = Path(runs_dir)
        self.idle = idle_seconds() if idle is None else idle
        self.clock = clock

    def issue(self) -> str:
        """A new key, recorded (by its hash) as issued now."""
        key = secrets.token_urlsafe(18)
        now = self.clock()
        self._write(hash_key(key), SessionRecord(issued_at=now, last_seen=now))
        return key

    def is_issued(self, key: str | None) -> bool:
        """Whether this server issued ``key`` and it has not expired."""
        if not key or not KEY_PATTERN.match(key):
            return False
        record = self.record(hash_key(key))
        return record is not None and not self._expired(record)

    def record(self, session_id: str) -> SessionRecord | None:
        """The session's record, or ``None`` if it has none (or it cannot be read)."""
        try:
            raw = json.loads((session_folder(self.runs_dir, session_id) / RECORD_FILE).read_text())
            active = raw.get("active_run_id")
            return SessionRecord(
                issued_at=float(raw["issued_at"]),
                last_seen=float(raw["last_seen"]),
                active_run_id=active if isinstance(active, str) else None,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def touch(self, session_id: str, active_run_id: str | None) -> None:
        """Note that the session was just seen with ``active_run_id`` as its active run
        (written only when that changed or the last note is a minute old)."""
        record = self.record(session_id)
        if record is None:
            return  # not issued here (or expired and forgotten): nothing to keep up
        now = self.clock()
        if (
            record.active_run_id == active_run_id
            and now - record.last_seen < TOUCH_INTERVAL_SECONDS
        ):
            return
        self._write(
            session_id,
            SessionRecord(issued_at=record.issued_at, last_seen=now, active_run_id=active_run_id),
        )

    def sessions_using(self, run_id: str, *, other_than: str | None = None) -> int:
        """How many sessions (other than ``other_than``) seen within
        :data:`ACTIVE_RUN_HOLD_SECONDS` have ``run_id`` as their active run."""
        now = self.clock()
        count = 0
        for session_id, record in self._records():
            if (
                session_id != other_than
                and record.active_run_id == run_id
                and now - record.last_seen < min(ACTIVE_RUN_HOLD_SECONDS, self.idle)
            ):
                count += 1
        return count

    def forget_expired(self) -> int:
        """Remove the folders (uploads included) of expired sessions; how many went."""
        removed = 0
        root = sessions_root(self.runs_dir)
        if not root.is_dir():
            return 0
        for folder in root.iterdir():
            if not _SESSION_ID_PATTERN.match(folder.name):
                continue
            record = self.record(folder.name)
            if record is None:
                # No record (yet): a folder being made has one within moments.
                stale = self.clock() - _mtime(folder) > self.idle
            else:
                stale = self._expired(record)
            if stale:
                trash = root / f".expired-{folder.name}-{uuid.uuid4().hex[:8]}"
                try:
                    os.replace(folder, trash)
                except OSError:
                    continue
                shutil.rmtree(trash, ignore_errors=True)
                removed += 1
        return removed

    def _expired(self, record: SessionRecord) -> bool:
        return self.clock() - record.last_seen > self.idle

    def _records(self) -> list[tuple[str, SessionRecord]]:
        root = sessions_root(self.runs_dir)
        if not root.is_dir():
            return []
        found = []
        for folder in root.iterdir():
            if _SESSION_ID_PATTERN.match(folder.name):
                record = self.record(folder.name)
                if record is not None:
                    found.append((folder.name, record))
        return found

    def _write(self, session_id: str, record: SessionRecord) -> None:
        folder = session_folder(self.runs_dir, session_id)
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomically(
            folder / RECORD_FILE,
            record.to_json(),
            indent=None,
            ensure_ascii=True,
            final_newline=False,
        )


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
