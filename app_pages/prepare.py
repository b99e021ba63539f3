"""Prepare: dedupe, balance and split the active dataset; the settings chosen here
are the ones the Train page trains with. No TensorFlow here.
"""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st

from pipeline.core.config import DataConfig
from pipeline.core.settings import declared
from ui.core import settings_widgets, state
from ui.core.data import active_dataset, prepared_data
from ui.core.errors import report_errors
from ui.core.numbers import format_count
from ui.core.session import stop_run
from ui.core.text import escape_markdown
from ui.figures.data import fold_classes
from ui.figures.prepare import class_distribution_before_after, split_sizes_bar
from ui.views.class_sizes import per_class_split_table, show_thin_classes_warning

#: Every data setting, as declared: one widget each, choices in the first row.
SPECS = dict(declared(DataConfig))
NO_STORY_NOTE = (
    "Greyed out: this dataset has no story column. Upload a file with a STORY column "
    "(related headlines share a value) to split by story."
)


def prepare_key(name: str) -> str:
    """The session-state key of a data setting's widget (kept across pages)."""
    return f"keep.prepare.{name}"


st.title("Prepare")

with report_errors() as outcome:
    dataset = active_dataset()
if not outcome.ok:
    stop_run()

current = state.get_data_config()
for name, spec in SPECS.items():
    # an unset cap shows the declared example; it is used only with "Cap rows per class"
    settings_widgets.init_value(prepare_key(name), spec, getattr(current, name), auto=False)

has_story = "story" in dataset.frame
if not has_story and st.session_state[prepare_key("split")] == "story":
    st.session_state[prepare_key("split")] = "random"

values: dict[str, Any] = {}
with st.container(border=True):
    # choices first (balancing decides whether the cap is used), then the numbers
    for kinds in ({"choice"}, {"int", "float", "bool"}):
        row = [(name, spec) for name, spec in SPECS.items() if spec.kind in kinds]
        for column, (name, spec) in zip(st.columns(len(row)), row, strict=True):
            unused = not DataConfig.uses(name, values.get("balance", ""))
            no_story = name == "split" and not has_story
            values[name] = settings_widgets.setting_widget(
                column,
                spec,
                key=prepare_key(name),
                auto=False,
                disabled=unused or no_story,
                note=NO_STORY_NOTE if no_story else "",
            )
            if no_story:  # greyed out: say why where it shows, not only in its help
                column.caption(NO_STORY_NOTE)

if not DataConfig.uses("cap_per_class", values["balance"]):
    values["cap_per_class"] = None
config = DataConfig(**values)
with report_errors(keep_note="The Train page keeps the last settings that worked.") as outcome:
    prepared = prepared_data(config)
if not outcome.ok:
    stop_run()
state.set_data_config(config)

summary = prepared.summary
st.success(
    "These settings are used by the Train page.",
    icon=":material/check_circle:",
)
# before training: the rule Results warns by after it (pipeline.core.class_sizes)
show_thin_classes_warning(
    summary.split_class_counts.test, config, prepared.label_names, on_prepare=True
)
for note in summary.notes:
    st.warning(escape_markdown(note))

cols = st.columns(5)
cols[0].metric("Rows loaded", format_count(summary.rows_loaded))
cols[1].metric("Duplicates removed", format_count(summary.duplicates_removed))
cols[2].metric("Empty texts removed", format_count(summary.empty_removed))
cols[3].metric("Rows after balancing", format_count(summary.rows_after_balance))
cols[4].metric("Classes", format_count(len(prepared.classes)))

# the dataset's names: a class dropped for being too small has one there too; past 30
# classes the biggest 29 and one bar for the others (every class is in the table below)
(before, after), chart_names = fold_classes(
    [summary.class_counts_before, summary.class_counts_after], dataset.label_names
)
st.plotly_chart(class_distribution_before_after(before, after, chart_names), key="before_after")

left, right = st.columns([2, 1], vertical_alignment="center")
left.plotly_chart(split_sizes_bar(summary.split_sizes.as_dict()), key="split_sizes")
right.download_button(
    "Download prepared CSV",
    # every column of the file, each row's own, not only text and label
    data=functools.partial(prepared.to_csv_bytes, dataset.other_columns),
    file_name="prepared.csv",
    mime="text/csv",
    key="prepare.download",
    icon=":material/download:",
    on_click="ignore",
    help="Every prepared row with its split and every column of the file.",
)

# The page's full width: at 1280 px a third of it cut the test column off.
st.markdown(f"**Rows per class and split** ({format_count(len(summary.class_counts_before))})")
per_class = per_class_split_table(summary, dataset.display)
st.dataframe(
    per_class,
    hide_index=True,
    width="stretch",
    height=min(36 + 35 * len(per_class), 420),  # about ten rows, then it scrolls
    column_config={
        "class": st.column_config.TextColumn("class", width="medium"),
        **{
            name: st.column_config.NumberColumn(name, format="localized")
            for name in per_class.columns
            if name != "class"
        },
    },
)
