"""The warning, before training, that some classes would get too few test rows to score:
on Prepare (from the splits it shows) and on Train (from the same prepared splits, cached).

The rule is :func:`pipeline.core.class_sizes.thin_classes`, the one Results warns by after
training; this module only words it, with the remedies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import streamlit as st

from pipeline.core.class_sizes import (
    MIN_TEST_ROWS_PER_CLASS,
    thin_classes,
    thin_classes_listing,
    thin_classes_remedy,
)
from pipeline.core.config import DataConfig
from pipeline.core.errors import HeadlineLabError
from pipeline.core.settings import declared
from ui.core.data import prepared_data
from ui.core.numbers import format_count
from ui.core.state import get_dataset_source
from ui.core.text import escape_markdown

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.core.preparation import PreparationSummary


def prepare_setting(name: str, value: str | None = None) -> str:
    """Markdown: the Prepare page's setting ``name`` by its label (``**Test share**``), with
    the short label of its choice ``value`` when given (``**Test set**: Stratified``); the
    app's words for :func:`pipeline.core.class_sizes.thin_classes_remedy`."""
    spec = dict(declared(DataConfig))[name]
    if value is None:
        return f"**{spec.label}**"
    return f"**{spec.label}**: {spec.label_of(value).split(' (')[0]}"


def thin_classes_remedy_text(config: DataConfig, *, on_prepare: bool = False) -> str:
    """Markdown: what to do about classes with too few test rows, for data prepared with
    ``config`` (:func:`~pipeline.core.class_sizes.thin_classes_remedy`), and where the
    settings it names are unless ``on_prepare`` (drawn on that page)."""
    remedy = thin_classes_remedy(config, prepare_setting)
    return remedy if on_prepare else f"{remedy} These settings are on Prepare."


def thin_classes_warning(
    test_rows: Mapping[str, int],
    config: DataConfig,
    label_names: Mapping[str, str] | None = None,
    *,
    on_prepare: bool = False,
) -> str | None:
    """Markdown: which classes of ``test_rows`` (``{code: rows in the test split}``) would
    get fewer than :data:`~pipeline.core.class_sizes.MIN_TEST_ROWS_PER_CLASS` test rows with
    the data settings ``config``, and what to do about it; ``None`` when every class gets
    enough. Names are escaped; ``on_prepare``: drawn on Prepare, beside the settings."""
    thin = thin_classes(test_rows)
    if not thin:
        return None
    names = label_names or {}
    listing = thin_classes_listing(thin, lambda code: escape_markdown(names.get(code, code)))
    return (
        f"**{format_count(len(thin))} of {format_count(len(test_rows))} "
        f"class{'' if len(test_rows) == 1 else 'es'}** would get fewer than "
        f"{MIN_TEST_ROWS_PER_CLASS} test rows: {listing}. Their precision, recall and F1 "
        f"would be too noisy to trust. {thin_classes_remedy_text(config, on_prepare=on_prepare)}"
    )


def show_thin_classes_warning(
    test_rows: Mapping[str, int],
    config: DataConfig,
    label_names: Mapping[str, str] | None = None,
    *,
    on_prepare: bool = False,
) -> None:
    """Draw :func:`thin_classes_warning` as a warning box, if there is one."""
    text = thin_classes_warning(test_rows, config, label_names, on_prepare=on_prepare)
    if text:
        st.warning(text, icon=":material/warning:")


def warn_before_training(config: DataConfig) -> None:
    """The Train page's warning for the active dataset prepared with ``config``: the
    prepared splits are the Prepare page's (cached, shared). Nothing is loaded for the
    default settings on the bundled data, where every class gets thousands of test rows
    (the page's first draw on a cold server stays free of pandas). Settings that cannot
    be prepared say nothing here: Start training reports them."""
    if get_dataset_source().is_default and config == DataConfig():
        return
    try:
        prepared = prepared_data(config)
    except HeadlineLabError:
        return
    show_thin_classes_warning(
        prepared.summary.split_class_counts.test, config, prepared.label_names
    )


def per_class_split_table(
    summary: PreparationSummary, display: Callable[[str], str]
) -> pd.DataFrame:
    """Prepare's table of every class: rows ``loaded``, rows ``kept`` after balancing
    (0 for a class dropped as too small) and rows in ``train``, ``validation`` and
    ``test``, biggest loaded first. ``summary`` is a prepared summary
    (:attr:`pipeline.data.prepare.PreparedData.summary`); ``display`` names a label code."""
    import pandas as pd

    loaded = summary.class_counts_before
    kept = summary.class_counts_after
    splits = summary.split_class_counts
    codes = sorted(loaded, key=lambda code: (-int(loaded[code]), code))
    return pd.DataFrame(
        {
            "class": [display(code) for code in codes],
            "loaded": [int(loaded[code]) for code in codes],
            "kept": [int(kept.get(code, 0)) for code in codes],
            **{
                name: [int(splits.of(name).get(code, 0)) for code in codes]
                for name in ("train", "validation", "test")
            },
        }
    )
