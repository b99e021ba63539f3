"""Declaring a setting once: its type, range or choices, label and help text.

Every field of the config dataclasses in :mod:`pipeline.core.config` is made with
:func:`setting`, which stores a :class:`Setting` in the field's metadata. That one
declaration drives three things:

* validation (:func:`coerce` and :func:`validate_fields`): a wrong type and a wrong
  value get the same message, naming the setting, the allowed values and an example;
* the command line (``pipeline.cli`` makes one ``--flag`` per setting);
* the Train and Prepare pages (``ui.core.settings_widgets`` draws one widget per setting:
  its label, range (:meth:`Setting.bounds`), step, help, and for an optional setting
  the value shown when "auto" is unticked (:meth:`Setting.example_value`)).

No TensorFlow, no Streamlit: this module is imported by the first page.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from pipeline.core.errors import ConfigError

SETTING_KEY = "headline_lab_setting"
#: Strings that mean ``None`` ("automatic") for an optional number.
_AUTO = frozenset({"", "auto", "none"})


@dataclass(frozen=True)
class Setting:
    """What a config field accepts and how a person edits it.

    Attributes
    ----------
    kind : {"int", "float", "choice", "bool"}
        The value's type. ``choice`` values are strings from ``choices``.
    label : str
        Short name for a widget or a table column.
    help : str
        One sentence for ``--help`` and the widget's tooltip.
    minimum, maximum : float, optional
        Inclusive bounds of ``int`` and ``float`` values.
    exclusive_minimum, exclusive_maximum : bool
        Whether a bound itself is refused (e.g. a fraction in (0, 1)).
    choices : tuple of str
        The allowed values of a ``choice``.
    choice_labels : dict of str to str
        How each choice is shown to people (default: the value itself).
    optional : bool
        ``None`` is allowed (it means "automatic" or "not set"; see ``help``).
    step : float, optional
        The widget's step; an exclusive bound moves one step inward in a widget.
    example : str
        A valid value, quoted in error messages; for an optional setting also the
        value its widget shows when "auto" is unticked.
    families : tuple of str
        The model families this setting applies to (empty: all).
    slider : bool
        Drawn as a slider rather than a number box (a share with a short range).
    """

    kind: str
    label: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    choices: tuple[str, ...] = ()
    choice_labels: dict[str, str] = dataclasses.field(default_factory=dict)
    optional: bool = False
    step: float | None = None
    example: str = ""
    families: tuple[str, ...] = ()
    slider: bool = False

    def allowed(self) -> str:
        """The allowed values in words, e.g. ``"an integer from 1 to 1,000"``."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        noun = "an integer" if self.kind == "int" else "a number"
        low = self.minimum
        high = self.maximum
        if low is not None and high is not None:
            left = "above" if self.exclusive_minimum else "from"
            right = "below" if self.exclusive_maximum else "to"
            text = f"{noun} {left} {_number(low)} {right} {_number(high)}"
        elif low is not None:
            text = f"{noun} {'above' if self.exclusive_minimum else '>='} {_number(low)}"
        else:
            text = noun
        return text + (" (or empty for automatic)" if self.optional else "")

    def bounds(self) -> tuple[float | None, float | None]:
        """The smallest and largest values a widget offers (``None``: unbounded).

        The declared bounds, each moved one ``step`` inward when it is exclusive (one
        for an ``int`` without a step), so every value a widget offers is allowed:
        a share in (0, 1) with step 0.05 is offered from 0.05 to 0.95.
        """
        nudge = self.step if self.step else (1 if self.kind == "int" else 0)
        low, high = self.minimum, self.maximum
        if low is not None and self.exclusive_minimum:
            low = round(low + nudge, 12)
        if high is not None and self.exclusive_maximum:
            high = round(high - nudge, 12)
        return low, high

    def example_value(self) -> Any:
        """:attr:`example` as a value of the setting's type (``None`` without one).

        What an optional setting's widget shows when its "auto" box is unticked, and
        the Prepare page's cap per class before one was chosen.
        """
        if not self.example:
            return None
        return coerce(self.label, self, self.example)

    def label_of(self, value: Any) -> str:
        """How ``value`` is shown to people: "auto" for ``None``, a choice's label,
        "yes"/"no", an int with thousands separators, a float to 4 significant digits."""
        if value is None:
            return "auto"
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "int":
            return f"{int(value):,}"
        if self.kind == "float":
            return f"{float(value):.4g}"
        return self.choice_labels.get(str(value), str(value))


def setting(default: Any, kind: str, label: str, help: str, **options: Any) -> Any:
    """A dataclass field whose metadata declares the setting (see :class:`Setting`)."""
    return dataclasses.field(
        default=default,
        metadata={SETTING_KEY: Setting(kind=kind, label=label, help=help, **options)},
    )


def declared(section: Any) -> list[tuple[str, Setting]]:
    """``(field name, Setting)`` of every declared field of a config class or object."""
    return [
        (f.name, f.metadata[SETTING_KEY])
        for f in dataclasses.fields(section)
        if SETTING_KEY in f.metadata
    ]


def coerce(name: str, spec: Setting, raw: Any) -> Any:
    """``raw`` (a value, or a string from a command line) as the setting's type.

    Raises :class:`ConfigError` with one message for a wrong type and a wrong value:
    ``"<name> must be <allowed> (got <raw>); e.g. <example>."``.
    """
    blank = spec.kind != "choice" and isinstance(raw, str) and raw.strip().lower() in _AUTO
    if raw is None or blank:
        if spec.optional:
            return None
        raise _bad(name, spec, raw)
    try:
        value = _convert(spec, raw)
    except (TypeError, ValueError):
        raise _bad(name, spec, raw) from None
    if not _in_range(spec, value):
        raise _bad(name, spec, raw)
    return value


def validate_fields(section: Any) -> None:
    """Check every declared field of a config object; raise the first problem."""
    for name, spec in declared(section):
        value = getattr(section, name)
        if not _typed(spec, value):
            raise _bad(name, spec, value)
        coerce(name, spec, value)


def _typed(spec: Setting, value: Any) -> bool:
    if value is None:
        return spec.optional
    if spec.kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if spec.kind == "int":
        return isinstance(value, int)
    if spec.kind == "float":
        return isinstance(value, int | float)
    return isinstance(value, str)


def _convert(spec: Setting, raw: Any) -> Any:
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"true", "1", "yes", "on"}:
            return True
        if text in {"false", "0", "no", "off"}:
            return False
        raise ValueError(raw)
    if spec.kind == "choice":
        if not isinstance(raw, str) or raw not in spec.choices:
            raise ValueError(raw)
        return raw
    if isinstance(raw, bool):
        raise TypeError(raw)
    if spec.kind == "int":
        if isinstance(raw, float):
            if not raw.is_integer():
                raise ValueError(raw)
            return int(raw)
        if isinstance(raw, int):
            return raw
        text = str(raw).strip().replace("_", "").replace(",", "")
        return int(text)
    value = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _in_range(spec: Setting, value: Any) -> bool:
    if spec.kind not in {"int", "float"}:
        return True
    if spec.minimum is not None and (
        value < spec.minimum or (spec.exclusive_minimum and value == spec.minimum)
    ):
        return False
    return not (
        spec.maximum is not None
        and (value > spec.maximum or (spec.exclusive_maximum and value == spec.maximum))
    )


def _bad(name: str, spec: Setting, raw: Any) -> ConfigError:
    example = f"; e.g. {spec.example}" if spec.example else ""
    return ConfigError(f"{name} must be {spec.allowed()} (got {raw!r}){example}.")


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
