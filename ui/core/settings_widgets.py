"""One widget per declared setting (``pipeline.core.settings.Setting``), for every page.

The Prepare and Train pages draw their settings here and nowhere else, so a widget's
label, range, step, help and the value it shows for an unset optional setting are
exactly the declaration's in ``pipeline.core.config`` (as the command line's flags are):

* a ``choice`` is radio buttons (never a select box: its code costs a new browser tab
  about half a second on the first draw), options shown with ``choice_labels``;
* a ``bool`` is a checkbox;
* an ``int`` or ``float`` is a number box, or a slider when declared ``slider=True``,
  offering :meth:`Setting.bounds` (exclusive bounds moved one step inward);
* an optional number may get an "<label>: auto" checkbox above its number box; the box
  then shows :meth:`Setting.example_value` until a value is typed in.

Widget values live in session state under the caller's key (``keep.…`` keys survive
page switches, see ``ui.core.state``); the "auto" checkbox's key is the key plus
:data:`AUTO_SUFFIX`. Every text drawn comes from the declarations, never from data.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from pipeline.core.config import SECTIONS
from pipeline.core.settings import Setting, declared

#: Added to a setting's widget key for its "auto" checkbox.
AUTO_SUFFIX = ".auto"


def spec_of(section: str, name: str) -> Setting:
    """The declaration of setting ``name`` of config section ``section`` (e.g. "train")."""
    specs = dict(declared(SECTIONS[section]))
    if name not in specs:
        raise KeyError(f"No setting {name!r} is declared in the {section} section.")
    return specs[name]


def widget_value(spec: Setting, value: Any) -> Any:
    """``value`` as its widget holds it: the declared example for an unset optional
    number, ints as ints and floats as floats (Streamlit refuses mixed number types)."""
    if value is None:
        value = spec.example_value()
    if value is None:
        return None
    if spec.kind == "int":
        return int(value)
    if spec.kind == "float":
        return float(value)
    return value


def put_value(key: str, spec: Setting, value: Any, *, auto: bool = True) -> None:
    """Set a setting's widget (and its "auto" checkbox, with ``auto``) to ``value``;
    ``None`` ticks "auto" and puts the declared example in the number box."""
    if spec.optional and auto:
        st.session_state[key + AUTO_SUFFIX] = value is None
    st.session_state[key] = widget_value(spec, value)


def init_value(key: str, spec: Setting, value: Any, *, auto: bool = True) -> None:
    """Like :func:`put_value`, on the widget's first draw only (a value already in
    session state, e.g. kept from an earlier visit or set by a test, is left)."""
    if key not in st.session_state or (
        spec.optional and auto and key + AUTO_SUFFIX not in st.session_state
    ):
        put_value(key, spec, value, auto=auto)


def is_auto(key: str, spec: Setting) -> bool:
    """Whether the optional setting drawn under ``key`` has its "auto" box ticked."""
    return spec.optional and bool(st.session_state.get(key + AUTO_SUFFIX))


def read_value(key: str, spec: Setting) -> Any:
    """The setting's value as its widgets hold it (``None`` when "auto" is ticked)."""
    return None if is_auto(key, spec) else st.session_state.get(key)


def setting_widget(
    container: Any,
    spec: Setting,
    *,
    key: str,
    label: str | None = None,
    auto: bool = True,
    disabled: bool = False,
    horizontal: bool = False,
    note: str = "",
) -> Any:
    """Draw one declared setting in ``container`` (``st``, a column, …); its value.

    ``label`` replaces the declared label (e.g. "More epochs" for ``epochs``);
    ``auto`` draws the "auto" checkbox of an optional number (the value is then
    ``None`` while it is ticked); ``note`` is a sentence the page adds to the
    declared help (e.g. why the widget is disabled); ``horizontal`` lays radio
    buttons out in a row. The value comes from session state under ``key`` (see
    :func:`init_value`).
    """
    label = label or spec.label
    help_text = f"{spec.help} {note}".strip()
    if spec.kind == "choice":
        return container.radio(
            label,
            list(spec.choices),
            key=key,
            help=help_text,
            format_func=spec.label_of,
            horizontal=horizontal,
            disabled=disabled,
        )
    if spec.kind == "bool":
        return container.checkbox(label, key=key, help=help_text, disabled=disabled)
    with_auto = spec.optional and auto
    if with_auto:
        disabled = (
            container.checkbox(
                f"{label}: {spec.label_of(None)}",
                key=key + AUTO_SUFFIX,
                help=help_text,
                disabled=disabled,
            )
            or disabled
        )
    value = _number_widget(
        container,
        spec,
        key=key,
        label=label,
        help_text=help_text,
        disabled=disabled,
        collapsed=with_auto,
    )
    return None if with_auto and is_auto(key, spec) else value


def number_setting(
    section: str,
    name: str,
    *,
    key: str,
    label: str | None = None,
    initial: Any = None,
    container: Any = None,
) -> Any:
    """A number box for declared setting ``section.name`` under another ``key`` and
    ``label`` (e.g. the Train page's "More epochs", drawn from ``train.epochs``): the
    declared range, step and help, first showing ``initial`` (default: the declared
    example). Returns its value."""
    spec = spec_of(section, name)
    init_value(key, spec, initial, auto=False)
    return setting_widget(container or st, spec, key=key, label=label, auto=False)


def _number_widget(
    container: Any,
    spec: Setting,
    *,
    key: str,
    label: str,
    help_text: str,
    disabled: bool,
    collapsed: bool,
) -> int | float:
    """A number box (or a slider, when declared) with the declared range and step."""
    cast = int if spec.kind == "int" else float
    low, high = (None if bound is None else cast(bound) for bound in spec.bounds())
    step = cast(spec.step) if spec.step is not None else None
    if spec.slider and low is not None and high is not None:
        return container.slider(
            label,
            low,
            high,
            step=step,
            key=key,
            help=help_text,
            disabled=disabled,
            format=_slider_format(spec),
        )
    return container.number_input(
        label,
        min_value=low,
        max_value=high,
        step=step,
        format=None if spec.kind == "int" else "%.4g",
        key=key,
        help=help_text,
        disabled=disabled,
        label_visibility="collapsed" if collapsed else "visible",
    )


def _slider_format(spec: Setting) -> str | None:
    """``"%.2f"`` for a float slider of step 0.05: as many decimals as the step has."""
    if spec.kind == "int":
        return None
    step = spec.step or 0.01
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if not math.isclose(round(step, decimals), step):
        decimals += 1
    return f"%.{decimals}f"
