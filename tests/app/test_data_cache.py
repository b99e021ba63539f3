"""The active dataset and its prepared splits are shared, never copied per rerun.

Found: ``st.cache_data`` unpickled a fresh copy of the bundled dataset (56 MB pickled,
about 0.1 s) on every call, twice per Data page run, and of the prepared splits (44 MB,
about 0.17 s) on every Prepare widget change.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script() -> None:
    import streamlit as st

    from pipeline.core.config import DataConfig
    from ui.core.data import active_dataset, prepared_data

    first, second = active_dataset(), active_dataset()
    config = DataConfig(dedupe="none", balance="none", test_size=0.2, val_size=0.2)
    st.session_state["same_dataset"] = first is second
    st.session_state["same_prepared"] = prepared_data(config) is prepared_data(config)


def test_reruns_and_sessions_share_one_dataset_and_one_prepared_data(small_source):
    sessions = []
    for _ in range(2):  # two browser sessions on one server
        at = AppTest.from_function(_script, default_timeout=60)
        at.session_state["dataset_source"] = small_source
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        sessions.append(at)
    for at in sessions:
        assert at.session_state["same_dataset"] is True
        assert at.session_state["same_prepared"] is True
