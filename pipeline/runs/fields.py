"""Typed reading of a run's JSON documents: each wrong value names the file and the field.

:class:`FieldReader` wraps one JSON object of one file (``metrics.json``, ``run.json``, ...)
and reads its fields as the types a run record needs; :mod:`pipeline.runs.record` and
:mod:`pipeline.runs.results` parse every document through it, so a document of the wrong
shape is a :class:`~pipeline.core.errors.RunRecordError` that says where, never an
``AttributeError`` later.
"""

from __future__ import annotations

from typing import Any

from pipeline.core.errors import RunRecordError


class FieldReader:
    """Typed access to one JSON object of one file, with messages that say where."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise RunRecordError(f"{where} must be a JSON object, not {kind_of(raw)}.")
        self.raw = raw
        self.where = where

    def _fail(self, key: str, wanted: str) -> RunRecordError:
        return RunRecordError(
            f"{self.where}: {key!r} must be {wanted} (found {kind_of(self.raw.get(key))})."
        )

    def has(self, key: str) -> bool:
        """``key`` is there and not ``null``."""
        return key in self.raw and self.raw[key] is not None

    def text(self, key: str, default: str | None = None) -> str:
        """The string at ``key`` (``default`` when absent)."""
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        """The string at ``key``, or ``None`` when absent or ``null``."""
        return self.text(key) if self.has(key) else None

    def integer(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        """The integer at ``key`` (``default`` when absent), at least ``minimum``."""
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"an integer of at least {minimum}")
        return value

    def opt_integer(self, key: str, minimum: int = 0) -> int | None:
        """The integer at ``key``, or ``None`` when absent or ``null``."""
        return self.integer(key, minimum=minimum) if self.has(key) else None

    def number(self, key: str, default: float | None = None) -> float:
        """The number at ``key`` (``default`` when absent), as a float."""
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, "a number")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        """The number at ``key``, or ``None`` when absent or ``null``."""
        return self.number(key) if self.has(key) else None

    def share(self, key: str) -> float:
        """The number at ``key``, from 0 to 1."""
        value = self.number(key)
        if not 0.0 <= value <= 1.0:
            raise self._fail(key, "a number from 0 to 1")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        """The ``true``/``false`` at ``key`` (``default`` when absent)."""
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def obj(self, key: str, default: Any = None) -> FieldReader:
        """A reader of the JSON object at ``key`` (``default`` when absent)."""
        value = self.raw.get(key, default)
        if not isinstance(value, dict):
            raise self._fail(key, "a JSON object")
        return FieldReader(value, f"{self.where} {key}")

    def items(self, key: str) -> list[Any]:
        """The list at ``key``."""
        value = self.raw.get(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        """The string at ``key`` (``default`` when absent), one of ``choices``."""
        value = self.text(key, default)
        if value not in choices:
            raise RunRecordError(
                f"{self.where}: {key!r} must be one of {', '.join(choices)} (found {value!r})."
            )
        return value


def kind_of(value: Any) -> str:
    """What ``value`` is, in words, for a message: "a list", "nothing", ..."""
    if value is None:
        return "nothing"
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def number_at(value: Any, where: str) -> float:
    """``value`` as a float; :class:`RunRecordError` naming ``where`` if it is no number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RunRecordError(f"{where} must be a number (found {kind_of(value)}).")
    return float(value)
