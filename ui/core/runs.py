"""Saved runs as the pages show them: labels, tables and the run picker.

Reads ``pipeline.runs.registry`` only (JSON files), never TensorFlow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from pipeline.core.config import SECTIONS, DataConfig
from pipeline.core.errors import ConfigError, RunNotFoundError, RunRecordError
from pipeline.core.settings import Setting, declared
from pipeline.runs.files import MAX_JSON_BYTES
from pipeline.runs.record import RUN_ID_PATTERN, RunConfig
from pipeline.runs.registry import RunRegistry
from pipeline.runs.summary import RunSummary
from ui.core import state
from ui.core.numbers import SHARE_COLUMN
from ui.core.resources import get_registry
from ui.core.session import can_see, stop_run

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.runs.summary import SavedRun

#: The data settings the runs table shows, by frame column: what tells runs apart.
DATA_COLUMNS: dict[str, str] = {
    "dedupe": "dedupe",
    "balance": "balance",
    "test set": "test_set",
    "split": "split",
}


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_runs(root: str, signature: tuple[tuple[str, int], ...]) -> list[RunSummary]:
    # Every run, as the administrator lists them: this cache serves every session, and
    # list_runs() filters what each may see (pipeline.sessions.access) after it.
    return RunRegistry(Path(root)).list_runs()


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


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_data_settings(
    root: str, signature: tuple[tuple[str, int], ...]
) -> dict[str, DataConfig]:
    """The data settings of every readable run, from its ``config.json`` alone."""
    registry = get_registry()
    found: dict[str, DataConfig] = {}
    for run_id, _ in signature:
        try:
            path = registry.path_of(run_id) / "config.json"
            if path.stat().st_size > MAX_JSON_BYTES:
                continue
            raw = json.loads(path.read_text(encoding="utf-8"))
            found[run_id] = RunConfig.parse(raw).experiment.data
        except (OSError, ValueError, ConfigError, RunRecordError, RunNotFoundError):
            continue  # a damaged run: its row says why
    return found


def run_data_settings() -> dict[str, DataConfig]:
    """Run id -> the :class:`DataConfig` it was trained with (damaged runs left out);
    cached like :func:`list_runs`."""
    root = get_registry().root
    return _cached_data_settings(str(root), _signature(root))


def list_runs() -> list[RunSummary]:
    """Every run this session may see (``ui.core.session.can_see``), newest first, damaged
    ones (``problem`` set) last.

    The listing is cached on the runs folder's listing and modification times, so a
    rerun does not parse every run's JSON again; saving, importing or deleting a run
    changes the key.
    """
    root = get_registry().root
    return [run for run in _cached_runs(str(root), _signature(root)) if can_see(run)]


def drop_missing_active_run() -> None:
    """Forget an active run that is gone (deleted by its owner or the administrator) or
    is no longer this session's to see, with a note that names no path (once)."""
    run_id = state.get_active_run_id()
    if run_id is None:
        return
    try:
        get_registry().run_info(run_id)
    except RunNotFoundError:
        state.set_active_run_id(None)
        st.session_state[state.DATASET_NOTICE] = (
            f"The run you had open ({run_id[:8]}) is no longer available: it was deleted. "
            "Pick another run on the Runs page."
        )
    except RunRecordError:
        pass  # damaged: the pages that show it say so


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
        stop_run()
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


def runs_table(
    runs: Sequence[RunSummary],
    *,
    active_run_id: str | None = None,
    data_settings: Mapping[str, DataConfig] | None = None,
) -> pd.DataFrame:
    """The Runs page table: one row per run, with what tells runs apart (the data and
    model settings, the dataset, the scores) and ``active`` ticked on the active run.

    ``data_settings`` maps run ids to their :class:`DataConfig` (see
    :func:`run_data_settings`); a run without one (damaged) gets empty cells. Column
    headers and formats are :func:`runs_column_config`'s.
    """
    import pandas as pd  # here: pages that only pick a run open without pandas

    data_settings = data_settings or {}
    rows: list[dict[str, Any]] = []
    for run in runs:
        data = data_settings.get(run.run_id)
        rows.append(
            {
                "active": run.run_id == active_run_id,
                "created": pd.to_datetime(run.created_at, utc=True, errors="coerce"),
                "model family": run.family,
                "dataset": run.dataset,
                "accuracy": run.accuracy,
                "macro F1": run.macro_f1,
                "status": run.status,
                **{
                    column: describe_data_setting(data, name) if data is not None else ""
                    for column, name in DATA_COLUMNS.items()
                },
                "preset": run.preset,
                "epochs": run.epochs,
                "duration (s)": run.duration_s,
                "origin": run.origin,
                "continues": run.parent_run_id or "",
                "run id": run.run_id,
                "problem": run.problem or "",
            }
        )
    # What tells runs apart and how they scored first: at 1280 px about seven columns
    # show before the table scrolls sideways.
    columns = [
        "active", "created", "model family", "dataset", "accuracy", "macro F1", "status",
        *DATA_COLUMNS, "preset", "epochs", "duration (s)", "origin", "continues", "run id",
        "problem",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def describe_data_setting(data: DataConfig, name: str) -> str:
    """A data setting's value in a few words: its declared choice label without the
    explanation in brackets ("Drop every copy"), a cap with its number."""
    spec = _data_specs()[name]
    value = getattr(data, name)
    text = spec.label_of(value).split(" (")[0]
    if name == "balance" and value == "cap" and data.cap_per_class is not None:
        text += f": {data.cap_per_class:,}"
    return text


def runs_column_config() -> dict[str, Any]:
    """Readable headers, help and formats of :func:`runs_table`'s columns; the data
    settings' headers and help are their declarations'."""
    specs = _data_specs()
    family = dict(declared(SECTIONS["model"]))["family"]
    config: dict[str, Any] = {
        "active": st.column_config.CheckboxColumn(
            "Active",
            width="small",
            help="The active run: the one the Results and Playground pages show.",
        ),
        "created": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
        "dataset": st.column_config.TextColumn("Dataset", width="medium"),
        "model family": st.column_config.TextColumn(family.label),
        "preset": st.column_config.TextColumn("Preset"),
        "accuracy": st.column_config.NumberColumn(
            "Accuracy", width="small", help="On the run's own test set.", **SHARE_COLUMN
        ),
        "macro F1": st.column_config.NumberColumn(
            "Macro F1",
            format="%.3f",
            width="small",
            help="F1 averaged over the classes, on the test set (0 to 1).",
        ),
        "status": st.column_config.TextColumn(
            "Status",
            width="small",
            help="complete, stopped (the best epoch before a Stop) or damaged.",
        ),
        "epochs": st.column_config.NumberColumn("Epochs", format="%d"),
        "duration (s)": st.column_config.NumberColumn("Duration", format="%.0f s"),
        "origin": st.column_config.TextColumn("Origin", help="trained here or imported."),
        "continues": st.column_config.TextColumn(
            "Continues", help="The run this one continued training."
        ),
        "run id": st.column_config.TextColumn("Run id"),
        "problem": st.column_config.TextColumn("Problem"),
    }
    for column, name in DATA_COLUMNS.items():
        config[column] = st.column_config.TextColumn(specs[name].label, help=specs[name].help)
    return config


def show_runs_table(runs: Sequence[RunSummary]) -> None:
    """Draw :func:`runs_table` for ``runs`` with the active run ticked."""
    st.dataframe(
        runs_table(
            runs, active_run_id=state.get_active_run_id(), data_settings=run_data_settings()
        ),
        hide_index=True,
        column_config=runs_column_config(),
    )


def _data_specs() -> dict[str, Setting]:
    return dict(declared(SECTIONS["data"]))


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


def run_cache_key(saved: SavedRun) -> str:
    """What tells a saved run's predictions apart: its id, folder, creation time and the
    size and modification time of its ``test_predictions.json`` (``-`` when missing)."""
    try:
        stat = saved.predictions_path.stat()
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        stamp = "-"
    return f"{saved.run_id}|{saved.path}|{saved.run.created_at}|{stamp}"
