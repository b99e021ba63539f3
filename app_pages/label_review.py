"""Label review: rank the active dataset's rows by how likely their label is wrong
(k-fold out-of-sample probabilities scored by cleanlab), decide per row, download the
corrected file.
"""

from __future__ import annotations

import streamlit as st

from pipeline.review.settings import ReviewSettings
from ui.core.data import active_dataset, read_original
from ui.core.errors import report_errors
from ui.core.resources import get_job_manager
from ui.core.session import stop_run
from ui.core.state import get_data_config, get_dataset_source
from ui.core.text import escape_markdown
from ui.views import label_review

st.title("Label review")
st.caption(
    "Which rows' labels are probably wrong? Every row is scored by models trained on the "
    "other folds (k-fold cross-validation), never by a model that saw it; cleanlab turns "
    "those out-of-sample probabilities into a label quality per row. Low quality: the "
    "models rarely agree with the given label."
)

manager = get_job_manager()
dataset = active_dataset()
st.caption(f"Dataset: {escape_markdown(dataset.name)} · {len(dataset.frame):,} labelled rows.")

with (
    st.expander("Review settings", expanded=False),
    report_errors(keep_note="The default settings are used.") as outcome,
):
    settings = label_review.settings_widgets()
if not outcome.ok:
    settings = ReviewSettings()

review = label_review.finished_review(dataset, settings)
job = label_review.followed_job(manager, settings, dataset)

if review is None:
    if job is not None and not job.snapshot().done:
        label_review.job_panel(job)
    else:
        if job is not None:
            label_review.job_panel(job)  # how the last one ended
        st.caption(
            f"{settings.folds} folds of {label_review.describe_models(settings)}. Each fold "
            "is a training on the other folds' rows: minutes on a few thousand rows, most of "
            "an hour on the bundled 422,937 with the default models (TF-IDF alone is several "
            "times quicker). It runs in the background: you can leave the page."
        )
        if st.button(
            "Find likely mislabelled rows",
            type="primary",
            icon=":material/fact_check:",
            key="review.start",
        ):
            with report_errors(keep_note="Nothing was started."):
                label_review.start(manager, dataset, settings)
                st.rerun()
    stop_run()

label_review.summary_metrics(review, dataset)
st.subheader("Most suspect rows")
label_review.suspects_editor(review, dataset)
st.subheader("The corrected file")
source = get_dataset_source()  # read here: the download's callable runs off the script thread
label_review.corrected_download(review, dataset, lambda: read_original(source))
st.subheader("Train on the corrected rows")
label_review.comparison_section(manager, dataset, review, settings, get_data_config())
