"""Prepare: dedupe, balance and split the active dataset; the settings chosen here
are the ones the Train page trains with. No TensorFlow here.
"""

from __future__ import annotations

import streamlit as st

from pipeline.config import (
    BALANCE_LABELS,
    DEDUPE_LABELS,
    SPLIT_LABELS,
    TEST_SET_LABELS,
    DataConfig,
)
from pipeline.settings import declared
from ui import figures, state
from ui.data import active_dataset, prepared_data
from ui.errors import report_errors
from ui.text import escape_markdown

SPECS = dict(declared(DataConfig))

st.title("Prepare")

with report_errors() as outcome:
    dataset = active_dataset()
if not outcome.ok:
    st.stop()

current = state.get_data_config()
for name, value in (
    ("dedupe", current.dedupe),
    ("balance", current.balance),
    ("cap_per_class", current.cap_per_class or 5000),
    ("min_class_rows", current.min_class_rows),
    ("test_size", current.test_size),
    ("test_set", current.test_set),
    ("val_size", current.val_size),
    ("split", current.split),
    ("seed", current.seed),
):
    state.init_widget(f"keep.prepare.{name}", value)

has_story = "story" in dataset.frame
if not has_story and st.session_state["keep.prepare.split"] == "story":
    st.session_state["keep.prepare.split"] = "random"

with st.container(border=True):
    cols = st.columns(4)
    dedupe = cols[0].selectbox(
        "Duplicated texts",
        list(DEDUPE_LABELS),
        format_func=DEDUPE_LABELS.__getitem__,
        key="keep.prepare.dedupe",
        help=SPECS["dedupe"].help,
    )
    balance = cols[1].selectbox(
        "Balancing",
        list(BALANCE_LABELS),
        format_func=BALANCE_LABELS.__getitem__,
        key="keep.prepare.balance",
        help=SPECS["balance"].help,
    )
    cap = cols[2].number_input(
        "Cap per class",
        min_value=1,
        step=500,
        key="keep.prepare.cap_per_class",
        disabled=balance != "cap",
        help="Used with 'Cap rows per class': at most this many rows of each class.",
    )
    min_class_rows = cols[3].number_input(
        SPECS["min_class_rows"].label,
        min_value=int(SPECS["min_class_rows"].minimum),
        step=1,
        key="keep.prepare.min_class_rows",
        help=SPECS["min_class_rows"].help,
    )
    cols = st.columns([1, 1, 1.3, 1.3, 0.8])
    test_size = cols[0].slider(
        "Test size", 0.05, 0.5, step=0.05, key="keep.prepare.test_size", format="%.2f"
    )
    val_size = cols[1].slider(
        "Validation share of the rest",
        0.05,
        0.5,
        step=0.05,
        key="keep.prepare.val_size",
        format="%.2f",
    )
    split = cols[2].radio(
        "Split",
        list(SPLIT_LABELS),
        format_func=SPLIT_LABELS.__getitem__,
        key="keep.prepare.split",
        disabled=not has_story,
        help="Grouped by story keeps every headline of one news story in the same split, so "
        "near-identical headlines cannot leak from train into test."
        + ("" if has_story else " This dataset has no story column."),
    )
    test_set = cols[3].radio(
        SPECS["test_set"].label,
        list(TEST_SET_LABELS),
        format_func=TEST_SET_LABELS.__getitem__,
        key="keep.prepare.test_set",
        help=SPECS["test_set"].help,
    )
    seed = cols[4].number_input("Seed", min_value=0, step=1, key="keep.prepare.seed")

config = DataConfig(
    dedupe=dedupe,
    balance=balance,
    cap_per_class=int(cap) if balance == "cap" else None,
    min_class_rows=int(min_class_rows),
    test_size=float(test_size),
    test_set=test_set,
    val_size=float(val_size),
    split=split,
    seed=int(seed),
)
with report_errors(keep_note="The Train page keeps the last settings that worked.") as outcome:
    prepared = prepared_data(config)
if not outcome.ok:
    st.stop()
state.set_data_config(config)

summary = prepared.summary
st.success(
    "These settings are used by the Train page.",
    icon=":material/check_circle:",
)
for note in summary.get("notes", []):
    st.warning(escape_markdown(note))

cols = st.columns(5)
cols[0].metric("Rows loaded", f"{summary['rows_loaded']:,}")
cols[1].metric("Duplicates removed", f"{summary['duplicates_removed']:,}")
cols[2].metric("Empty texts removed", f"{summary['empty_removed']:,}")
cols[3].metric("Rows after balancing", f"{summary['rows_after_balance']:,}")
cols[4].metric("Classes", len(prepared.classes))

st.plotly_chart(
    figures.class_distribution_before_after(
        summary["class_counts_before"], summary["class_counts_after"], prepared.label_names
    ),
    key="before_after",
)

left, right = st.columns([2, 1])
left.plotly_chart(figures.split_sizes_bar(summary["split_sizes"]), key="split_sizes")
with right:
    st.markdown("**Rows per class and split**")
    per_split = {
        name: {prepared.label_names.get(c, c): n for c, n in counts.items()}
        for name, counts in summary["split_class_counts"].items()
    }
    st.dataframe(per_split, column_config={"_index": "class"})
    st.download_button(
        "Download prepared CSV",
        data=prepared.to_csv_bytes,
        file_name="prepared.csv",
        mime="text/csv",
        key="prepare.download",
        icon=":material/download:",
        on_click="ignore",
    )
