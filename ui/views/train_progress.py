"""The Train page's live job panel: which job this session follows, and its progress.

A fragment that reruns every :data:`POLL_SECONDS` draws the job's latest ``JobSnapshot``
(the curves, every :data:`CURVES_POLL_SECONDS`); a job that is over is drawn once with
its outcome, and its run becomes the active run. Nothing trains in this process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from pipeline.core.errors import RunNotFoundError, RunRecordError
from pipeline.core.progress import describe_epoch_limit
from ui.core import state
from ui.core.data import active_dataset
from ui.core.numbers import format_share
from ui.core.resources import get_registry
from ui.core.session import remember_session, session_id
from ui.core.text import escape_markdown
from ui.views.train_settings import submit

if TYPE_CHECKING:
    from pipeline.jobs.job import JobSnapshot
    from pipeline.jobs.manager import JobManager

#: Seconds between two refreshes of the progress panel while a job waits or runs. Each
#: refresh costs the watching browser about 0.09 s of CPU whatever it redraws (React
#: renders the page again), time taken from the other visitors' pages: measured with
#: benchmarks/app_speed.py's method, 0.17 CPU-s/s at one refresh a second, 0.08 at two
#: seconds. The Stop button does not wait for it (a click reruns the panel at once).
POLL_SECONDS = 2.0
#: How often the live curves are drawn again: a new epoch's point shows within this.
CURVES_POLL_SECONDS = 4.0
CURVES_CACHE = "train.live_curves"


def followed_job_id(manager: JobManager) -> int | None:
    """This session's job: the one it started last, else its newest unfinished one.
    Other sessions' jobs are never followed (see ``ui.core.session``)."""
    mine = manager.jobs_of(session_id())
    job_id = st.session_state.get(state.TRAIN_JOB_ID)
    if any(job.job_id == job_id for job in mine):
        return int(job_id)
    for job in reversed(mine):
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
        merged.update({k: v for k, v in snap.history[-1].metrics.items() if v is not None})
    merged.update(snap.logs or {})
    return merged


def _adopt_result(snap: JobSnapshot, *, in_panel: bool) -> None:
    """Make a finished job's run the active run, once per job.

    In a full run of the page the sidebar was drawn before this, so the page
    reruns once to show the new active run there. Inside the live panel's
    fragment it does not (a rerun from that timer raced its ticks and could
    freeze the panel): the sidebar's active-run line redraws itself while a job
    of this session is unfinished (see ``ui.core.sidebar``).
    """
    handled: set[int] = st.session_state.setdefault(state.HANDLED_JOBS, set())
    if snap.job_id in handled:
        return
    handled.add(snap.job_id)
    kept = better_active_run(snap.run_id) if snap.status == "stopped" and snap.run_id else None
    if kept is not None:
        st.session_state.setdefault(state.KEPT_ACTIVE_RUNS, {})[snap.job_id] = kept
    elif snap.run_id:
        state.set_active_run_id(snap.run_id)
    # Inside the live panel's fragment no page run ends (and remembers the session) after
    # this: a reload would bring the previous active run back, and the next Train page
    # would adopt the job again over a run picked in between.
    remember_session()
    if snap.run_id and kept is None and not in_panel:
        st.rerun()


def better_active_run(stopped_run_id: str) -> str | None:
    """The active run, if it should stay active over a stopped job's run: trained on
    the same data and scoring higher on its test set. ``None`` otherwise."""
    active = state.get_active_run_id()
    if active is None or active == stopped_run_id:
        return None
    registry = get_registry()
    try:
        stopped, current = registry.get(stopped_run_id), registry.get(active)
    except (RunNotFoundError, RunRecordError):
        return None
    same_data = stopped.data.fingerprint == current.data.fingerprint
    higher = current.metrics.test_accuracy > stopped.metrics.test_accuracy
    return active if same_data and higher else None


def draw_snapshot(manager: JobManager, snap: JobSnapshot, *, in_panel: bool = False) -> None:
    """Everything the progress panel shows for one snapshot (``in_panel``: drawn by
    the live panel's fragment rather than by a full run of the page)."""
    title = f"Job {snap.job_id} · {escape_markdown(snap.label)}"
    if snap.status == "queued":
        ahead = manager.ahead_of(snap.job_id)
        st.info(
            f"{title}: waiting its turn, {ahead} training{'' if ahead == 1 else 's'} ahead "
            "of yours. One training uses the device at a time; this one starts when "
            f"{'it ends' if ahead == 1 else 'they end'}.",
            icon=":material/hourglass_top:",
        )
        st.button(
            "Cancel",
            key=f"train.cancel.{snap.job_id}",
            on_click=_stop,
            args=(manager, snap.job_id),
        )
        return
    if snap.status == "running":
        _draw_running(manager, snap, title)
        return
    _adopt_result(snap, in_panel=in_panel)
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
                active_dataset(),
                job.config,
                force=True,
                parent_run_id=job.parent_run_id,
                allow_other_data=job.allow_other_data,
                label=f"{snap.label} (again)",
            )
    elif snap.status == "finished":
        st.success(
            f"{title}: finished. Run `{snap.run_id}` is now the active run.",
            icon=":material/check_circle:",
        )
    elif snap.status == "stopped":
        kept = st.session_state.get(state.KEPT_ACTIVE_RUNS, {}).get(snap.job_id)
        if snap.run_id and kept is not None and state.get_active_run_id() == kept:
            st.warning(
                f"{title}: stopped. {escape_markdown(snap.message)} Saved as run "
                f"`{snap.run_id}`. It scores below your active run `{kept}` on the same "
                "data, which stays active.",
                icon=":material/stop_circle:",
            )
            st.button(
                "Make the stopped run active",
                key=f"train.adopt.{snap.job_id}",
                on_click=state.set_active_run_id,
                args=(snap.run_id,),
            )
        elif snap.run_id:
            st.warning(
                f"{title}: stopped. {escape_markdown(snap.message)} Saved as run "
                f"`{snap.run_id}`, now the active run.",
                icon=":material/stop_circle:",
            )
        else:
            st.warning(f"{title}: {escape_markdown(snap.message)}", icon=":material/stop_circle:")
    elif snap.status == "cancelled":
        st.info(f"{title}: cancelled before it started.")
    else:  # failed
        st.error(f"{title}: {escape_markdown(snap.message)}", icon=":material/error:")
    if snap.run_id:
        st.page_link("app_pages/results.py", label="See the results", icon=":material/insights:")
    if not in_panel and _has_final_curves(snap):
        _curves(snap)


def _has_final_curves(snap: JobSnapshot) -> bool:
    """Whether a job that is over has curves worth keeping on the page."""
    return bool(snap.history) and (bool(snap.run_id) or snap.status == "failed")


#: The phases a person follows, in order, with their short names.
PHASE_STEPS: dict[str, str] = {
    "preparing": "Preparing",
    "vectorizing": "Vectorizing",
    "training": "Training",
    "evaluating": "Evaluating",
    "baseline": "Baseline",
    "saving": "Saving",
}


def phase_trail(phase: str) -> str:
    """``"✓ Preparing · ✓ Vectorizing · ▶ Training · Evaluating · …"``: where the job is."""
    names = list(PHASE_STEPS)
    current = names.index(phase) if phase in names else -1
    parts = []
    for i, name in enumerate(names):
        if name == "baseline" and phase != "baseline":
            continue  # shown only when the job really waits for it
        mark = "✓ " if i < current else ("▶ " if i == current else "")
        parts.append(f"{mark}{PHASE_STEPS[name]}")
    return " · ".join(parts)


def step_text(snap: JobSnapshot) -> str:
    """What the job is doing within its phase, with the time left for that step alone."""
    if not snap.step:
        return escape_markdown(snap.message or "Starting…")
    if snap.step_unit == "batches":
        what = "batch" if not snap.validating else "validation batch"
        text = f"{snap.step} · {what} {snap.step_done:,} of {snap.step_total:,}"
    elif snap.step_unit == "steps":  # a solver's: how many it takes is not known before
        steps = "step" if snap.step_done == 1 else "steps"
        text = f"{snap.step} · {snap.step_done:,} solver {steps} done (it ends at its optimum)"
    else:
        text = f"{snap.step} · {snap.step_done:,} of {snap.step_total:,} rows"
    if snap.eta_s is not None and snap.step_fraction < 1.0:
        where = "this epoch" if snap.step.startswith("Epoch") else "this step"
        left = "under a second" if snap.eta_s < 1 else f"about {_format_seconds(snap.eta_s)}"
        text += f" · {left} left in {where}"  # never "about 0:00 left"
    return text  # step names and counts come from pipeline.training.train, never from data


def epoch_limit_text(snap: JobSnapshot) -> str:
    """What is known of the number of epochs: the limit, and who decides before it."""
    if not snap.epochs:
        return ""
    limit = describe_epoch_limit(snap.epoch, snap.epochs, snap.patience)
    return f"{limit}; no time is promised beyond this epoch."


def live_panel(manager: JobManager, job_id: int) -> None:
    """The progress panel of a queued or running job, redrawn in place while it runs.

    One fragment reruns every :data:`POLL_SECONDS`, a second one below it (the
    curves) every :data:`CURVES_POLL_SECONDS`. They only read the job's snapshot:
    nothing trains in this process, and the curves' figures are rebuilt only when an
    epoch has ended. The Stop button, the job's end and
    its final state are all drawn inside the fragment: the page is never rerun
    from the fragment's timer (that raced the timer's own ticks and could leave
    the browser's panel frozen on the last phase it showed).
    """

    @st.fragment(run_every=POLL_SECONDS)
    def panel() -> None:
        snap = manager.snapshot(job_id)
        if snap is None:
            return
        # The slot is drawn even when the button is not, so the panel below never moves.
        stop_slot = st.empty()
        if snap.status == "running" and not snap.stopping:
            stop_slot.button(
                "Stop",
                key=f"train.stop.{job_id}",
                type="primary",
                icon=":material/stop:",
                on_click=_stop,
                args=(manager, job_id),
            )
        draw_snapshot(manager, snap, in_panel=True)

    # The curves have a fragment of their own at a slower pace: they change once an epoch,
    # and the panel's refreshes need not send two unchanged figures each time.
    @st.fragment(run_every=CURVES_POLL_SECONDS)
    def curves() -> None:
        snap = manager.snapshot(job_id)
        if snap is not None and (snap.status == "running" or _has_final_curves(snap)):
            _curves(snap)

    panel()
    curves()


def _draw_running(manager: JobManager, snap: JobSnapshot, title: str) -> None:
    elapsed, in_phase = snap.clocks()
    phase_name = PHASE_STEPS.get(snap.phase, "Starting")
    st.markdown(
        f"**{title}** · {phase_name} for {_format_seconds(in_phase)} · "
        f"{_format_seconds(elapsed)} in all"
    )
    st.caption(phase_trail(snap.phase))
    st.progress(snap.step_fraction, text=step_text(snap))
    if snap.phase == "training":
        st.caption(epoch_limit_text(snap))
    latest = _latest_metrics(snap)
    cols = st.columns(4)
    for col, name in zip(cols, ("loss", "accuracy", "val_loss", "val_accuracy"), strict=True):
        value = latest.get(name)
        shown = "–" if value is None else f"{value:.4f}" if "loss" in name else None
        col.metric(name.replace("_", " "), shown or format_share(value, 2))  # ui.core.numbers
    if snap.stopping:
        st.warning(f"Stopping ({stop_effect(snap.phase)}).", icon=":material/stop_circle:")


def stop_effect(phase: str) -> str:
    """What a Stop pressed during ``phase`` does, in words."""
    if phase == "training":
        return "after the current batch; the best epoch is kept"
    if phase in {"preparing", "vectorizing", ""}:
        return "within seconds; no epoch has run, so nothing is saved"
    if phase == "evaluating":
        return "after the test set is scored; the baseline is not waited for"
    return "the run is being saved"


def _curves(snap: JobSnapshot) -> None:
    """The accuracy and loss curves so far; figures are rebuilt only when an epoch ends."""
    history = list(snap.history)
    if not history:
        st.caption("Curves appear after the first epoch.")
        return
    cache_key = f"{CURVES_CACHE}.{snap.job_id}"
    cached = st.session_state.get(cache_key)
    if cached is None or cached[0] != len(history):
        from ui.figures import curves  # plotly (and pandas): not needed before the first epoch

        cached = (
            len(history),
            curves.training_curves(history, "accuracy"),
            curves.training_curves(history, "loss"),
        )
        st.session_state[cache_key] = cached
    left, right = st.columns(2)
    left.plotly_chart(cached[1], key=f"live_acc_{snap.job_id}")
    right.plotly_chart(cached[2], key=f"live_loss_{snap.job_id}")


def _stop(manager: JobManager, job_id: int) -> None:
    """Stop (or cancel) the job; a button callback (it draws nothing: Streamlit does not
    support elements drawn by a callback of a fragment), so the panel drawn next says so."""
    job = manager.get(job_id)
    if job is not None:
        job.stop()
