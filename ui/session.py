"""Who this browser session is, what it may see, and what a reload gives back.

Several people share one server. Each browser session gets a random key, kept
in the page's address (``?session=...``) so that a reload, or the same link in
another tab, is the same session. Only a hash of the key (:func:`session_id`)
is ever stored with a job or a run. With it:

- a session sees and controls only its own training jobs (others' show only as
  a count, and as the number of trainings ahead of its own);
- runs trained on an uploaded file, and imported runs, belong to the session
  that made them; runs on the bundled data (or on a file on the server's disk)
  are shared. With ``HEADLINE_LAB_TEAM_MODE=1`` every run is shared;
- a reload gives back the session's dataset, data settings, widget values,
  active run and job from a server-side store (:class:`SessionStore`), or says
  plainly that they were reset (the server restarted, or the session was
  forgotten); it never switches to another session's run.

The key works like a password for its session's private runs: whoever has the
link has the session. Share the app's address without ``?session=``.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import secrets
import threading
from collections import OrderedDict
from typing import Any

import streamlit as st

from pipeline.registry import RunSummary
from ui import state

#: The address parameter that carries the session key.
SESSION_PARAM = "session"
#: Set to 1 to share every run (private runs off): a team's own server.
TEAM_MODE_ENV = "HEADLINE_LAB_TEAM_MODE"
#: Sessions whose state a reload can give back (least recently used forgotten first).
MAX_REMEMBERED_SESSIONS = 32

_KEY = "session_key"
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: Session-state keys a reload gives back.
REMEMBERED_KEYS = (
    state.DATASET_SOURCE,
    state.DATA_CONFIG,
    state.ACTIVE_RUN_ID,
    state.TRAIN_JOB_ID,
    state.HANDLED_JOBS,
    state.SAVED_WIDGETS,
)


def team_mode() -> bool:
    """Whether every run is shared (``HEADLINE_LAB_TEAM_MODE`` set to 1/true/yes/on)."""
    return os.environ.get(TEAM_MODE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def session_key() -> str:
    """This session's key (made, and put in the address, on the session's first run)."""
    key = st.session_state.get(_KEY)
    if key is None:
        given = st.query_params.get(SESSION_PARAM)
        key = given if given and _KEY_PATTERN.match(given) else secrets.token_urlsafe(18)
        st.session_state[_KEY] = key
    if st.query_params.get(SESSION_PARAM) != key:
        st.query_params[SESSION_PARAM] = key
    return key


def session_id() -> str:
    """The hash of this session's key: what jobs and private runs are labelled with."""
    return hash_key(session_key())


def hash_key(key: str) -> str:
    """16 hex digits of the key's SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def run_owner_for(source: state.DatasetSource) -> str | None:
    """The owner a new run on ``source`` gets: this session for an uploaded file (unless
    in team mode), nobody (shared) for the bundled data or a file on the server."""
    if team_mode() or source.kind != "upload":
        return None
    return session_id()


def import_owner() -> str | None:
    """The owner of a run this session imports: itself, unless in team mode."""
    return None if team_mode() else session_id()


def can_see(run: RunSummary) -> bool:
    """Whether this session may list, show and use ``run``."""
    return team_mode() or run.owner is None or run.owner == session_id()


class SessionStore:
    """Remembered session states, by session key, least recently used forgotten first."""

    def __init__(self, capacity: int = MAX_REMEMBERED_SESSIONS) -> None:
        self.capacity = capacity
        self._states: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, key: str, values: dict[str, Any]) -> None:
        with self._lock:
            self._states[key] = values
            self._states.move_to_end(key)
            while len(self._states) > self.capacity:
                self._states.popitem(last=False)

    def recall(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            values = self._states.get(key)
            if values is not None:
                self._states.move_to_end(key)
            return values


@st.cache_resource(show_spinner=False)
def session_store() -> SessionStore:
    """The server's one :class:`SessionStore`."""
    return SessionStore()


_RESTORED = "session_restored"
RESET_NOTICE = (
    "This link's session is no longer on the server (it restarted, or the session was "
    "forgotten): the dataset, settings and active run were reset. Your private runs are "
    "still listed."
)


def restore_session() -> None:
    """On a session's first run: give back what the store remembers for its key, or say
    (once, through the dataset notice) that a remembered session could not be found."""
    if st.session_state.get(_RESTORED):
        return
    st.session_state[_RESTORED] = True
    given = st.query_params.get(SESSION_PARAM)
    key = session_key()
    if not given or given != key:
        return  # a new session: nothing to give back
    remembered = session_store().recall(key)
    if remembered is None:
        st.session_state[state.DATASET_NOTICE] = RESET_NOTICE
        return
    for name, value in remembered.items():
        st.session_state.setdefault(name, value)


def remember_session() -> None:
    """At the end of every run: keep this session's state for a reload."""
    values = {
        name: copy.copy(st.session_state[name])  # a later run must not change what is kept
        for name in REMEMBERED_KEYS
        if name in st.session_state
    }
    session_store().remember(session_key(), values)
