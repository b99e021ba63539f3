"""The sidebar every page shares: dataset choice, active run, device.

The active dataset lives in ``st.session_state["dataset_source"]`` (see
:mod:`ui.state`). An upload only replaces it once it has loaded without error;
a bad file leaves the previous dataset active and says so, in the sidebar,
for as long as that file stays in the uploader.

Tests can skip the uploader: put a :class:`~ui.state.DatasetSource` in
``session_state["dataset_source"]`` to switch datasets, or in
``session_state["pending_upload"]`` to have it checked like an upload.
"""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.data import guess_source_columns, load_source
from ui.errors import message_for
from ui.resources import describe_device
from ui.runs import list_runs, run_label
from ui.state import DatasetSource
from ui.text import escape_markdown

CHOICE_KEY = "sidebar.dataset_choice"
UPLOAD_KEY = "sidebar.upload"
SEEN_UPLOAD_KEY = "sidebar.seen_upload_id"
UPLOAD_ERROR_KEY = "sidebar.upload_error"
COLUMN_PICK_KEY = "sidebar.column_pick"
BUNDLED, UPLOAD = "bundled", "upload"
_CHOICE_LABELS = {BUNDLED: "Bundled UCI News Aggregator", UPLOAD: "Upload a CSV"}
#: No type filter on the uploader: its refusal shows only on hover and leaves the previous
#: file's message in place. Every file reaches ``pipeline.data.read_table`` instead, which
#: reads a CSV, a .gz or a .zip of one CSV, and names anything else (an image, a PDF, a
#: workbook) with what to do.
UPLOAD_TYPES = None


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
            key=UPLOAD_KEY,
            help="Headlines (or any short texts) in one column, their category in another.",
        )
        if uploaded is None:
            st.session_state.pop(SEEN_UPLOAD_KEY, None)
            st.session_state.pop(UPLOAD_ERROR_KEY, None)
            st.session_state.pop(COLUMN_PICK_KEY, None)
        elif st.session_state.get(SEEN_UPLOAD_KEY) != uploaded.file_id:
            st.session_state[SEEN_UPLOAD_KEY] = uploaded.file_id
            _try_activate_upload(DatasetSource.from_upload(uploaded.name, uploaded.getvalue()))
    _column_picker()
    problem = st.session_state.get(UPLOAD_ERROR_KEY)
    if problem:
        st.error(escape_markdown(problem), icon=":material/error:")
    st.caption(f"Active: **{escape_markdown(state.get_dataset_source().name)}**")


def _on_choice_change() -> None:
    if st.session_state.get(CHOICE_KEY) == BUNDLED:
        state.set_dataset_source(DatasetSource.bundled())
        for key in (UPLOAD_ERROR_KEY, COLUMN_PICK_KEY, SEEN_UPLOAD_KEY):
            st.session_state.pop(key, None)


def _keep_note() -> str:
    return f"Still using the previous dataset: {state.get_dataset_source().name}."


def _try_activate_upload(candidate: DatasetSource) -> None:
    """Check an uploaded file; activate it, ask for its columns, or report the problem."""
    st.session_state.pop(UPLOAD_ERROR_KEY, None)
    st.session_state.pop(COLUMN_PICK_KEY, None)
    try:
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
    st.toast(
        f"Loaded {escape_markdown(dataset.name)}: {len(dataset.frame):,} rows.",
        icon=":material/check:",
    )
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
