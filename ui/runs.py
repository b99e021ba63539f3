"""Saved runs as the pages show them: labels, tables and the run picker.

Reads ``pipeline.registry`` only (JSON files), never TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from pipeline.registry import RunSummary

if TYPE_CHECKING:
    import pandas as pd
from pipeline.run_record import RUN_ID_PATTERN
from ui import state
from ui.resources import get_registry
from ui.session import can_see


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_runs(root: str, signature: tuple[tuple[str, int], ...]) -> list[RunSummary]:
    return get_registry().list_runs()


def _signature(root: Path) -> tuple[tuple[str, int], ...]:
    """Run folders and the newest modification time of their files: changes when a run
    is saved, imported, deleted or damaged."""
    if not root.is_dir():
        return ()
    entries = []
    for folder in root.iterdir():
        if not RUN_ID_PATTERN.match(folder.name):
            continue
        try:
            stamps = [folder.stat().st_mtime_ns]
            stamps += [path.stat().st_mtime_ns for path in folder.iterdir()]
        except OSError:
            continue  # removed while we looked
        entries.append((folder.name, max(stamps)))
    return tuple(sorted(entries))


def list_runs() -> list[RunSummary]:
    """Every run this session may see (``ui.session.can_see``), newest first, damaged
    ones (``problem`` set) last.

    The listing is cached on the runs folder's listing and modification times, so a
    rerun does not parse every run's JSON again; saving, importing or deleting a run
    changes the key.
    """
    root = get_registry().root
    return [run for run in _cached_runs(str(root), _signature(root)) if can_see(run)]


def usable_runs() -> list[RunSummary]:
    """:func:`list_runs` without the damaged ones: the runs a page can show or use."""
    return [run for run in list_runs() if not run.damaged]


def runs_or_stop(empty_message: str) -> list[RunSummary]:
    """:func:`usable_runs`, or, when there are none, ``empty_message``, a link to
    the Train page and ``st.stop()`` (for pages that need a run to show anything)."""
    runs = usable_runs()
    if not runs:
        st.info(empty_message)
        st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    return runs


def run_label(run: RunSummary) -> str:
    """One line naming a run: date, preset, dataset, accuracy, short id."""
    if run.damaged:
        return f"damaged run · {run.run_id[:8]}"
    accuracy = f"{run.accuracy:.1%}" if run.accuracy is not None else "n/a"
    date = run.created_at.replace("T", " ")[:16]
    marks = (" (stopped)" if run.status == "stopped" else "") + (
        " (imported)" if run.origin == "imported" else ""
    )
    return f"{date} · {run.preset} · {run.dataset} · acc {accuracy}{marks} · {run.run_id[:8]}"


def runs_table(runs: Sequence[RunSummary]) -> pd.DataFrame:
    """The Runs page table: one row per run, readable column names."""
    import pandas as pd  # here: pages that only pick a run open without pandas

    rows: list[dict[str, Any]] = [
        {
            "created": pd.to_datetime(run.created_at, utc=True, errors="coerce"),
            "preset": run.preset,
            "dataset": run.dataset,
            "accuracy": run.accuracy,
            "macro F1": run.macro_f1,
            "epochs": run.epochs,
            "duration (s)": run.duration_s,
            "status": run.status,
            "origin": run.origin,
            "continues": run.parent_run_id or "",
            "run id": run.run_id,
            "problem": run.problem or "",
        }
        for run in runs
    ]
    columns = [
        "created", "preset", "dataset", "accuracy", "macro F1", "epochs",
        "duration (s)", "status", "origin", "continues", "run id", "problem",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def pick_run(
    runs: Sequence[RunSummary],
    *,
    key: str,
    label: str = "Run",
    follow_active: bool = True,
) -> str | None:
    """A selectbox of runs, preselecting the active run; returns the chosen run id.

    With ``follow_active`` the choice also becomes the active run, so the
    Results and Playground pages always show the same one.
    """
    if not runs:
        return None
    ids = [run.run_id for run in runs]
    labels = {run.run_id: run_label(run) for run in runs}
    active = state.get_active_run_id()
    # Follow the active run when it changed elsewhere (Train, Runs page); a pick made
    # in this selectbox has already become the active run through the callback.
    if follow_active and active in ids:
        st.session_state[key] = active
    elif st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    chosen = st.selectbox(
        label,
        ids,
        format_func=labels.__getitem__,
        key=key,
        on_change=_make_active if follow_active else None,
        args=(key,) if follow_active else None,
    )
    if follow_active and active not in ids:
        state.set_active_run_id(chosen)
        st.rerun()  # once: the sidebar, drawn before this page, shows the new active run
    return chosen


def _make_active(key: str) -> None:
    state.set_active_run_id(st.session_state.get(key))
