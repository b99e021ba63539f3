"""A link to a run: the Results page's ``?run=RUN_ID`` address and its "Copy link" control.

Opening ``/results?run=RUN_ID`` shows that run when this browser session may see it
(:func:`open_linked_run`); otherwise the page says only :data:`NOT_AVAILABLE`, the same
words for a run that does not exist, a private run of another session and an address
that is not a run id, and nothing about the run. While a run is shown the address names
it (:func:`keep_in_address`), so the address bar is always a link to what is on screen.

The link the page offers (:func:`run_link`) never carries the session key: the key works
like a password for the session's private runs (:mod:`ui.core.session`), so a private
run's link opens it only in its owner's session.

The pure helpers (:func:`is_run_id`, :func:`link_to_open`, :func:`run_link`,
:func:`sharing_note`) are unit-tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from pipeline.core.errors import RunNotFoundError, RunRecordError
from pipeline.runs.record import RUN_ID_PATTERN
from pipeline.runs.summary import RunSummary
from ui.core import state
from ui.core.errors import show_error
from ui.core.resources import get_registry
from ui.core.runs import pick_run
from ui.core.session import stop_run, team_mode

#: The address parameter that names the run the Results page shows.
RUN_PARAM = "run"
#: What a link to a run this session may not see says, whatever the reason.
NOT_AVAILABLE = "This run is not available to you."
#: The Results page's url path (``st.navigation`` names it after ``app_pages/results.py``).
RESULTS_PATH = "results"
#: The run this session last opened from, or wrote into, the address: a ``?run=`` that
#: names it is the page's own, not a link to follow.
LINKED_RUN_KEY = "results.linked_run"

NOT_AVAILABLE_NOTE = (
    "The link may name a run that was deleted or never existed, or a run that is private "
    "to another browser session: a private run opens only in the session it belongs to."
)
KEY_LEFT_OUT = (
    "This link leaves out your session key (the `session=` part of your address bar), "
    "which works like a password for your private runs: share this link, not the "
    "address bar's."
)
SHARED_NOTE = "This run is shared: anyone who opens the link sees it."
PRIVATE_NOTE = (
    "This run is private: it opens only in your own session (the address in your "
    "browser's bar). Anyone else, or a new session of yours, reads "
    f"“{NOT_AVAILABLE}”"
)


def is_run_id(text: object) -> bool:
    """Whether ``text`` is a run id (16 lowercase hexadecimal digits)."""
    return isinstance(text, str) and RUN_ID_PATTERN.match(text) is not None


def link_to_open(param: str | None, last_seen: str | None) -> str | None:
    """The ``?run=`` value to follow as a link now, or ``None``.

    ``param``: the address's ``run`` parameter (``None`` when absent); ``last_seen``: the
    run this session last opened from or wrote into the address (:data:`LINKED_RUN_KEY`).
    A value equal to ``last_seen`` is the page's own (a rerun, or a stale address after a
    pick elsewhere), so a link is followed once per visit and a later pick wins.
    """
    if param is None or param == last_seen:
        return None
    return param


def run_link(page_url: str | None, run_id: str) -> str:
    """The address that opens run ``run_id`` on the Results page, with no session key.

    ``page_url``: the Results page's address as the browser uses it (``st.context.url``:
    scheme, host, port and path). Its query, fragment and any user name or password are
    dropped, and ``/results`` is added when the path does not end with it. Without an
    address (a client that sent none) the link is the path alone, ``/results?run=...``.
    Raises ``ValueError`` when ``run_id`` is not a run id.
    """
    if not is_run_id(run_id):
        raise ValueError(f"{run_id!r} is not a run id")
    query = urlencode({RUN_PARAM: run_id})
    parts = urlsplit(page_url or "")
    if not (parts.scheme and parts.hostname):
        return f"/{RESULTS_PATH}?{query}"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    path = parts.path.rstrip("/")
    if path.rsplit("/", 1)[-1] != RESULTS_PATH:
        path = f"{path}/{RESULTS_PATH}"
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def sharing_note(owner: str | None, *, team: bool) -> str:
    """Who a run's link opens for: everyone for a shared run (``owner`` ``None``, or any
    run in team mode), only its owner's session for a private one."""
    return SHARED_NOTE if owner is None or team else PRIVATE_NOTE


def open_linked_run() -> None:
    """Follow the address's ``?run=`` link, once per visit (:func:`link_to_open`).

    A run this session may see becomes the active run (the picker and Playground follow
    it; the page reruns once so the sidebar says so). Anything else (no such run, another
    session's private run, not a run id) draws :data:`NOT_AVAILABLE` and a way back to the
    page without the link, and stops the page; the same words and nothing of the run in
    every case. A run this session may see that is damaged says so and stops.
    """
    run_id = link_to_open(st.query_params.get(RUN_PARAM), st.session_state.get(LINKED_RUN_KEY))
    if run_id is None:
        return
    if is_run_id(run_id):
        try:
            registry = get_registry()
            # run_info() first: another session's run costs no more than one run.json
            # read before it is refused; get() then checks every document, as the
            # picker's listing does, for a run this session may see
            registry.run_info(run_id)
            registry.get(run_id)
        except RunNotFoundError:
            pass  # missing or not this session's to see: one answer for both, below
        except RunRecordError as err:  # only a run this session may see says it is damaged
            show_error(err)
            _offer_page_without_link()
            stop_run()
        else:
            st.session_state[LINKED_RUN_KEY] = run_id
            if state.get_active_run_id() != run_id:
                state.set_active_run_id(run_id)
                st.rerun()
            return
    st.warning(NOT_AVAILABLE, icon=":material/link_off:")
    st.caption(NOT_AVAILABLE_NOTE)
    _offer_page_without_link()
    stop_run()


def _offer_page_without_link() -> None:
    st.button("Open Results without this link", key="results.drop_link", on_click=_drop_link)


def _drop_link() -> None:
    st.query_params.pop(RUN_PARAM, None)


def keep_in_address(run_id: str) -> None:
    """Make the address's ``?run=`` name ``run_id``, the run the page shows, and remember
    it as this page's own (:data:`LINKED_RUN_KEY`)."""
    st.session_state[LINKED_RUN_KEY] = run_id
    if st.query_params.get(RUN_PARAM) != run_id:
        st.query_params[RUN_PARAM] = run_id


def draw_copy_link(run: RunSummary) -> None:
    """A "Copy link" popover: ``run``'s :func:`run_link` in a code block (its copy button
    copies it) and who the link opens for."""
    with st.popover("Copy link", icon=":material/link:"):
        st.code(run_link(st.context.url, run.run_id), language=None, wrap_lines=True)
        st.caption(KEY_LEFT_OUT)
        st.caption(sharing_note(run.owner, team=team_mode()))


def pick_linked_run(runs: Sequence[RunSummary], *, key: str, label: str = "Run") -> str | None:
    """The Results page's run picker (:func:`ui.core.runs.pick_run` over ``runs``, keyed
    ``key``) beside its "Copy link" control; returns the picked run's id (``None`` when
    ``runs`` is empty) after making the address name it (:func:`keep_in_address`)."""
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    with left:
        run_id = pick_run(runs, key=key, label=label)
    if run_id is None:
        return None
    keep_in_address(run_id)
    with right:
        draw_copy_link(next(run for run in runs if run.run_id == run_id))
    return run_id
