"""The Train page's glue: hyper-parameter widgets and the live job panel.

The script never calls ``fit``. It submits an :class:`ExperimentConfig` to the
process-wide ``JobManager`` (a background thread) and a fragment that reruns
every second draws the job's latest ``JobSnapshot``. Switching pages or
clicking widgets reruns the script, never the training.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from pipeline.config import (
    PADDINGS,
    PRESETS,
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
)
from ui import figures, state
from ui.text import escape_markdown

if TYPE_CHECKING:
    from pipeline.jobs import JobManager, JobSnapshot

#: Seconds between two refreshes of the progress panel while a job is queued or running.
POLL_SECONDS = 1.0
PRESET_KEY = "keep.train.preset"
SEQ_MODE_KEY = "keep.train.seq_mode"


@dataclass(frozen=True)
class Param:
    """One editable hyper-parameter: where it lives in the config and how to edit it."""

    section: str  # "model" or "train"
    name: str
    label: str
    kind: type
    min_value: float
    max_value: float
    step: float
    help: str = ""
    format: str | None = None

    @property
    def key(self) -> str:
        return f"keep.train.{self.section}.{self.name}"


_PATIENCE_HELP = "Epochs without a better validation loss before early stopping."
PARAMS: tuple[Param, ...] = (
    Param("train", "epochs", "Epochs", int, 1, 200, 1, "At most; early stopping may end sooner."),
    Param("train", "batch_size", "Batch size", int, 1, 8192, 32),
    Param("model", "embedding_dim", "Embedding size", int, 1, 1024, 16),
    Param("model", "lstm_units", "LSTM units", int, 1, 1024, 16),
    Param("model", "spatial_dropout", "Spatial dropout", float, 0.0, 0.95, 0.05, format="%.2f"),
    Param("model", "dropout", "Dropout", float, 0.0, 0.95, 0.05, format="%.2f"),
    Param(
        "model",
        "recurrent_dropout",
        "Recurrent dropout",
        float,
        0.0,
        0.95,
        0.05,
        "Above 0 the LSTM cannot use the fast cuDNN kernel on a GPU.",
        "%.2f",
    ),
    Param("model", "max_tokens", "Vocabulary (words)", int, 10, 200_000, 1000),
    Param("model", "learning_rate", "Learning rate", float, 1e-6, 1.0, 1e-4, format="%.5f"),
    Param("train", "patience", "Early-stopping patience", int, 0, 100, 1, _PATIENCE_HELP),
    Param("train", "seed", "Seed", int, 0, 2**31 - 1, 1, "Seed of weights and batch order."),
)  # fmt: skip
SEQ_LENGTH_KEY = "keep.train.model.sequence_length"
PADDING_KEY = "keep.train.model.padding"


def apply_preset(name: str | None = None) -> None:
    """Put preset ``name``'s values (default: the selected preset) into every widget."""
    name = name or st.session_state.get(PRESET_KEY) or "fast"
    preset = PRESETS[name]
    for param in PARAMS:
        value = getattr(getattr(preset, param.section), param.name)
        st.session_state[param.key] = param.kind(value)
    length = preset.model.sequence_length
    st.session_state[SEQ_MODE_KEY] = "auto" if length is None else "fixed"
    st.session_state[SEQ_LENGTH_KEY] = length or 32
    st.session_state[PADDING_KEY] = preset.model.padding


def init_widgets() -> None:
    """First visit: the default preset's values."""
    if PRESET_KEY not in st.session_state:
        st.session_state[PRESET_KEY] = "fast"
        apply_preset("fast")
    elif any(param.key not in st.session_state for param in PARAMS):
        apply_preset()


def hyperparameter_widgets() -> None:
    """Draw the preset selector and every hyper-parameter input."""
    st.selectbox(
        "Preset",
        list(PRESETS),
        key=PRESET_KEY,
        on_change=apply_preset,
        help="fast: quick defaults (auto sequence length, right padding, cuDNN-friendly). "
        "seed: the original notebook's settings. Picking one resets the fields below.",
    )
    cols = st.columns(4)
    for i, param in enumerate(PARAMS):
        cols[i % 4].number_input(
            param.label,
            min_value=param.kind(param.min_value),
            max_value=param.kind(param.max_value),
            step=param.kind(param.step),
            format=param.format,
            key=param.key,
            help=param.help or None,
        )
    cols = st.columns(4)
    cols[0].radio(
        "Sequence length",
        ["auto", "fixed"],
        key=SEQ_MODE_KEY,
        horizontal=True,
        help="auto: the 99.9th percentile of training headline lengths.",
    )
    cols[1].number_input(
        "Fixed length (tokens)",
        min_value=1,
        max_value=1024,
        step=1,
        key=SEQ_LENGTH_KEY,
        disabled=st.session_state.get(SEQ_MODE_KEY) != "fixed",
    )
    cols[2].selectbox(
        "Padding",
        list(PADDINGS),
        key=PADDING_KEY,
        format_func={"post": "post (right, masked)", "pre": "pre (left, as the seed)"}.get,
    )


def config_from_widgets(data: DataConfig) -> ExperimentConfig:
    """The :class:`ExperimentConfig` the widgets describe (``ConfigError`` if invalid)."""
    values: dict[str, dict[str, Any]] = {"model": {}, "train": {}}
    for param in PARAMS:
        values[param.section][param.name] = param.kind(st.session_state[param.key])
    fixed = st.session_state.get(SEQ_MODE_KEY) == "fixed"
    values["model"]["sequence_length"] = int(st.session_state[SEQ_LENGTH_KEY]) if fixed else None
    values["model"]["padding"] = st.session_state[PADDING_KEY]
    config = ExperimentConfig(
        preset=str(st.session_state.get(PRESET_KEY) or "fast"),
        data=data,
        model=ModelConfig(**values["model"]),
        train=TrainConfig(**values["train"]),
    )
    return config.validate()


def describe_data_config(config: DataConfig) -> str:
    """One line summarising a DataConfig for captions."""
    balance = config.balance
    if balance == "cap":
        balance = f"cap {config.cap_per_class:,} per class"
    return (
        f"dedupe **{config.dedupe}**, balance **{balance}**, test **{config.test_size:.0%}**, "
        f"validation **{config.val_size:.0%}**, split **{config.split}**, seed **{config.seed}**"
    )


def submit(
    manager: JobManager,
    dataset: Any,
    config: ExperimentConfig,
    *,
    force: bool = False,
    parent_run_id: str | None = None,
    label: str = "",
) -> int:
    """Queue a training, remember it as this session's job, return its id."""
    job = manager.submit(
        dataset, config, force=force, parent_run_id=parent_run_id, label=label or config.preset
    )
    st.session_state[state.TRAIN_JOB_ID] = job.job_id
    return job.job_id


def followed_job_id(manager: JobManager) -> int | None:
    """This session's job, or else the job the server is running or will run next."""
    job_id = st.session_state.get(state.TRAIN_JOB_ID)
    if job_id is not None and manager.get(job_id) is not None:
        return int(job_id)
    for job in reversed(manager.jobs()):
        if not job.snapshot().done:
            st.session_state[state.TRAIN_JOB_ID] = job.job_id
            return job.job_id
    return None


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _latest_metrics(snap: JobSnapshot) -> dict[str, float]:
    merged: dict[str, float] = {}
    if snap.history:
        merged.update({k: v for k, v in snap.history[-1].items() if isinstance(v, (int, float))})
    merged.update(snap.logs or {})
    return merged


def _adopt_result(snap: JobSnapshot) -> None:
    """Make a finished job's run the active run, once per job.

    The sidebar was drawn before this page, so the app reruns once to show the
    new active run there.
    """
    handled: set[int] = st.session_state.setdefault(state.HANDLED_JOBS, set())
    if snap.job_id in handled:
        return
    handled.add(snap.job_id)
    if snap.run_id:
        state.set_active_run_id(snap.run_id)
        st.rerun()


def draw_snapshot(manager: JobManager, snap: JobSnapshot) -> None:
    """Everything the progress panel shows for one snapshot."""
    title = f"Job {snap.job_id} · {escape_markdown(snap.label)}"
    if snap.status == "queued":
        st.info(
            f"{title}: waiting its turn, position {snap.queue_position or 1} in the queue. "
            "Another training is using the device; this one starts when it ends.",
            icon=":material/hourglass_top:",
        )
        if st.button("Cancel", key=f"train.cancel.{snap.job_id}"):
            _stop(manager, snap.job_id)
        return
    if snap.status == "running":
        _draw_running(manager, snap, title)
        return
    _adopt_result(snap)
    if snap.status == "cached":
        st.success(
            f"{title}: loaded from cache. This data and these settings were trained before "
            f"(run `{snap.run_id}`); nothing was retrained.",
            icon=":material/bolt:",
        )
        job = manager.get(snap.job_id)
        if job is not None and st.button("Train again anyway", key=f"train.force.{snap.job_id}"):
            submit(
                manager,
                job.dataset,
                job.config,
                force=True,
                parent_run_id=job.parent_run_id,
                label=f"{snap.label} (again)",
            )
            st.rerun()
    elif snap.status == "finished":
        st.success(
            f"{title}: finished. Run `{snap.run_id}` is now the active run.",
            icon=":material/check_circle:",
        )
    elif snap.status == "stopped":
        if snap.run_id:
            st.warning(
                f"{title}: stopped; the best epoch so far was kept as run `{snap.run_id}`, "
                "now the active run.",
                icon=":material/stop_circle:",
            )
        else:
            st.warning(f"{title}: {escape_markdown(snap.message)}", icon=":material/stop_circle:")
    elif snap.status == "cancelled":
        st.info(f"{title}: cancelled before it started.")
    else:  # failed
        st.error(f"{title}: {escape_markdown(snap.message)}", icon=":material/error:")
    if snap.history and (snap.run_id or snap.status == "failed"):
        _curves(snap)
    if snap.run_id:
        st.page_link("app_pages/results.py", label="See the results", icon=":material/insights:")


def _draw_running(manager: JobManager, snap: JobSnapshot, title: str) -> None:
    st.markdown(f"**{title}** · {escape_markdown(snap.message or 'training')}")
    batches = max(snap.batches, 1)
    epoch_fraction = min(max(snap.progress, 0.0), 1.0)
    if snap.epochs:
        epoch_text = f"Epoch {snap.epoch} of {snap.epochs}"
        batch_text = f"Batch {snap.batch} of {snap.batches}"
    else:  # still preparing the data: no totals yet
        epoch_text, batch_text = "Epoch: waiting for the data", "Batch: waiting for the data"
    st.progress(epoch_fraction, text=epoch_text)
    st.progress(min(snap.batch / batches, 1.0) if snap.batches else 0.0, text=batch_text)
    latest = _latest_metrics(snap)
    cols = st.columns(6)
    cols[0].metric("Elapsed", _format_seconds(snap.elapsed_s))
    cols[1].metric("ETA", _format_seconds(snap.eta_s))
    for col, name in zip(cols[2:], ("loss", "accuracy", "val_loss", "val_accuracy"), strict=True):
        value = latest.get(name)
        col.metric(name.replace("_", " "), f"{value:.4f}" if value is not None else "–")
    if st.button("Stop", key=f"train.stop.{snap.job_id}", type="primary", icon=":material/stop:"):
        _stop(manager, snap.job_id)
        st.toast("Stopping after the current batch; the best epoch is kept.")
    _curves(snap, epochs=max(snap.epochs, 1))


def _curves(snap: JobSnapshot, epochs: int | None = None) -> None:
    history = list(snap.history)
    if not history:
        st.caption("Curves appear after the first epoch.")
        return
    left, right = st.columns(2)
    left.plotly_chart(
        figures.training_curves(history, "accuracy", epochs=epochs),
        key=f"live_acc_{snap.job_id}",
    )
    right.plotly_chart(
        figures.training_curves(history, "loss", epochs=epochs),
        key=f"live_loss_{snap.job_id}",
    )


def _stop(manager: JobManager, job_id: int) -> None:
    job = manager.get(job_id)
    if job is not None:
        job.stop()


def replace_train(config: ExperimentConfig, **changes: Any) -> ExperimentConfig:
    """``config`` with some ``train`` fields replaced (e.g. epochs for "continue")."""
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))
