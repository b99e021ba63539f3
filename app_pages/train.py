"""Train: pick a preset, edit any hyper-parameter, start a background training and
watch it live; stop it, retrain a cached run, or continue a saved run.
"""

from __future__ import annotations

import streamlit as st

from ui.core import state
from ui.core.data import active_dataset
from ui.core.errors import report_errors
from ui.core.resources import get_job_manager
from ui.core.runs import run_label, usable_runs
from ui.core.session import session_id
from ui.core.settings_widgets import number_setting
from ui.views.class_sizes import warn_before_training
from ui.views.progress_section import progress_section, scroll_after_start
from ui.views.train_progress import followed_job_id
from ui.views.train_settings import (
    config_from_widgets,
    describe_data_config,
    hyperparameter_widgets,
    init_widgets,
    replace_train,
    submit,
)

st.title("Train")

manager = get_job_manager()  # starts the training process; TensorFlow loads there

init_widgets()
data_config = state.get_data_config()
job_id = followed_job_id(manager)
if job_id is not None:
    # at the top while this session follows a job: right after Start it is in view
    progress_section(manager, job_id)

with st.container(border=True):
    st.subheader("Settings")
    hyperparameter_widgets()
    st.caption(f"Data: {describe_data_config(data_config)}")
    warn_before_training(data_config)  # classes too small to score, as on Prepare
    st.page_link(
        "app_pages/prepare.py", label="Change the data settings on Prepare", icon=":material/tune:"
    )
    if st.button("Start training", key="train.start", type="primary", icon=":material/play_arrow:"):
        with report_errors(keep_note="Nothing was started.") as outcome:
            config = config_from_widgets(data_config)
            dataset = active_dataset()
            scroll_after_start()
            submit(manager, dataset, config, label=f"{config.preset} on {dataset.name}")

# Drawn only while open: its run picker is a select box, which costs a new tab about
# half a second to draw (see hyperparameter_widgets).
continue_section = st.expander(
    "Continue training a saved run", key="train.continue_open", on_change="rerun"
)
if continue_section.open:
    with continue_section:
        saved_runs = usable_runs()
        if not saved_runs:
            st.caption("No saved runs yet.")
        else:
            labels = {run.run_id: run_label(run) for run in saved_runs}
            parent = st.selectbox(
                "Run to continue", list(labels), format_func=labels.__getitem__, key="train.parent"
            )
            more = number_setting(
                "train", "epochs", key="keep.train.more_epochs", label="More epochs", initial=3
            )
            st.caption(
                "The run keeps its own data and model settings; batch size, patience and seed come "
                "from the settings above. It continues on the dataset it was trained on."
            )
            other_data = st.checkbox(
                "Continue on other data",
                key="train.allow_other_data",
                help="Allow the active dataset even when it is not the one the run was trained "
                "on. The run's vocabulary stays the parent's: words new to it are unknown to the "
                "model.",
            )
            if st.button("Continue training", key="train.continue", icon=":material/fast_forward:"):
                with report_errors(keep_note="Nothing was started.") as outcome:
                    config = replace_train(config_from_widgets(data_config), epochs=int(more))
                    scroll_after_start()
                    submit(
                        manager,
                        active_dataset(),
                        config,
                        parent_run_id=parent,
                        allow_other_data=other_data,
                        label=f"continue {parent[:8]} +{int(more)} epochs",
                    )

if job_id is None:
    progress_section(manager, None)

jobs = manager.jobs_of(session_id())
others = manager.others_busy(session_id())
if others:
    st.caption(
        f"Other visitors have {others} job{'' if others == 1 else 's'} (trainings or label "
        "reviews) queued or running on this server; yours wait their turn behind them."
    )
if len(jobs) > 1 or (jobs and jobs[0].job_id != job_id):
    with st.expander(f"Your trainings ({len(jobs)})"):
        rows = []
        for job in jobs:
            snap = manager.snapshot(job.job_id)
            rows.append(
                {
                    "job": job.job_id,
                    "label": snap.label,
                    "status": snap.status,
                    "epoch": f"{snap.epoch}/{snap.epochs}" if snap.epochs else "",
                    "run id": snap.run_id or "",
                }
            )
        st.dataframe(rows, hide_index=True)
