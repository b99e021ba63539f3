"""Every setting's widget comes from its declaration in ``pipeline.core.config``.

The Prepare and Train pages draw each declared setting of the data, model and train
sections through ``ui.core.settings_widgets``: the label, the range (exclusive bounds one
step inward), the help and the choices a person sees are the declaration's, as the
command line's flags are.
"""

from __future__ import annotations

from typing import Any

import pytest
from apptest_support import RUN_TIMEOUT, assert_clean, new_app, open_page
from streamlit.testing.v1 import AppTest

from pipeline.core import config as config_module
from pipeline.core.config import MODEL_FAMILIES, SECTIONS
from pipeline.core.presets import PRESETS
from pipeline.core.settings import Setting, declared

NUMBER_KINDS = {"int", "float"}


def widget_by_key(at: AppTest, key: str) -> Any:
    """The number box, slider, radio group or checkbox drawn under ``key``."""
    for kind in ("number_input", "slider", "radio", "checkbox"):
        for element in getattr(at, kind):
            if element.key == key:
                return element
    raise AssertionError(f"no widget with key {key!r} on the page")


def assert_drawn_as_declared(at: AppTest, key: str, spec: Setting) -> None:
    """The widget under ``key`` has the declared label, help, range or choices."""
    widget = widget_by_key(at, key)
    assert widget.label == spec.label, key
    assert widget.help == spec.help, key
    if spec.kind in NUMBER_KINDS:
        low, high = spec.bounds()
        assert widget.min == (None if low is None else pytest.approx(low)), key
        assert widget.max == (None if high is None else pytest.approx(high)), key
        if spec.step is not None:
            assert widget.step == pytest.approx(spec.step), key
        assert widget.type == ("slider" if spec.slider else "number_input"), key
    elif spec.kind == "choice":
        assert widget.type == "radio", key  # never a select box (see ui.core.settings_widgets)
        assert widget.options == [spec.label_of(choice) for choice in spec.choices], key
    if spec.optional and key.startswith("keep.train."):
        auto = widget_by_key(at, key + ".auto")
        assert (auto.label, auto.help) == (f"{spec.label}: auto", spec.help), key


# --- the declarations themselves -----------------------------------------------------


@pytest.mark.parametrize(
    ("section", "name", "spec"),
    [(s, n, spec) for s, cls in SECTIONS.items() for n, spec in declared(cls)],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_declaration_can_be_drawn(section: str, name: str, spec: Setting) -> None:
    assert spec.label and spec.help
    if spec.kind in NUMBER_KINDS:
        low, high = spec.bounds()
        assert low is not None, f"{section}.{name}: a widget needs a smallest value"
        if spec.exclusive_minimum or spec.exclusive_maximum:
            assert spec.step, f"{section}.{name}: an exclusive bound moves one step inward"
        for bound in (low, high):
            if bound is not None:  # every value a widget offers is allowed
                assert spec.allowed() and _accepted(name, spec, bound), (section, name, bound)
        if spec.slider:
            assert high is not None and spec.step
    if spec.optional:
        # the value an unticked "auto" box (or an unused cap) shows
        assert spec.example_value() is not None
        assert _accepted(name, spec, spec.example_value())


def _accepted(name: str, spec: Setting, value: Any) -> bool:
    from pipeline.core.settings import coerce

    return coerce(name, spec, value) == value


def test_exclusive_bounds_move_one_step_inward() -> None:
    test_share = dict(declared(SECTIONS["data"]))["test_size"]
    assert (test_share.minimum, test_share.maximum) == (0.0, 1.0)
    assert test_share.bounds() == (0.05, 0.95)
    seed = dict(declared(SECTIONS["data"]))["seed"]
    assert seed.bounds() == (0, 2**31 - 1)


def test_automatic_rules_are_declared_once() -> None:
    """The help texts quote the constants the rules use (the percentile, the bounds)."""
    from pipeline.core import device
    from pipeline.models import text

    specs = {**dict(declared(SECTIONS["model"])), **dict(declared(SECTIONS["train"]))}
    assert specs["mixed_precision"].choices is device.PRECISION_SETTINGS
    assert "between 32 and 2,048" in specs["batch_size"].help
    assert (config_module.AUTO_BATCH_MIN, config_module.AUTO_BATCH_MAX) == (32, 2048)
    assert "99.9th percentile" in specs["sequence_length"].help
    assert "from 8 to 256" in specs["sequence_length"].help
    # pipeline.models.text's rule uses the declared percentile and bounds
    assert text.AUTO_LENGTH_PERCENTILE == config_module.AUTO_LENGTH_PERCENTILE
    assert (text.AUTO_LENGTH_MIN, text.AUTO_LENGTH_MAX) == (
        config_module.AUTO_LENGTH_MIN,
        config_module.AUTO_LENGTH_MAX,
    )


# --- the pages ------------------------------------------------------------------------


def test_every_data_setting_is_drawn_on_prepare_as_declared(runs_dir, small_source) -> None:
    at = open_page(new_app(small_source), "prepare")
    assert_clean(at)
    assert not at.selectbox  # choices are radio buttons
    for name, spec in declared(SECTIONS["data"]):
        assert_drawn_as_declared(at, f"keep.prepare.{name}", spec)
    # the cap is unused until balancing by cap; it shows the declared example meanwhile
    cap = at.number_input(key="keep.prepare.cap_per_class")
    assert cap.disabled
    assert cap.value == dict(declared(SECTIONS["data"]))["cap_per_class"].example_value()
    at.radio(key="keep.prepare.balance").set_value("cap").run()
    assert not at.number_input(key="keep.prepare.cap_per_class").disabled
    # the widest shares the declaration allows reach the Prepare page's config
    at.slider(key="keep.prepare.test_size").set_value(0.05)
    at.slider(key="keep.prepare.val_size").set_value(0.95)
    at.number_input(key="keep.prepare.cap_per_class").set_value(400).run()
    assert_clean(at)
    data = at.session_state["data_config"]
    assert (data.test_size, data.val_size, data.cap_per_class) == (
        pytest.approx(0.05),
        pytest.approx(0.95),
        400,
    )


def test_every_model_and_train_setting_is_drawn_on_train_as_declared(
    runs_dir, small_source
) -> None:
    at = open_page(new_app(small_source), "train")
    at.toggle(key="keep.train.edit_all").set_value(True).run()
    assert_clean(at)
    seen: set[tuple[str, str]] = set()
    for family in MODEL_FAMILIES:
        at.radio(key="keep.train.model.family").set_value(family).run()
        assert_clean(at)
        assert not at.selectbox
        for section in ("model", "train"):
            for name, spec in declared(SECTIONS[section]):
                if spec.families and family not in spec.families:
                    continue
                assert_drawn_as_declared(at, f"keep.train.{section}.{name}", spec)
                seen.add((section, name))
    assert seen == {
        (section, name) for section in ("model", "train") for name, _ in declared(SECTIONS[section])
    }


def test_an_unticked_auto_shows_the_declared_example(runs_dir, small_source) -> None:
    at = open_page(new_app(small_source), "train")
    at.toggle(key="keep.train.edit_all").set_value(True).run()
    batch = dict(declared(SECTIONS["train"]))["batch_size"]
    assert PRESETS["fast"].train.batch_size is None
    assert at.checkbox(key="keep.train.train.batch_size.auto").value is True
    assert at.number_input(key="keep.train.train.batch_size").value == batch.example_value()
    at.checkbox(key="keep.train.train.batch_size.auto").uncheck().run()
    assert_clean(at)
    assert "Batch size **auto**" not in " ".join(c.value for c in at.caption)
    at.toggle(key="keep.train.edit_all").set_value(False).run()
    assert f"Batch size **{batch.example_value():,}**" in " ".join(c.value for c in at.caption)


def _more_epochs_script() -> None:
    import streamlit as st

    from ui.core.settings_widgets import number_setting

    more = number_setting(
        "train", "epochs", key="keep.train.more_epochs", label="More epochs", initial=3
    )
    st.write(f"value {more}")


def test_a_declared_number_under_another_label_and_key() -> None:
    """The Train page's "More epochs" box: the declared range of ``epochs``."""
    at = AppTest.from_function(_more_epochs_script, default_timeout=RUN_TIMEOUT).run()
    assert_clean(at)
    epochs = dict(declared(SECTIONS["train"]))["epochs"]
    box = at.number_input(key="keep.train.more_epochs")
    assert (box.label, box.value, box.min, box.max) == ("More epochs", 3, 1, 1000)
    assert box.help == epochs.help
    box.set_value(1000).run()
    assert at.markdown[-1].value == "value 1000"
