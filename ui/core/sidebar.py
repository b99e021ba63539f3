"""The sidebar every page shares: dataset choice, active run, device.

The active dataset lives in ``st.session_state["dataset_source"]`` (see
:mod:`ui.core.state`). An uploaded file is first written into this session's folder on
disk (:mod:`pipeline.sessions.uploads`); session state keeps a :class:`~ui.core.state.DatasetSource`
naming that file, never its bytes. Streamlit's own copy is let go at once: the file is
removed from its upload store and the uploader is drawn afresh (empty) under a new key.
An upload only replaces the active dataset once it has loaded without error; a bad
file leaves the previous dataset active and says so, in the sidebar, until the next
upload or a switch to the bundled data. A session whose uploaded file is no longer on
disk (it expired, or made room for others) is told so and falls back to the bundled
data.

Tests can skip the uploader: put a :class:`~ui.core.state.DatasetSource` in
``session_state["dataset_source"]`` to switch datasets, or in
``session_state["pending_upload"]`` to have it checked like an upload (one made by
``DatasetSource.from_upload`` is saved to disk first, in either place).
"""

from __future__ import annotations

import logging

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile

from pipeline.sessions.uploads import UploadArea
from ui.core import state
from ui.core.data import UPLOAD_TYPES, guess_source_columns, load_source
from ui.core.errors import message_for
from ui.core.resources import describe_device, runs_dir
from ui.core.runs import list_runs, run_label
from ui.core.session import session_id
from ui.core.state import DatasetSource
from ui.core.text import escape_markdown

logger = logging.getLogger("headline_lab.ui")

CHOICE_KEY = "sidebar.dataset_choice"
#: The uploader's key is this plus a round number, bumped after every file it delivers.
UPLOAD_KEY = "sidebar.upload"
UPLOAD_ROUND_KEY = "sidebar.upload_round"
LOADED_KEY = "sidebar.loaded_message"
UPLOAD_ERROR_KEY = "sidebar.upload_error"
COLUMN_PICK_KEY = "sidebar.column_pick"
BUNDLED, UPLOAD = "bundled", "upload"
_CHOICE_LABELS = {BUNDLED: "Bundled UCI News Aggregator", UPLOAD: "Upload a CSV"}


def render_sidebar() -> None:
    """Draw the shared sidebar (call once per run, from the entry point)."""
    with st.sidebar:
        st.subheader("Dataset")
        _dataset_picker()
        st.divider()
        _active_run()
        st.caption(f"Device: **{describe_device()}**")
        notice = st.session_state.pop(state.DATASET_NOTICE, None)
        if notice:  # last in the sidebar: nothing above moves when it goes away
            st.warning(escape_markdown(notice), icon=":material/info:")


def _dataset_picker() -> None:
    _fall_back_if_upload_is_gone()
    _save_injected_dataset()
    # On a session's first run (a reload included) the picker starts where the active
    # dataset is, so it never says "bundled" beside an uploaded file given back.
    active_is_upload = state.get_dataset_source().kind == "upload"
    state.init_widget(CHOICE_KEY, UPLOAD if active_is_upload else BUNDLED)
    choice = st.radio(
        "Source",
        [BUNDLED, UPLOAD],
        format_func=_CHOICE_LABELS.__getitem__,
        key=CHOICE_KEY,
        on_change=_on_choice_change,
        label_visibility="collapsed",
    )
    pending = st.session_state.pop(state.PENDING_UPLOAD, None)
    if isinstance(pending, DatasetSource):
        _try_activate_upload(pending)
    if choice == UPLOAD:
        uploaded = st.file_uploader(
            "CSV (or a .gz or .zip of one) with a text column and a label column",
            type=UPLOAD_TYPES,
            key=f"{UPLOAD_KEY}.{st.session_state.get(UPLOAD_ROUND_KEY, 0)}",
            help="Headlines (or any short texts) in one column, their category in another.",
        )
        if uploaded is not None:
            candidate = DatasetSource.from_upload(uploaded.name, uploaded.getvalue())
            _let_go_of(uploaded)
            _try_activate_upload(candidate)
            del candidate  # the bytes: only the saved file is kept
            st.rerun()  # draws the uploader afresh, empty; the outcome is shown below it
    loaded = st.session_state.pop(LOADED_KEY, None)
    if loaded:
        st.toast(escape_markdown(loaded), icon=":material/check:")
    _column_picker()
    problem = st.session_state.get(UPLOAD_ERROR_KEY)
    if problem:
        st.error(escape_markdown(problem), icon=":material/error:")
    st.caption(f"Active: **{escape_markdown(state.get_dataset_source().name)}**")


def _on_choice_change() -> None:
    if st.session_state.get(CHOICE_KEY) == BUNDLED:
        state.set_dataset_source(DatasetSource.bundled())
        for key in (UPLOAD_ERROR_KEY, COLUMN_PICK_KEY):
            st.session_state.pop(key, None)


def _upload_area() -> UploadArea:
    return UploadArea(runs_dir())


def _fall_back_if_upload_is_gone() -> None:
    """An active upload whose file is gone gives way to the bundled data, with a note;
    one still there is marked as in use (so others' uploads do not push it out)."""
    source = state.get_dataset_source()
    if not source.is_upload or source.payload is not None:
        return
    if source.upload_is_gone:
        state.set_dataset_source(DatasetSource.bundled())
        st.session_state.pop(COLUMN_PICK_KEY, None)
        _add_notice(state.MISSING_UPLOAD_NOTICE)
    elif source.path is not None:
        _upload_area().touch(source.path)


def _add_notice(text: str) -> None:
    earlier = st.session_state.get(state.DATASET_NOTICE)
    st.session_state[state.DATASET_NOTICE] = f"{earlier}\n\n{text}" if earlier else text


def _save_injected_dataset() -> None:
    """A dataset source holding bytes (put there by a test) is saved to disk first."""
    source = state.get_dataset_source()
    if source.payload is None:
        return
    try:
        state.set_dataset_source(_saved(source))
    except Exception as err:  # shown as a message; the bundled data is used
        state.set_dataset_source(DatasetSource.bundled())
        _remember_problem(err)


def _saved(candidate: DatasetSource) -> DatasetSource:
    """``candidate`` kept on disk in this session's upload folder (already saved: as is)."""
    if candidate.payload is None:
        return candidate
    saved = _upload_area().save(session_id(), candidate.name, candidate.payload)
    return DatasetSource.saved_upload(
        candidate.name,
        saved.digest,
        saved.path,
        text_col=candidate.text_col,
        label_col=candidate.label_col,
    )


def _let_go_of(uploaded: UploadedFile) -> None:
    """Drop Streamlit's in-memory copy of an uploaded file (its upload store keeps every
    file a session's uploaders hold until the session ends) and give the uploader a
    new key, so the next run draws it empty. Best effort: the file is saved already."""
    st.session_state[UPLOAD_ROUND_KEY] = st.session_state.get(UPLOAD_ROUND_KEY, 0) + 1
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    try:
        ctx.uploaded_file_mgr.remove_file(ctx.session_id, uploaded.file_id)
    except Exception:  # a Streamlit without it: the copy goes when the session ends
        logger.warning("Could not drop Streamlit's copy of an upload", exc_info=True)


def _keep_note() -> str:
    return f"Still using the previous dataset: {state.get_dataset_source().name}."


def _try_activate_upload(candidate: DatasetSource) -> None:
    """Save an uploaded file and check it; activate it, ask for its columns, or report
    the problem (a full upload space included)."""
    st.session_state.pop(UPLOAD_ERROR_KEY, None)
    st.session_state.pop(COLUMN_PICK_KEY, None)
    try:
        candidate = _saved(candidate)
        columns, text_guess, label_guess = guess_source_columns(candidate)
    except Exception as err:  # shown as a message; previous dataset kept
        _remember_problem(err)
        return
    text_col = candidate.text_col or text_guess
    label_col = candidate.label_col or label_guess
    if text_col is None or label_col is None:
        st.session_state[COLUMN_PICK_KEY] = (candidate, columns, text_guess, label_guess)
        return
    _activate(candidate.with_columns(text_col, label_col))


def _activate(candidate: DatasetSource) -> bool:
    try:
        dataset = load_source(candidate)
    except Exception as err:  # shown as a message; previous dataset kept
        _remember_problem(err)
        return False
    state.set_dataset_source(candidate)
    st.session_state.pop(UPLOAD_ERROR_KEY, None)
    message = f"Loaded {dataset.name}: {len(dataset.frame):,} rows."
    st.session_state[LOADED_KEY] = message  # shown after the rerun that clears the uploader
    return True


def _remember_problem(err: BaseException) -> None:
    st.session_state[UPLOAD_ERROR_KEY] = message_for(err, keep_note=_keep_note())


def _column_picker() -> None:
    pick = st.session_state.get(COLUMN_PICK_KEY)
    if not pick:
        return
    candidate, columns, text_guess, label_guess = pick
    st.info("Which columns hold the text and the label?", icon=":material/help:")
    text_col = st.selectbox(
        "Text column",
        columns,
        index=columns.index(text_guess) if text_guess in columns else None,
        key=f"sidebar.text_col.{candidate.digest[:12]}",
    )
    label_col = st.selectbox(
        "Label column",
        columns,
        index=columns.index(label_guess) if label_guess in columns else None,
        key=f"sidebar.label_col.{candidate.digest[:12]}",
    )
    chosen = st.button(
        "Use these columns",
        key="sidebar.use_columns",
        type="primary",
        disabled=text_col is None or label_col is None,
    )
    if chosen and _activate(candidate.with_columns(text_col, label_col)):
        st.session_state.pop(COLUMN_PICK_KEY, None)
        st.rerun()


#: Seconds between two looks at the active run while this session's training runs.
ACTIVE_RUN_POLL_SECONDS = 2.0


def _active_run() -> None:
    """The active run's line; while this session's job runs it redraws itself, since
    the Train page's live panel makes the job's run active without rerunning the page."""
    job_id = st.session_state.get(state.TRAIN_JOB_ID)
    waiting = job_id is not None and job_id not in st.session_state.get(state.HANDLED_JOBS, ())

    @st.fragment(run_every=ACTIVE_RUN_POLL_SECONDS if waiting else None)
    def line() -> None:
        run_id = state.get_active_run_id()
        run = next((run for run in list_runs() if run.run_id == run_id), None) if run_id else None
        if run is not None:
            st.caption(f"Active run: {escape_markdown(run_label(run))}")
        elif run_id:
            st.caption(f"Active run: {run_id[:8]}")
        else:
            st.caption("Active run: none yet (train one, or pick one on the Runs page)")

    line()
