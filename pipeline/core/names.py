"""Class display names as charts, tables and the report show them: one per class code,
never two alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def unique_display_names(
    codes: Sequence[str], label_names: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``{code: display name}``, unique: a name two codes share gets its code."""
    names = {code: (label_names or {}).get(code, code) for code in codes}
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name] = seen.get(name, 0) + 1
    return {code: name if seen[name] == 1 else f"{name} ({code})" for code, name in names.items()}
