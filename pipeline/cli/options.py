"""The flags several commands share, and reading them back: the data options, one flag
per setting, the dataset and settings they name, and the default run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.core.config import SECTIONS
from pipeline.core.presets import DEFAULT_PRESET, PRESET_DESCRIPTIONS, PRESETS
from pipeline.core.settings import declared


def data_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--data``, ``--text-col`` and ``--label-col`` to ``parser``."""
    parser.add_argument("--data", help="CSV, CSV.gz or newsCorpora.csv (default: bundled UCI)")
    parser.add_argument("--text-col", help="text column of a non-UCI file")
    parser.add_argument("--label-col", help="label column of a non-UCI file")


def training_options(parser: argparse.ArgumentParser) -> None:
    """One flag per declared setting (``pipeline.core.config``), plus ``--preset`` and
    ``--seed``."""
    group = parser.add_argument_group("settings (default: the preset's)")
    group.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=DEFAULT_PRESET,
        help="; ".join(f"{name}: {text}" for name, text in PRESET_DESCRIPTIONS.items()).replace(
            "%", "%%"
        ),
    )
    group.add_argument("--group-by", choices=["story"], help="same as --split story")
    group.add_argument("--seed", help="seed of both the data split and the training")
    for section_name, section in SECTIONS.items():
        for name, spec in declared(section):
            flag = name if name != "seed" else f"{section_name}_seed"
            group.add_argument(
                "--" + flag.replace("_", "-"),
                dest=f"setting_{flag}",
                metavar=spec.kind.upper()
                if spec.kind != "choice"
                else "{" + ",".join(spec.choices) + "}",
                # argparse %-formats help strings: a literal % must be written %%
                help=f"{spec.label}: {spec.help} ({spec.allowed()})".replace("%", "%%"),
            )


def load_data(args: argparse.Namespace) -> Any:
    """The dataset the data options of ``args`` name (default: the bundled UCI data)."""
    from pipeline.data import load_dataset, load_default_dataset

    if args.data is None:
        return load_default_dataset()
    return load_dataset(Path(args.data), text_col=args.text_col, label_col=args.label_col)


def setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, as strings for ``get_preset`` to check."""
    overrides = {
        key.removeprefix("setting_"): value
        for key, value in vars(args).items()
        if key.startswith("setting_") and value is not None
    }
    if args.group_by:
        overrides["split"] = "story"
    if args.seed is not None:
        overrides.setdefault("data_seed", args.seed)
        overrides.setdefault("train_seed", args.seed)
    return overrides


def newest_complete(registry: Any) -> str:
    """The id of the newest complete run in ``registry`` (a ``RunRegistry``); raises
    ``RunNotFoundError`` when it has none."""
    from pipeline.core.errors import RunNotFoundError

    for run in registry.list_runs():
        if run.status == "complete":
            return run.run_id
    raise RunNotFoundError(
        f"No complete run in {registry.root}; train one first: python -m pipeline train"
    )
