"""The Train page's settings form: the preset and hyper-parameter widgets, the
:class:`ExperimentConfig` they describe, and starting a job with it.

The script never calls ``fit``. It submits an :class:`ExperimentConfig` to the
process-wide ``JobManager`` (a background thread); :mod:`ui.views.train_progress` draws the
job's progress. Switching pages or clicking widgets reruns the script, never the
training.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, NoReturn

import streamlit as st

from pipeline.core.config import MODEL_FAMILIES, SECTIONS, DataConfig, ExperimentConfig
from pipeline.core.presets import DEFAULT_PRESET, PRESET_DESCRIPTIONS, PRESETS
from pipeline.core.settings import Setting, declared
from ui.core import settings_widgets, state
from ui.core.session import principal, run_owner_for, session_id

if TYPE_CHECKING:
    from pipeline.jobs.manager import JobManager

PRESET_KEY = "keep.train.preset"
#: The toggle that shows a field per setting instead of the one-line summary.
EDIT_ALL_KEY = "keep.train.edit_all"

#: The model and training settings the Train page edits, in order; every widget is
#: generated from the setting's declaration in ``pipeline.core.config``.
EDITED_SECTIONS: tuple[str, ...] = ("model", "train")


def widget_key(section: str, name: str) -> str:
    """The session-state key of a setting's widget (kept across pages)."""
    return f"keep.train.{section}.{name}"


def _edited() -> list[tuple[str, str, Setting]]:
    return [
        (section, name, spec)
        for section in EDITED_SECTIONS
        for name, spec in declared(SECTIONS[section])
    ]


def apply_preset(name: str | None = None) -> None:
    """Put preset ``name``'s values (default: the selected preset) into every widget."""
    name = name or st.session_state.get(PRESET_KEY) or DEFAULT_PRESET
    preset = PRESETS[name]
    for section, field_name, spec in _edited():
        value = getattr(getattr(preset, section), field_name)
        # an automatic setting ticks "auto"; its box shows the declared example
        settings_widgets.put_value(widget_key(section, field_name), spec, value)


def init_widgets() -> None:
    """First visit: the default preset's values."""
    if PRESET_KEY not in st.session_state:
        st.session_state[PRESET_KEY] = DEFAULT_PRESET
        apply_preset(DEFAULT_PRESET)
    elif any(widget_key(s, n) not in st.session_state for s, n, _ in _edited()):
        apply_preset()


def hyperparameter_widgets() -> None:
    """Draw the preset selector, the model family and every setting that applies to it.

    Choices are radio buttons, never select boxes: a select box's code is loaded and
    compiled on a tab's first draw, which alone adds about half a second to opening
    the page (measured with ``benchmarks/app_speed.py``'s method).
    """
    st.radio(
        "Preset",
        list(PRESETS),
        key=PRESET_KEY,
        on_change=apply_preset,
        horizontal=True,
        help=" ".join(f"{name}: {text}" for name, text in PRESET_DESCRIPTIONS.items())
        + " Picking one resets the fields below.",
    )
    family_key = widget_key("model", "family")
    settings_widgets.setting_widget(
        st, settings_widgets.spec_of("model", "family"), key=family_key, horizontal=True
    )
    st.caption(MODEL_FAMILIES[st.session_state[family_key]])
    family = st.session_state.get(family_key)
    state.init_widget(EDIT_ALL_KEY, False)
    # Off by default: the page's first draw stays light (a new tab opens in about the
    # time of a trivial app's, also while a training runs), and the values still show.
    edit_all = st.toggle(
        "Edit every setting",
        key=EDIT_ALL_KEY,
        help="Show a field for each setting of the chosen family. Hidden fields keep their values.",
    )
    for section in EDITED_SECTIONS:
        specs = _family_settings(section, family)
        heading = "Model" if section == "model" else "Training"
        if not edit_all:
            st.caption(f"{heading}: " + " · ".join(_summary_item(section, n, s) for n, s in specs))
            continue
        st.caption(heading)
        cols = st.columns(4)
        for i, (name, spec) in enumerate(specs):
            setting_widget(cols[i % 4], section, name, spec)


def _family_settings(section: str, family: str | None) -> list[tuple[str, Setting]]:
    """The declared settings of ``section`` that apply to ``family`` (the family aside)."""
    return [
        (name, spec)
        for name, spec in declared(SECTIONS[section])
        if name != "family" and (not spec.families or family in spec.families)
    ]


def _summary_item(section: str, name: str, spec: Setting) -> str:
    """ "Label **value**" for the settings summary, the value as its widget holds it."""
    return _labelled(spec, settings_widgets.read_value(widget_key(section, name), spec))


def _labelled(spec: Setting, value: Any) -> str:
    """ "Label **value**", the value as people read it: declared text and numbers only,
    never a user's."""
    return f"{spec.label} **{spec.label_of(value)}**"


def setting_widget(container: Any, section: str, name: str, spec: Setting) -> None:
    """One widget for one declared setting: a number box (with an "auto" checkbox when
    optional), radio buttons or a checkbox, all from the declaration (see
    ``ui.core.settings_widgets``)."""
    settings_widgets.setting_widget(container, spec, key=widget_key(section, name))


def config_from_widgets(data: DataConfig) -> ExperimentConfig:
    """The :class:`ExperimentConfig` the widgets describe (``ConfigError`` if invalid)."""
    overrides: dict[str, Any] = {}
    for section, name, spec in _edited():
        value = settings_widgets.read_value(widget_key(section, name), spec)
        overrides[f"{section}_{name}" if name == "seed" else name] = value
    preset = str(st.session_state.get(PRESET_KEY) or DEFAULT_PRESET)
    base = dataclasses.replace(PRESETS[preset], data=data)
    return base.with_overrides(**overrides).validate()


def describe_data_config(config: DataConfig) -> str:
    """The data settings in one line, each named and shown as its Prepare widget
    shows it: "Duplicated texts **Drop every copy (as the notebook)** · Balancing
    **…** · …" (the cap only when balancing caps). Declared text and numbers only."""
    return " · ".join(
        _labelled(spec, getattr(config, name))
        for name, spec in declared(SECTIONS["data"])
        if DataConfig.uses(name, config.balance)
    )


def submit(
    manager: JobManager,
    dataset: Any,
    config: ExperimentConfig,
    *,
    force: bool = False,
    parent_run_id: str | None = None,
    allow_other_data: bool = False,
    label: str = "",
) -> NoReturn:
    """Queue a training, remember it as this session's job, and rerun the page (the
    sidebar, drawn before the page, then follows the job too). Never returns."""
    job = manager.submit(
        dataset,
        config,
        force=force,
        parent_run_id=parent_run_id,
        allow_other_data=allow_other_data,
        label=label or config.preset,
        session=session_id(),
        run_owner=run_owner_for(state.get_dataset_source()),
        principal=principal(),
    )
    st.session_state[state.TRAIN_JOB_ID] = job.job_id
    st.rerun()


def replace_train(config: ExperimentConfig, **changes: Any) -> ExperimentConfig:
    """``config`` with some ``train`` fields replaced (e.g. epochs for "continue")."""
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))
