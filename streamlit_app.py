"""Headline Lab: inspect, balance, train, review and try headline classifiers.

Run ``streamlit run streamlit_app.py``; the app opens on the bundled UCI News
Aggregator dataset. This entry point only sets the page up, draws the shared
sidebar and routes to one file per page in ``app_pages/``.

The folder is deliberately not called ``pages/``: a ``pages/`` folder next to the
entry point switches Streamlit to its legacy multipage mode whenever no
``st.navigation`` call has run yet in the process (a fresh server's first
request to e.g. ``/train`` would run that page without this file's sidebar and
page config), and ``AppTest`` resets that flag before every run, so every rerun
after the first one would skip this file.
"""

from __future__ import annotations

import sys

import streamlit as st

from ui.core.resources import import_model_libraries_in_background
from ui.core.runs import drop_missing_active_run, usable_runs
from ui.core.session import end_run, restore_session
from ui.core.sidebar import render_sidebar
from ui.core.state import restore_widget_values

st.set_page_config(
    page_title="Headline Lab",
    # A Material icon, not an emoji: an emoji makes Streamlit import its table of every
    # emoji, about 0.1 s of a cold server's first page.
    page_icon=":material/newspaper:",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    "Explore": [
        st.Page("app_pages/data.py", title="Data", icon=":material/table_view:", default=True),
        st.Page("app_pages/prepare.py", title="Prepare", icon=":material/tune:"),
        st.Page("app_pages/label_review.py", title="Label review", icon=":material/fact_check:"),
    ],
    "Model": [
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("app_pages/results.py", title="Results", icon=":material/insights:"),
        st.Page("app_pages/playground.py", title="Playground", icon=":material/edit_note:"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/inventory_2:"),
    ],
}

restore_session()  # a reload gives back this session's dataset, settings and run
drop_missing_active_run()  # ...unless that run was deleted meanwhile
restore_widget_values()
page = st.navigation(PAGES)
render_sidebar()
try:
    page.run()
    # a model to try: Keras ready before the Playground asks for it (once: no listing after)
    if "keras" not in sys.modules and usable_runs():
        import_model_libraries_in_background()
finally:  # also after st.rerun() inside the page; a page stops with ui.core.session.stop_run()
    end_run()
