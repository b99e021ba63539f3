"""The flags several commands share, and reading them back: the data options, one flag
per setting, the dataset and settings they name, and the default run."""

from __future__ import annotations

import argparse
import sys
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
                setting_flag(flag),
                dest=f"setting_{flag}",
                metavar=spec.kind.upper()
                if spec.kind != "choice"
                else "{" + ",".join(spec.choices) + "}",
                # argparse %-formats help strings: a literal % must be written %%
                help=f"{spec.label}: {spec.help} ({spec.allowed()})".replace("%", "%%"),
            )


def setting_flag(name: str, value: str | None = None) -> str:
    """The flag of the setting ``name`` (``test_size`` -> ``--test-size``), with ``value``
    after it when given (``--test-set stratified``)."""
    flag = "--" + name.replace("_", "-")
    return flag if value is None else f"{flag} {value}"


def load_data(args: argparse.Namespace, *, raw: Any = None, tell_notes: bool = True) -> Any:
    """The dataset the data options of ``args`` name (default: the bundled UCI data).

    ``raw``, a :class:`~pipeline.data.RawTable` already read, is used instead of reading
    ``args.data`` again. What reading left out or changed (rows without a label, a file
    decoded as Latin-1, ...) is printed to stderr as ``note: ...`` lines unless
    ``tell_notes`` is false (``inspect`` lists them in its report). A column that cannot be
    found raises :class:`~pipeline.core.errors.DatasetError` naming the flag to pass.
    """
    from pipeline.core.errors import ColumnChoiceError, DatasetError
    from pipeline.data import load_dataset, load_default_dataset

    try:
        if raw is None and args.data is None:
            dataset = load_default_dataset()
        else:
            source = raw if raw is not None else Path(args.data)
            dataset = load_dataset(source, text_col=args.text_col, label_col=args.label_col)
    except ColumnChoiceError as exc:
        raise DatasetError(
            f"{exc.problem} Pass one of those with {setting_flag(exc.role + '_col')}."
        ) from None
    if tell_notes:
        for note in dataset.notes:
            print(f"note: {note}", file=sys.stderr)
    return dataset


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
