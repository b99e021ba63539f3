"""Headline Lab: inspect, balance, train, review and try headline classifiers.

Run ``streamlit run streamlit_app.py``; the app opens on the bundled UCI News
Aggregator dataset. This entry point only sets the page up, draws the shared
sidebar and routes to one file per page in ``pages/``.
"""

from __future__ import annotations

import streamlit as st

from ui.sidebar import render_sidebar
from ui.state import keep_widget_values

st.set_page_config(
    page_title="Headline Lab",
    page_icon=":material/newspaper:",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    "Explore": [
        st.Page("pages/data.py", title="Data", icon=":material/table_view:", default=True),
        st.Page("pages/prepare.py", title="Prepare", icon=":material/tune:"),
    ],
    "Model": [
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/results.py", title="Results", icon=":material/insights:"),
        st.Page("pages/playground.py", title="Playground", icon=":material/edit_note:"),
        st.Page("pages/runs.py", title="Runs", icon=":material/inventory_2:"),
    ],
}

keep_widget_values()
page = st.navigation(PAGES)
render_sidebar()
page.run()
