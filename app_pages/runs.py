"""Runs: every saved run this session may see; download as zip, import a zip, delete,
make active.

What a session may do with a run is :func:`pipeline.sessions.access.can`'s answer, asked by
the registry (:func:`ui.core.resources.get_registry`) on every call; the page only greys
out what the registry would refuse. Listing reads JSON only. Importing checks the
archive's model in a process of its own (:mod:`pipeline.runs.model_check`), never here.
"""

from __future__ import annotations

import functools

import streamlit as st

from ui.core import state
from ui.core.data import UPLOAD_TYPES
from ui.core.errors import report_errors
from ui.core.resources import get_registry
from ui.core.runs import list_runs, run_label, show_runs_table
from ui.core.session import can_delete, team_mode

CONFIRM_DELETE = "runs.confirm_delete"
FLASH = "runs.flash"

st.title("Runs")
st.caption(
    "Every run on this server: all team members' runs in team mode."
    if team_mode()
    else "Runs on the bundled data are shared with every visitor; runs on your uploads, "
    "continued from them, or imported are yours alone."
)
registry = get_registry()
runs = list_runs()
flash = st.session_state.pop(FLASH, None)
if flash:
    message, link_results = flash
    st.success(message, icon=":material/check_circle:")
    if link_results:
        st.page_link("app_pages/results.py", label="See its results", icon=":material/insights:")

damaged = [run for run in runs if run.damaged]
if damaged:
    st.warning(
        f"{len(damaged)} run folder{' is' if len(damaged) == 1 else 's are'} damaged and "
        "cannot be shown or used (a file is missing or malformed); the table says why. "
        "Pick one below to delete it (shared ones: the server's administrator does).",
        icon=":material/report:",
    )
if not runs:
    st.info("No saved runs yet. Train one on the Train page, or import a run archive below.")
else:
    st.caption(
        "One row per run: what it was trained on and with, and how it scored. "
        "The ticked one is the active run."
    )
    show_runs_table(runs)

    st.subheader("Act on a run")
    ids = [run.run_id for run in runs]
    labels = {run.run_id: run_label(run) for run in runs}
    active = state.get_active_run_id()
    state.init_widget("runs.selected", active if active in ids else ids[0])
    if st.session_state["runs.selected"] not in ids:
        st.session_state["runs.selected"] = ids[0]
    chosen = st.selectbox("Run", ids, format_func=labels.__getitem__, key="runs.selected")
    chosen_run = next(run for run in runs if run.run_id == chosen)
    chosen_is_damaged = chosen_run.damaged

    cols = st.columns(3)
    if cols[0].button(
        "Make active",
        key="runs.make_active",
        type="primary",
        disabled=chosen == active or chosen_is_damaged,
        help="Results and Playground show the active run.",
    ):
        state.set_active_run_id(chosen)
        st.rerun()
    cols[1].download_button(
        "Download zip",
        data=functools.partial(registry.export_zip, chosen),
        file_name=f"headline-lab-run-{chosen}.zip",
        mime="application/zip",
        key="runs.download",
        on_click="ignore",
        disabled=chosen_is_damaged,
    )
    deletable = can_delete(chosen_run)
    if cols[2].button(
        "Delete…",
        key="runs.delete",
        disabled=not deletable,
        help=None
        if deletable
        else "A shared run: only the server's administrator deletes it "
        "(`python -m pipeline runs delete RUN_ID`). You delete your own private runs.",
    ):
        st.session_state[CONFIRM_DELETE] = chosen

    pending = st.session_state.get(CONFIRM_DELETE)
    if pending and pending in ids:
        st.warning(f"Delete run `{pending}` for good? Its model and results are removed.")
        yes, no = st.columns(2)
        if yes.button("Yes, delete it", key="runs.delete_confirm", type="primary"):
            with report_errors() as outcome:
                registry.delete(pending)
            st.session_state.pop(CONFIRM_DELETE, None)
            if outcome.ok:
                if state.get_active_run_id() == pending:
                    state.set_active_run_id(None)
                st.session_state[FLASH] = (f"Deleted run `{pending}`.", False)
                st.rerun()
        if no.button("Cancel", key="runs.delete_cancel"):
            st.session_state.pop(CONFIRM_DELETE, None)
            st.rerun()

st.subheader("Import a run")
# Its error goes above the uploader: drawn below the Import button, at the page's end,
# it sat below the fold at 1280x800.
import_message = st.container()
archive = st.file_uploader(
    "Run archive (.zip exported from Headline Lab)", type=UPLOAD_TYPES, key="runs.import_file"
)
if archive is not None and st.button("Import", key="runs.import", type="primary"):
    with (
        import_message,
        report_errors(keep_note="Nothing was imported; the saved runs are unchanged.") as outcome,
    ):
        imported = registry.import_zip(archive.getvalue())
    if outcome.ok:
        state.set_active_run_id(imported)
        st.session_state[FLASH] = (f"Imported run `{imported}`; it is now the active run.", True)
        st.rerun()
