"""Data: what the active dataset holds: size, missing values, duplicated titles,
class distribution, headline lengths and publishers. No TensorFlow here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.core.data import active_dataset, dataset_stats
from ui.core.errors import report_errors
from ui.core.numbers import format_count, format_number, format_share
from ui.core.session import stop_run
from ui.core.text import escape_markdown
from ui.figures.data import MAX_CLASS_BARS, class_distribution, top_items, word_length_histogram

st.title("Data")

with report_errors() as outcome:
    dataset = active_dataset()
    stats = dataset_stats(top_n=10)
if not outcome.ok:
    stop_run()

st.caption(
    f"**{escape_markdown(stats.name)}** · text column **{escape_markdown(stats.text_col)}**"
    f" · label column **{escape_markdown(stats.label_col)}** · encoding {dataset.encoding}"
)
for note in dataset.notes:
    st.info(escape_markdown(note), icon=":material/info:")

duplicates = stats.duplicates
missing_total = sum(stats.missing.values())
cols = st.columns(5)
cols[0].metric("Rows", f"{stats.rows:,}", help=f"{stats.rows_read:,} rows in the file")
cols[1].metric("Columns", len(stats.columns))
cols[2].metric("Missing cells", f"{missing_total:,}")
cols[3].metric(
    "Duplicated rows",
    f"{duplicates.duplicated_rows:,}",
    help=f"Rows whose text occurs more than once: {duplicates.distinct_duplicated_texts:,} "
    f"distinct texts, {duplicates.extra_copies:,} extra copies.",
)
cols[4].metric("Classes", len(stats.class_counts))

st.subheader("Preview")
preview = dataset.frame.head(500).copy()
if any(name != code for code, name in dataset.label_names.items()):  # codes, e.g. UCI's "b"
    preview.insert(2, "category", preview["label"].map(dataset.display))
st.dataframe(preview, hide_index=True, height=280)

left, right = st.columns(2)
class_counts = {row.code: row.count for row in stats.class_counts}
# Vega-Lite, not plotly: see ui.figures.data (a new tab draws them about 0.7 s sooner).
left.vega_lite_chart(
    class_distribution(class_counts, dataset.label_names),
    key="class_distribution",
    width="stretch",
)
if len(class_counts) > MAX_CLASS_BARS:
    # the chart shows the biggest classes and "others": every class is listed here
    left.caption(f"Every class ({format_count(len(class_counts))}), biggest first:")
    total = max(sum(class_counts.values()), 1)
    left.dataframe(
        pd.DataFrame(
            {
                "class": [dataset.display(code) for code in class_counts],
                "code": list(class_counts),
                "rows": list(class_counts.values()),
                "share": [format_share(n / total, 2) for n in class_counts.values()],
            }
        ).sort_values("rows", ascending=False, kind="mergesort"),
        hide_index=True,
        height=320,
        column_config={"rows": st.column_config.NumberColumn(format="localized")},
        key="every_class",
    )
lengths = stats.text_length_words
right.vega_lite_chart(
    word_length_histogram(stats.length_counts),
    key="length_histogram",
    width="stretch",
)
right.caption(
    f"Words per text: median {format_number(lengths.p50)}, 99th percentile "
    f"{format_number(lengths.p99)}, 99.9th {format_number(lengths.p99_9)}, longest "
    f"{format_count(lengths.max)}."
)

st.subheader("Duplicated texts")
st.markdown(
    f"**{duplicates.duplicated_rows:,}** rows share their text with another row "
    f"(**{duplicates.distinct_duplicated_texts:,}** distinct texts); "
    f"**{stats.labels_per_duplicated_text:,}** of those texts appear under more than one "
    "class. The Prepare page drops them (every copy by default, as the original notebook did)."
)
if duplicates.top:
    top = pd.DataFrame(
        [
            {
                "text": row.text,
                "copies": row.count,
                "classes": ", ".join(
                    f"{dataset.display(code)} ×{n:,}" for code, n in row.labels.items()
                ),
            }
            for row in duplicates.top
        ]
    )
    st.dataframe(
        top,
        hide_index=True,
        column_config={
            "text": st.column_config.TextColumn("text", width="large"),
            "copies": st.column_config.NumberColumn("copies", format="localized"),
        },
    )

left, right = st.columns(2)
with left:
    st.subheader("Missing values")
    missing = pd.DataFrame(
        {"column": list(stats.missing), "empty cells": list(stats.missing.values())}
    )
    missing["share"] = [format_share(n / max(stats.rows_read, 1)) for n in missing["empty cells"]]
    st.dataframe(
        missing,
        hide_index=True,
        column_config={"empty cells": st.column_config.NumberColumn(format="localized")},
    )
with right:
    if stats.top_publishers:
        st.subheader("Top publishers")
        publishers = {row.publisher: row.count for row in stats.top_publishers}
        st.vega_lite_chart(top_items(publishers), key="publishers", width="stretch")
        st.caption(f"{stats.n_publishers or 0:,} publishers in all.")
    if stats.n_stories:
        st.caption(f"{stats.n_stories:,} news stories (STORY clusters).")
