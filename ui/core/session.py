"""Who this browser session is, what it may see, and what a reload gives back.

Several people share one server. Each browser session gets a random key that the
server issues (:class:`pipeline.sessions.book.SessionBook`), kept in the page's address
(``?session=...``) so that a reload, or the same link in another tab, is the same
session. A key in an address that this server never issued, or that expired (7 idle
days), is not adopted: the visitor gets a new session and is told so, so a link
cannot plant a session its author knows. Only hashes of keys are stored (on disk,
so issued keys survive a restart); the hash (:func:`session_id`) names the session's
jobs and private runs. With it:

- a session sees and controls only its own training jobs (others' show only as
  a count, and as the number of trainings ahead of its own);
- what a session may do with a run is :func:`pipeline.sessions.access.can`'s answer for
  :func:`principal` (the registry of :func:`ui.core.resources.get_registry` asks it on
  every call): runs trained on an uploaded file, runs continued from a private run
  and imported runs are private to the session; runs on the bundled data are shared.
  With ``HEADLINE_LAB_TEAM_MODE=1`` every run is shared;
- a reload gives back the session's dataset, data settings, widget values,
  active run and job from a server-side store (:class:`SessionStore`), or says
  plainly that they were reset (the server restarted, or the session was
  forgotten); it never switches to another session's run. An active run deleted
  meanwhile is dropped with a note.

The key works like a password for its session's private runs: whoever has the
link has the session. Share the app's address without ``?session=`` (the Results
page's "Copy link", :mod:`ui.views.run_link`, gives a run's address without it).
"""

from __future__ import annotations

import copy
import os
import threading
from collections import OrderedDict
from typing import Any, NoReturn

import streamlit as st

from pipeline.runs.registry import default_runs_dir
from pipeline.sessions.access import Action, OwnedRun, Principal, can
from pipeline.sessions.book import SessionBook, hash_key
from ui.core import state

#: The address parameter that carries the session key.
SESSION_PARAM = "session"
#: Set to 1 to share every run (private runs off): a team's own server.
TEAM_MODE_ENV = "HEADLINE_LAB_TEAM_MODE"
#: Sessions whose state a reload can give back (least recently used forgotten first).
MAX_REMEMBERED_SESSIONS = 32

_KEY = "session_key"
#: Session-state keys a reload gives back.
REMEMBERED_KEYS = (
    state.DATASET_SOURCE,
    state.DATA_CONFIG,
    state.ACTIVE_RUN_ID,
    state.TRAIN_JOB_ID,
    state.HANDLED_JOBS,
    state.KEPT_ACTIVE_RUNS,
    state.REVIEW_JOB_ID,
    state.REVIEW_DECISIONS,
    state.SAVED_WIDGETS,
)


def team_mode() -> bool:
    """Whether every run is shared (``HEADLINE_LAB_TEAM_MODE`` set to 1/true/yes/on)."""
    return os.environ.get(TEAM_MODE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


UNKNOWN_LINK_NOTICE = (
    "This link's session is unknown here (it expired, or this server never issued it); "
    "a new session was started. Your dataset and settings start afresh."
)


def session_book() -> SessionBook:
    """The book of keys this server issued (cheap: it reads the disk on each call)."""
    return SessionBook(default_runs_dir().resolve())


def session_key() -> str:
    """This session's key, put in the address on the session's first run: the key the
    address carries if this server issued it and it has not expired, else a new one."""
    key = st.session_state.get(_KEY)
    if key is None:
        given = st.query_params.get(SESSION_PARAM)
        book = session_book()
        if book.is_issued(given):
            key = given
        else:
            book.forget_expired()  # now and then: when a session starts
            key = book.issue()
            if given:
                st.session_state[state.DATASET_NOTICE] = UNKNOWN_LINK_NOTICE
        st.session_state[_KEY] = key
    if st.query_params.get(SESSION_PARAM) != key:
        st.query_params[SESSION_PARAM] = key
    return key


def session_id() -> str:
    """The hash of this session's key: what jobs and private runs are labelled with."""
    return hash_key(session_key())


def principal() -> Principal:
    """This session as :mod:`pipeline.sessions.access` knows it."""
    return Principal.visitor(session_id(), team_mode=team_mode())


def run_owner_for(source: state.DatasetSource) -> str | None:
    """The data's owner for a new run on ``source``: this session for an uploaded file
    (unless in team mode), nobody (shared) for the bundled data or a file on the server.
    A run continued from a private run is private whatever this says
    (:func:`pipeline.sessions.access.strictest_owner`)."""
    return principal().new_run_owner if source.kind == "upload" else None


def can_see(run: OwnedRun) -> bool:
    """Whether this session may list, show and use ``run``."""
    return can(principal(), Action.LIST, run)


def can_delete(run: OwnedRun) -> bool:
    """Whether this session may delete ``run`` (its own private runs; any in team mode)."""
    return can(principal(), Action.DELETE, run)


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


def end_run() -> None:
    """What every script run does last: keep the ``keep.`` widget values for the next
    page (:func:`ui.core.state.save_widget_values`) and remember the session for a reload."""
    state.save_widget_values()
    remember_session()


def stop_run() -> NoReturn:
    """``st.stop()``, after :func:`end_run`. Once a stop is requested Streamlit ends the
    run at the next touch of session state, so bookkeeping in the entry point's
    ``finally`` never happens after a plain ``st.stop()`` (a session first opened on a
    page that stopped was never remembered, and its reload was reset)."""
    end_run()
    st.stop()


def remember_session() -> None:
    """At the end of every run: keep this session's state for a reload."""
    values = {
        name: copy.copy(st.session_state[name])  # a later run must not change what is kept
        for name in REMEMBERED_KEYS
        if name in st.session_state
    }
    session_store().remember(session_key(), values)
    session_book().touch(session_id(), state.get_active_run_id())
