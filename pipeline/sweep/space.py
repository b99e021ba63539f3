"""What a sweep searches: the searched settings, declared once, and their Ray Tune space.

Every searched setting is a declared setting of :mod:`pipeline.core.config`; its Tune domain
is built from its declaration (:class:`pipeline.core.settings.Setting`): a choice samples
among its choices, a float uniformly in steps of its declared step, an int among the
integers of its range, and a rate or a width on a log scale. Where the declared range
is the range a person may type rather than one worth sampling (a learning rate from
just above 0 to 1, a width from 1 to 1,024), :data:`SEARCHED` narrows it, always
inside the declaration (checked when the space is built).

A sampled setting that the sampled family does not use (an n-gram width for a CNN: see
``Setting.families``) keeps the preset's value, so two trials that build the same model
share one run id and one cached run. No Ray import at module level: the CLI builds its
parser from this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.core.config import SECTIONS, ExperimentConfig
from pipeline.core.errors import ConfigError
from pipeline.core.settings import Setting, coerce, declared

#: Significant digits a sampled float keeps: 0.15 rather than 0.15000000000000002 in the
#: run's config (and so in its id).
FLOAT_DIGITS = 4


@dataclass(frozen=True)
class Searched:
    """One searched setting: its name and, optionally, narrower bounds and a log scale.

    ``low`` and ``high`` (inclusive) default to the declaration's own bounds
    (:meth:`Setting.bounds`); ``log`` samples on a log scale (rates, widths).
    """

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False


#: The settings every sweep searches, unless fixed on the command line.
SEARCHED: tuple[Searched, ...] = (
    Searched("family"),
    Searched("learning_rate", low=3e-4, high=3e-2, log=True),
    Searched("ngram_dim", low=8, high=128, log=True),
    Searched("embedding_dim", low=16, high=256, log=True),
    Searched("dropout", high=0.7),
    Searched("weight_decay", high=2.0),
)


def declaration(name: str) -> Setting:
    """The :class:`Setting` declared for ``name`` in the data, model or train section."""
    for section in SECTIONS.values():
        specs = dict(declared(section))
        if name in specs:
            return specs[name]
    raise ConfigError(f"Unknown setting {name!r}.")


def family_choices(families: Sequence[str] | None = None) -> list[str]:
    """The families a sweep samples: ``families`` checked against the declared ones
    (all of them when ``None``); :class:`ConfigError` names an unknown one."""
    declared_families = list(declaration("family").choices)
    if families is None:
        return declared_families
    unknown = [name for name in families if name not in declared_families]
    if unknown or not families:
        problem = f"Unknown model family {', '.join(unknown)!r}" if unknown else "No family"
        raise ConfigError(
            f"{problem} in --families; choose among {', '.join(declared_families)} "
            "(comma-separated)."
        )
    return list(dict.fromkeys(families))


def searched_names(families: Sequence[str] | None = None, fixed: Iterable[str] = ()) -> list[str]:
    """Names of the settings a sweep over ``families`` samples: :data:`SEARCHED`, less
    those ``fixed`` on the command line and those that none of the families uses."""
    held = set(fixed)
    sampled = set(family_choices(families))
    return [
        item.name
        for item in SEARCHED
        if item.name not in held
        and (not declaration(item.name).families or sampled & set(declaration(item.name).families))
    ]


def tune_space(families: Sequence[str] | None = None, fixed: Iterable[str] = ()) -> dict:
    """The Ray Tune ``param_space``: one domain per setting of :func:`searched_names`.

    ``families`` restricts the family choice (see :func:`family_choices`).
    """
    from ray import tune

    space: dict[str, Any] = {}
    names = searched_names(families, fixed)
    for item in SEARCHED:
        if item.name not in names:
            continue
        spec = declaration(item.name)
        if spec.kind == "choice":
            choices = family_choices(families) if item.name == "family" else list(spec.choices)
            space[item.name] = tune.choice(choices)
            continue
        low, high = _bounds(item, spec)
        if spec.kind == "int":
            low, high = int(low), int(high)
            # randint and lograndint exclude their upper bound
            space[item.name] = (tune.lograndint if item.log else tune.randint)(low, high + 1)
        elif item.log:
            space[item.name] = tune.loguniform(low, high)
        elif spec.step:
            space[item.name] = tune.quniform(low, high, spec.step)
        else:
            space[item.name] = tune.uniform(low, high)
    return space


def trial_config(base: ExperimentConfig, sampled: Mapping[str, Any]) -> ExperimentConfig:
    """``base`` with a trial's sampled settings, checked; the settings that the trial's
    family does not use keep ``base``'s values."""
    family = sampled.get("family", base.model.family)
    overrides = {}
    for name, value in sampled.items():
        spec = declaration(name)
        if spec.families and family not in spec.families:
            continue
        if spec.kind == "float":
            value = float(f"{float(value):.{FLOAT_DIGITS}g}")
        overrides[name] = value
    return base.with_overrides(**overrides).validate()


def applied_settings(config: ExperimentConfig, names: Iterable[str]) -> dict[str, Any]:
    """The values of the settings ``names`` that ``config``'s family uses (the family
    itself left out): what a leaderboard row shows of a trial."""
    sections = {"data": config.data, "model": config.model, "train": config.train}
    shown = {}
    for name in names:
        spec = declaration(name)
        if name == "family" or (spec.families and config.model.family not in spec.families):
            continue
        section = next(s for s in sections.values() if name in dict(declared(s)))
        shown[name] = getattr(section, name)
    return shown


def _bounds(item: Searched, spec: Setting) -> tuple[float, float]:
    """``item``'s sampling bounds: its own, else the declaration's; both must be allowed."""
    declared_low, declared_high = spec.bounds()
    low = item.low if item.low is not None else declared_low
    high = item.high if item.high is not None else declared_high
    if low is None or high is None or not low < high or (item.log and low <= 0):
        raise ConfigError(f"The sweep's range of {item.name} needs bounds low < high.")
    coerce(item.name, spec, low)  # a range outside the declaration is a bug here
    coerce(item.name, spec, high)
    return low, high
